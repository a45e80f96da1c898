/*
 * os/fd.h -- plain descriptors: a file opened to append to, one write of a
 * buffer, closing.  What the library writes outside the page file (its log
 * line on stderr, the VMEM_REPORT counters).
 *
 * Returns are 0 or a positive errno value.
 */
#ifndef VMEM_OS_FD_H
#define VMEM_OS_FD_H

#include <stddef.h>
#include <stdint.h>

/* Any thread, async-signal-safe: one write(2) of buf (EPIPE returned, never
 * a SIGPIPE raised); EIO if the kernel took only part of it. */
int os_fd_write(int fd, const void *buf, size_t len);

/* Any thread: opens path write-only, appending, created 0644 if missing,
 * close-on-exec; *fd set on success. */
int os_fd_open_append(const char *path, int *fd);

/* Any thread: every descriptor libvmem creates goes through this, fd being
 * what the creating call returned (close-on-exec).  A descriptor numbered
 * 0, 1 or 2 -- the program closed its standard streams -- is moved to the
 * lowest free number from 3 (F_DUPFD_CLOEXEC) and the original closed, so
 * the program's stdin, stdout and stderr never reach libvmem's userfaultfd,
 * eventfds or files.  The floor is 3, not higher: nothing moves in the
 * usual case (no extra system call), and numbers stay low for programs
 * that select().  Returns the descriptor, or -1 with errno. */
int os_fd_above_std(int fd);

/* Any thread: a close-on-exec duplicate of fd numbered min or above (so a
 * program that closes or reuses fd keeps its own numbers), in *out. */
int os_fd_dup_high(int fd, int min, int *out);

/* Any thread, async-signal-safe: the device and inode of the file fd
 * names (to tell later whether the number still names it). */
int os_fd_identity(int fd, uint64_t *dev, uint64_t *ino);

/* Any thread: 1 if fd is a regular file that is empty, else 0. */
int os_fd_is_empty_file(int fd);

/* Any thread, async-signal-safe: closes fd (a negative fd is ignored). */
void os_fd_close(int fd);

#endif
