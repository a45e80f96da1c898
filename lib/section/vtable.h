/*
 * section/vtable.h -- the page-state table of a page-file section, shared
 * by every process that maps the section.  It lives at the head of the
 * section's own memory (the memfd or the named object): a header page,
 * then one entry per page of the section, then the section's data, so a
 * process that maps the section finds its table where it finds its data.
 * The size CreateFileMapping/OpenFileMapping report is the data's.
 *
 * Each entry has a lock word (the holder's token, 0 when free, taken by
 * compare-and-swap; a waiter takes over the lock of a holder that died),
 * the page's state, the count of view pages mapping it in all processes,
 * and the crc32c of its copy in the section's slot file.
 *
 * A process's token: every process that maps a table takes one, an
 * open-file-description lock on byte VT_TOKEN_BASE + i of the section's
 * memory through a descriptor of its own (os/filelock.h); its lock words
 * hold i + 1.  The kernel lets go of the byte when the process dies --
 * before it is a zombie, and in any PID namespace -- so a waiter that
 * finds the byte free knows the holder is gone.  Tokens are handed out
 * round the ring from a counter in the header, so a dead process's token
 * comes back only after 2^31 others.
 *
 * Locks: vtable_lock (vtable.c) guards this process's list of mapped
 * tables, for fork; it is taken last, nothing under it.
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
    uint32_t next_token;  /* where the next process looks for a token */
    uint32_t pad;
    uint64_t slot_id;     /* the slot file's os_file_id (device, inode) */
};

struct vt_entry {
    uint32_t lock;  /* holder's token + 1, 0 = free */
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
    int fd;              /* the memory (the section's descriptor) */
    uint64_t data_off;
    int tok_fd;          /* this process's own description of the memory */
    uint32_t token;      /* its token + 1 (what its lock words hold) */
    struct vtable *next; /* in the list of mapped tables (vtable_lock) */
};

/* Where tokens are in the memory's lock space (past any data). */
#define VT_TOKEN_BASE (1ull << 48)
#define VT_TOKENS 0x7fffffffu

/* Where the data of a section of data_size bytes starts in its memory. */
uint64_t vt_data_off(uint64_t data_size);

/* A new section's memory at fd (sized vt_data_off + data_size, all zeros):
 * writes the header, naming slot_path ("" for none) and the slot file's
 * os_file_id (0 for none).  0 or errno. */
int vt_format(int fd, uint64_t data_size, const char *slot_path, uint64_t slot_id);

/* Reads the header of the memory at fd: its data offset and size, the
 * slot path (path_cap bytes, may be NULL) and the slot file's identity
 * (slot_id may be NULL).  EINVAL: not a section's. */
int vt_probe(int fd, uint64_t *data_off, uint64_t *data_size, char *path, size_t path_cap,
             uint64_t *slot_id);

/* Maps the table of the memory at fd (the library's own mapping) and takes
 * this process's token.  No lock of libvmem held. */
int vt_map(int fd, uint64_t data_off, uint64_t data_size, struct vtable *t);
void vt_unmap(struct vtable *t);

/* Takes an entry's lock: 0, or EBUSY if a live process holds it after a
 * while of spinning (the caller lets go of its own locks and tries again).
 * A waiter that finds the holder dead takes the lock over and puts the
 * entry back in order: the holder's steps (section/vpage.c) leave the state
 * consistent except for a page OUT whose memory copy may be half written,
 * which is punched out (the slot file, checked by its crc, has the data). */
int vt_trylock(struct vtable *t, struct vt_entry *e);

/* Takes an entry's lock only if it is free now: 0, or EBUSY at once (no
 * spinning, no holder checked): for pages a fault reads beside its own. */
int vt_trylock_now(struct vtable *t, struct vt_entry *e);

/* Takes an entry's lock, waiting as long as its live holder keeps it. */
void vt_lock(struct vtable *t, struct vt_entry *e);
void vt_unlock(struct vt_entry *e);

/* fork: vtable_lock held across it (after vpage_lock).  In the child every
 * mapped table gets a token of its own, before any entry lock is taken
 * (the parent's token's description is shared with the child). */
void vt_fork_prepare(void);
void vt_fork_parent(void);
void vt_fork_child(void);

#endif
