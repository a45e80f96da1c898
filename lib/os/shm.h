/*
 * os/shm.h -- the memory of sections: unnamed memory files (memfd), POSIX
 * shared-memory objects by name, and the advisory locks (flock) that tell
 * whether another process still uses one.
 *
 * Rules shared by every function: any thread may call it; the return is 0
 * or a positive errno value.  Every descriptor is close-on-exec.
 */
#ifndef VMEM_OS_SHM_H
#define VMEM_OS_SHM_H

#include <stdint.h>

/* Any thread: a new unnamed memory file of 0 bytes (memfd_create; tag is
 * the name /proc shows), into *fd. */
int os_memfd(const char *tag, int *fd);

/* Any thread: opens the shared-memory object `name` ("/..." without other
 * slashes) read-write.  With `create`, makes it and fails with EEXIST if
 * it exists (mode 0600); without, ENOENT if it does not, and read-only
 * where its mode allows no more. */
int os_shm_open(const char *name, int create, int *fd);

/* Any thread: removes the name (the memory stays while open or mapped). */
int os_shm_unlink(const char *name);

/* Any thread: flock on fd.  OS_LOCK_SH and OS_LOCK_EX wait (EINTR
 * retried); with OS_LOCK_NB they return EWOULDBLOCK instead of waiting. */
#define OS_LOCK_SH 1
#define OS_LOCK_EX 2
#define OS_LOCK_UN 8
#define OS_LOCK_NB 4
int os_flock(int fd, int how);

/* Any thread: the permission bits (07777) of the file at fd; changing them. */
int os_file_mode(int fd, unsigned *mode);
int os_file_set_mode(int fd, unsigned mode);

/* Any thread: 0 if the file at fd is a regular file owned by this
 * process's effective user with no group or other access, else EACCES. */
int os_shm_check_own(int fd);

#endif
