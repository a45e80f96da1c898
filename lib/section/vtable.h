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
 * Records: which pages each process counts, so the counts of a process
 * that ended without counting down (SIGKILL, exec, _exit, a normal exit
 * with pinned views) are taken back by the others.  Past the entries, a
 * page of VT_RECORDS owner words (the owner's token + 1; 0 = free;
 * VT_REAPING | the reaper's token + 1 while a survivor takes a dead one
 * back), then each record's bitmap, one bit per page of the section.  A
 * page's `maps` is the number of processes that count it: a process sets
 * its bit and adds one when its first view page maps the page, clears it
 * and subtracts one when its last lets go (this process's own count per
 * page is in struct vtable, private).  A bit changes only under the
 * page's entry lock, so a page is subtracted once for a dead record
 * however many survivors look at it; the owner word is claimed by
 * compare-and-swap, so one survivor takes a record back at a time (its
 * successor if it dies meanwhile).  A process takes a record with its
 * first view of the section and lets it go with its last.  Each record
 * also names the page whose entry its owner locked last (a process holds
 * one entry lock at a time): the reaper takes that lock over too and puts
 * the page in order, so a process that died in the middle of a step (a
 * trim's write, a fault) leaves no page in the memory for good.
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

/* Processes with views of one section at once (records, above). */
#define VT_RECORDS 128
#define VT_REAPING 0x80000000u

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
    uint32_t *owners;    /* the records' owner words (shared) */
    uint64_t *last;      /* per record: the page its owner locked last + 1
                            (shared; after the owner words) */
    uint64_t *bits;      /* the records' bitmaps (shared), `words` each */
    uint64_t words;
    int rec;             /* this process's record, -1: none (-2: a forked
                            child's to take at its first page, vtable.c) */
    uint32_t *held;      /* per page: this process's view pages mapping it
                            (its own memory, vpage_lock) */
    uint64_t counted;    /* pages with held > 0 (atomic: a trim's
                            write-out counts down off vpage_lock) */
    uint32_t out_held;   /* entries this process holds without vpage_lock
                            (a trim's write-out in flight; atomic) */
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
 * while of spinning (the caller lets go of its own locks and tries again),
 * or at once if this process holds it in a trim's write-out (out_held).
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

/* This process's record (vpage_lock held): 0, ENOMEM, or EUSERS when
 * VT_RECORDS other processes have views of the section (vt_reap first). */
int vt_record_take(struct vtable *t);

/* Lets go of this process's record once it counts no page (vpage_lock). */
void vt_record_put(struct vtable *t);

/* A view page of this process maps e's page / no longer does (entry
 * locked, vpage_lock held).  vt_count_down returns 1 when no process maps
 * the page any more (its count reached 0 through this call). */
void vt_count_up(struct vtable *t, struct vt_entry *e);
int vt_count_down(struct vtable *t, struct vt_entry *e);

/* 1 if vt_count_down of e now would bring the page to a map count of 0
 * (this process's last view page of it, no other process counting it).
 * Entry locked, vpage_lock held. */
int vt_last_count(const struct vtable *t, const struct vt_entry *e);

/* Takes back the records of processes that are gone (their token's byte
 * free): each page one counted is subtracted under its entry lock, and
 * unmapped(arg, entry, page) called, entry locked, for each page no
 * process maps then, and for the page the dead process locked last if no
 * process maps it (once more, maybe); the record is then free.  A page a
 * live process holds long (vt_trylock's EBUSY) leaves the record to a
 * later look, where it stopped.  One F_OFD_GETLK per record
 * in use.  Returns the records taken back.  vpage_lock held (one entry
 * lock at a time). */
unsigned vt_reap(struct vtable *t, void (*unmapped)(void *arg, struct vt_entry *e, uint64_t pg),
                 void *arg);

/* 1 if another process has the table mapped (holds a token) or the
 * kernel cannot tell, 0 if none does: the section dies with this
 * process's last reference. */
int vt_shared(const struct vtable *t);

/* fork: vtable_lock held across it (after vpage_lock).  In the child every
 * mapped table gets a token of its own, before any entry lock is taken
 * (the parent's token's description is shared with the child), and a
 * record of its own if the parent had one, counting nothing yet (the
 * child's mappings have no pages; vpage.c counts its pinned views). */
void vt_fork_prepare(void);
void vt_fork_parent(void);
void vt_fork_child(void);

#endif
