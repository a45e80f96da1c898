/*
 * pagefile/io.h -- the I/O engine's set-up and the slots' checksums, for
 * file.c and hold.c (io.c does the I/O).
 */
#ifndef VMEM_PAGEFILE_IO_H
#define VMEM_PAGEFILE_IO_H

#include <stdint.h>

/* At open, outside any signal handler: what the engine needs made once
 * (the thread-exit key). */
void pf_io_prepare(void);

/* At close: this thread's ring is torn down, and every other thread's ring
 * lets go of the page file it registered (a ring holds its fixed file open:
 * the file, and the file system it is on, would stay busy until each
 * thread exits or does I/O again, when it replaces its ring for the new
 * generation). */
void pf_io_drop_ring(void);

/* In a forked child: this thread's ring is the parent's, and so are the
 * other threads' (gone in the child); forgotten without touching them. */
void pf_io_forget_ring(void);

/* Checksums for cap slots (NULL if out of address space), installed and
 * reset under slot_lock at open and close. */
uint32_t *pf_sums_make(uint64_t cap);
void pf_sums_install_locked(uint32_t *sums, uint64_t cap);
void pf_sums_reset_locked(void);

#endif
