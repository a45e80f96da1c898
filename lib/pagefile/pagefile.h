/*
 * pagefile.h -- the page file: 4 KiB slots in one file, and their I/O
 * through io_uring.  One page file per process.  Slots are numbered from 1;
 * 0 means "no slot".  Functions return 0 or a positive errno value.
 *
 * The layer's interface: file.c (the file, open and close), slots.c,
 * hold.c (fork), io.c and inject.c (test hooks) implement it.
 */
#ifndef VMEM_PAGEFILE_H
#define VMEM_PAGEFILE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The largest page file: slots are numbered in 31 bits (a resident page's
 * slot with the 32nd set names a compressed-store entry instead, core/pte.h:
 * PTE_SLOT_STORE; the last page of 8 TiB goes unused, slot 0 meaning
 * "none"). */
#define PAGEFILE_MAX_BYTES ((uint64_t)1 << 43)

/* Opens the page file.  where == NULL: an unlinked O_TMPFILE (mode 0600) in
 * $TMPDIR, else /var/tmp; a directory: an unlinked file there (O_TMPFILE, or
 * mkstemp and unlink); a path that does not exist: created (O_EXCL, 0600)
 * and unlinked at once.  An existing non-directory path: EEXIST, untouched.
 * Nothing is ever left behind.  O_DIRECT where the file system allows.
 * max_bytes 0: the file system's free space, at most 64 GiB; fewer than 16
 * pages or above PAGEFILE_MAX_BYTES: EINVAL.  On failure a one-line message naming the path goes into
 * err. */
int pagefile_open(const char *where, uint64_t max_bytes, char *err, size_t errlen);
void pagefile_close(void);

uint64_t pagefile_capacity(void);  /* slots in all */
uint64_t pagefile_used(void);      /* slots allocated now */
uint64_t pagefile_peak(void);      /* most ever allocated at once */
int pagefile_is_direct(void);      /* 1 if O_DIRECT is in use */
uint64_t pagefile_disk_bytes(void); /* blocks the file occupies on disk */

/* A run of n consecutive free slots, lowest first (so neighbours stay
 * neighbours on disk); ENOSPC if there is none. */
int pagefile_alloc(size_t n, uint32_t *first);

/* Frees [first, first+n) and punches its blocks out of the file. */
void pagefile_free(uint32_t first, size_t n);

/* Reads npages slots from `first` into buf (page-aligned) as one I/O, and
 * checks each page against the crc32c recorded when its slot was written:
 * EBADMSG on a mismatch (counted in checksum_errors), EIO on a short read.
 * Allocates no memory (it runs in SIGBUS handlers in signal mode). */
int pagefile_read(uint32_t first, void *buf, size_t npages);

/* Reads several runs of slots at once, all in flight together on this
 * thread's ring (at most PF_READ_BATCH_MAX): each entry's npages slots from
 * .slot into its page-aligned .buf, checked as pagefile_read checks them.
 * done(entry, ctx) runs on this thread as each read finishes, .result set
 * (0 or an errno value), while later ones may still be in flight; returns
 * once every entry was handed to done.  Readahead's (fault/readahead.c):
 * never in a signal handler. */
#define PF_READ_BATCH_MAX 64u
struct pf_read {
    uint32_t slot;
    void *buf;
    size_t npages;
    int result;
    void *tag; /* the caller's */
};
void pagefile_read_batch(struct pf_read *r, size_t n, void (*done)(struct pf_read *r, void *ctx),
                         void *ctx);

/* Checksums on (the default) or off (VMEM_PAGEFILE_CHECKSUM=off). */
void pagefile_set_checksum(int on);
/* This thread's bounce buffer for page-ins: PF_BOUNCE_PAGES pages,
 * page-aligned (for O_DIRECT), made on first use (NULL if out of memory)
 * and released with the thread's ring when the thread exits. */
#define PF_BOUNCE_PAGES 512u
void *pagefile_bounce(void);

/* Writes each entry (npages slots from .slot, from page-aligned .buf),
 * submitting them together; each gets its .result; returns the first error. */
struct pf_write {
    uint32_t slot;
    const void *buf;
    size_t npages;
    int result;
};
int pagefile_write_batch(struct pf_write *w, size_t n);

/* I/O on another file through this thread's ring and engine (a section's
 * slot file, section/vpage.c): each entry moves len bytes (a multiple of a
 * page) at off (a page multiple) of fd to or from page-aligned buf, so an
 * O_DIRECT descriptor takes them.  The entries are submitted together, at
 * most a ring's depth at a time; each gets its .result (0, EIO when the
 * file ends first, or the errno); returns the first error.  No checksum
 * (the caller keeps its own); the injected errors (pagefile_inject_errors)
 * apply to each entry.  Allocates nothing; any thread, in signal mode also
 * in a SIGBUS handler. */
struct pf_fd_io {
    int fd;
    int write;
    void *buf;
    size_t len;
    int64_t off;
    int result;
};
int pagefile_fd_io(struct pf_fd_io *io, size_t n);

/* In a forked child, on the forking thread: its ring is the parent's
 * (shared memory); forgotten without touching it, a fresh one made on
 * the next I/O. */
void pagefile_forget_ring(void);

/* While held (a forked child may read the parent's slots), freed slots are
 * set aside; pagefile_hold(0) frees them. */
void pagefile_hold(int on);
int pagefile_held(void);
/* 1 while an ended hold's set-aside slots are still being freed (the
 * working-set manager may be doing it while another thread sees the hold
 * over). */
int pagefile_hold_ending(void);

/* In a forked child: the file becomes the parent's, read-only (reads with
 * pread; frees do nothing; allocations fail; close never removes it). */
void pagefile_borrow(void);
int pagefile_is_borrowed(void);

/* Completion polling before sleeping, in microseconds (0: none). */
void pagefile_set_spin(unsigned us);

/* For tests: every `every`-th I/O of each thread fails with `err` (0 turns
 * it off); reads keep the file's content. */
void pagefile_inject_errors(unsigned every, int err);

/* For tests: a device that lies.  Every `every`-th write entry (0: none),
 * once acknowledged, is undone on disk (PF_LIE_DROP: the slots get back what
 * they held before) or has one byte flipped (PF_LIE_FLIP). */
enum { PF_LIE_FLIP = 1, PF_LIE_DROP = 2 };
void pagefile_inject_lies(unsigned every, int kind);

/* For tests: the next io_uring submission made while requests are already
 * in flight fails with err; and the requests this thread has submitted and
 * not yet reaped (0 whenever no page-file call is running on it). */
void pagefile_inject_submit_error(int err);
unsigned pagefile_thread_inflight(void);

/* For tests: called by pagefile_free between dropping slot_lock and
 * punching the hole, so a test can run a competing allocation there. */
extern void (*pagefile_test_free_hook)(uint32_t first, size_t n);

/* Its lock, for the fork handlers only (fork_paging.c: the order). */
pthread_mutex_t *pagefile_fork_lock(void);

#endif
