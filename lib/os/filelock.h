/*
 * os/filelock.h -- open-file-description locks (F_OFD_SETLK) on single
 * bytes of a file, as tokens of liveness between processes: a byte locked
 * through a descriptor stays locked while any descriptor of that open file
 * description is open, and the kernel releases it when the last one closes
 * -- at the latest when its process exits, before the process is a zombie,
 * and whatever PID namespace it lives in.
 *
 * Returns are 0 or a positive errno value unless said otherwise.
 */
#ifndef VMEM_OS_FILELOCK_H
#define VMEM_OS_FILELOCK_H

#include <stdint.h>

/* Any thread: a new open file description of the file open at fd (read-
 * write, close-on-exec, through /proc/self/fd) into *out, so its locks are
 * its own and not those of fd's description (which a forked child shares
 * with its parent). */
int os_filelock_reopen(int fd, int *out);

/* Any thread, never blocks: write-locks byte off of the file through fd's
 * description.  EAGAIN: another description holds it. */
int os_filelock_take(int fd, uint64_t off);

/* Any thread, never blocks: 1 if another open file description holds a
 * lock on byte off, 0 if none does; -errno if the kernel could not tell. */
int os_filelock_held(int fd, uint64_t off);

/* Any thread, never blocks: 1 if another open file description holds a
 * lock on any byte of [off, off + len), 0 if none does; -errno if the
 * kernel could not tell. */
int os_filelock_held_range(int fd, uint64_t off, uint64_t len);

#endif
