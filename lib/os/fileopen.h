/*
 * os/fileopen.h -- files the application names: opening by path (the
 * Win32 CreateFileA dispositions are built from these flags), the size,
 * and what kind of file it is.
 *
 * Rules shared by every function: any thread may call it; the return is 0
 * or a positive errno value.  Every descriptor is close-on-exec.
 */
#ifndef VMEM_OS_FILEOPEN_H
#define VMEM_OS_FILEOPEN_H

#include <stdint.h>

#define OS_OPEN_READ   0x01 /* read access */
#define OS_OPEN_WRITE  0x02 /* write access */
#define OS_OPEN_CREATE 0x04 /* create if missing (mode 0666 less the umask) */
#define OS_OPEN_EXCL   0x08 /* with CREATE: EEXIST if it exists */
#define OS_OPEN_TRUNC  0x10 /* empty it (needs WRITE) */
/* neither READ nor WRITE: a descriptor for fstat only (O_PATH) */

/* Any thread: opens path into *fd without waiting (O_NONBLOCK, cleared
 * once open); EISDIR for a directory, EACCES for anything else that is
 * not a regular file or a block device (a FIFO, a socket, a character
 * device). */
int os_file_open_path(const char *path, unsigned flags, int *fd);

/* Any thread: the size in bytes of the file at fd. */
int os_file_size(int fd, uint64_t *size);

/* Any thread: a new descriptor for the open file at fd (F_DUPFD_CLOEXEC). */
int os_file_dup(int fd, int *out);

/* Any thread: the identity of the file at path (as os_file_id of a
 * descriptor of it, os/file.h), 0 if there is none. */
uint64_t os_path_id(const char *path);

#endif
