/*
 * section/vtable.h -- the page-state table of a page-file section, shared
 * by every process that maps the section.  It lives at the head of the
 * section's own memory (the memfd or the named object): a header page,
 * then one entry per page of the section, then the section's data, so a
 * process that maps the section finds its table where it finds its data.
 * The size CreateFileMapping/OpenFileMapping report is the data's.
 *
 * Each entry has a lock word (the holder's process id, 0 when free, taken
 * by compare-and-swap; a waiter takes over the lock of a holder that died),
 * the page's state, the count of view pages mapping it in all processes,
 * and the crc32c of its copy in the section's slot file.
 */
#ifndef VMEM_SECTION_VTABLE_H
#define VMEM_SECTION_VTABLE_H

#include <stddef.h>
#include <stdint.h>

#define VT_MAGIC 0x4c50564bu  /* "KVPL" */
#define VT_PATH_MAX 3968

/* A page's state. */
enum {
    VT_NEVER = 0,  /* never brought in: a hole, reads as zeros */
    VT_IN_RAM = 1, /* in the section's memory */
    VT_OUT = 2,    /* in the slot file only (its crc in the entry) */
};

struct vt_header {
    uint32_t magic;
    uint32_t version;
    uint64_t data_off;    /* where the data starts in the memory */
    uint64_t data_size;   /* the section's size */
    char slot_path[VT_PATH_MAX]; /* a named section's slot file, "" if none */
};

struct vt_entry {
    uint32_t lock;  /* holder's process id, 0 = free */
    uint32_t state; /* VT_* */
    uint32_t maps;  /* view pages mapping it, in every process */
    uint32_t crc;   /* crc32c of the slot's copy (VT_OUT) */
};

/* One process's map of a section's table. */
struct vtable {
    struct vt_header *hdr;
    struct vt_entry *ent;
    uint64_t npages;
    size_t map_len;
};

/* Where the data of a section of data_size bytes starts in its memory. */
uint64_t vt_data_off(uint64_t data_size);

/* A new section's memory at fd (sized vt_data_off + data_size, all zeros):
 * writes the header, naming slot_path ("" for none).  0 or errno. */
int vt_format(int fd, uint64_t data_size, const char *slot_path);

/* Reads the header of the memory at fd: its data offset and size, and the
 * slot path (path_cap bytes, may be NULL).  EINVAL: not a section's. */
int vt_probe(int fd, uint64_t *data_off, uint64_t *data_size, char *path, size_t path_cap);

/* Maps the table of the memory at fd (the library's own mapping). */
int vt_map(int fd, uint64_t data_off, uint64_t data_size, struct vtable *t);
void vt_unmap(struct vtable *t);

/* Takes and gives back an entry's lock.  A waiter that finds the holder
 * dead takes the lock over: the entry's state is always consistent
 * between the holder's steps (section/vpage.c orders them so). */
void vt_lock(struct vt_entry *e);
void vt_unlock(struct vt_entry *e);

#endif
