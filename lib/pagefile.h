/*
 * pagefile.h -- the page file: 4 KiB slots in one file, and their I/O
 * through io_uring.  One page file per process.  Slots are numbered from 1;
 * 0 means "no slot".  Functions return 0 or a positive errno value.
 */
#ifndef VMEM_PAGEFILE_H
#define VMEM_PAGEFILE_H

#include <stddef.h>
#include <stdint.h>

/* Opens the page file.  where == NULL: an unlinked O_TMPFILE (mode 0600) in
 * $TMPDIR, else /var/tmp; a directory: an unlinked file there; otherwise a
 * new file at that path (EEXIST if it exists), mode 0600, removed at close.
 * O_DIRECT where the file system allows.  max_bytes 0: the file system's
 * free space, at most 64 GiB; fewer than 16 pages: EINVAL.  On failure a
 * one-line message naming the path goes into err. */
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

/* Reads npages slots from `first` into buf (page-aligned) as one I/O.
 * Allocates no memory (it runs in SIGBUS handlers in signal mode). */
int pagefile_read(uint32_t first, void *buf, size_t npages);

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

/* While held (a forked child may read the parent's slots), freed slots are
 * set aside; pagefile_hold(0) frees them. */
void pagefile_hold(int on);
int pagefile_held(void);

/* In a forked child: the file becomes the parent's, read-only (reads with
 * pread; frees do nothing; allocations fail; close never removes it). */
void pagefile_borrow(void);
int pagefile_is_borrowed(void);

/* Completion polling before sleeping, in microseconds (0: none). */
void pagefile_set_spin(unsigned us);

/* For tests: every `every`-th I/O of each thread fails with `err` (0 turns
 * it off); reads keep the file's content. */
void pagefile_inject_errors(unsigned every, int err);

#endif
