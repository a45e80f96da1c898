/*
 * os/file.h -- files: making unlinked files, their identity, size and
 * blocks, flags, and synchronous reads and writes at an offset.
 *
 * Rules shared by every function: any thread may call it; the return is 0
 * or a positive errno value unless said otherwise.
 */
#ifndef VMEM_OS_FILE_H
#define VMEM_OS_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Any thread: an unnamed file in directory dir (O_TMPFILE | O_RDWR |
 * O_CLOEXEC, mode 0600) into *fd.  EOPNOTSUPP, EISDIR or EINVAL: the file
 * system cannot make one. */
int os_file_open_tmpfile(const char *dir, int *fd);

/* Any thread: path as an absolute path in out (len bytes): path itself when
 * it starts with '/', else the working directory joined with it.
 * ENAMETOOLONG if it does not fit, or getcwd's errno. */
int os_file_absolute(const char *path, char *out, size_t len);

/* Any thread: mkostemp(tmpl, O_CLOEXEC): a new file (mode 0600) under a
 * unique name that replaces tmpl's trailing XXXXXX, into *fd. */
int os_file_make_unique(char *tmpl, int *fd);

/* Any thread: opens the existing regular file at path read-write
 * (O_CLOEXEC, symbolic links not followed: ELOOP) into *fd. */
int os_file_open_rw(const char *path, int *fd);
/* Any thread: removes the name path (the open file stays). */
int os_file_unlink(const char *path);

/* Any thread: renames from to `to`, atomically, only if `to` does not
 * exist (EEXIST then; renameat2 RENAME_NOREPLACE). */
int os_file_rename_noreplace(const char *from, const char *to);

/* Any thread: whether path exists (0, *is_dir set) or not (ENOENT, or the
 * error that stopped the look-up); follows symbolic links. */
int os_file_kind(const char *path, int *is_dir);

/* Any thread, async-signal-safe: closes fd. */
int os_file_close(int fd);

/* Any thread, async-signal-safe: the identity (device and inode) of the
 * file open at fd, never 0; 0 if fd is not open.  A descriptor kept open
 * is checked with it before each use, since the application may close any
 * number and reuse it for a file of its own. */
uint64_t os_file_id(int fd);

/* Any thread: the blocks the file at fd occupies on disk, in bytes. */
int os_file_disk_bytes(int fd, uint64_t *bytes);

/* Any thread: the bytes free for an unprivileged user on fd's file system. */
int os_file_fs_free(int fd, uint64_t *bytes);

/* Any thread: O_DIRECT on (on != 0) or off for fd (fcntl F_SETFL). */
int os_file_set_direct(int fd, int on);

/* Any thread: sets the file's size to len bytes. */
int os_file_truncate(int fd, off_t len);

/* Any thread: allocates the blocks of [off, off+len) (posix_fallocate),
 * growing the file to off+len if it is shorter; ENOSPC when the file
 * system has not the room (part of the range may then be allocated). */
int os_file_reserve(int fd, off_t off, off_t len);

/* Any thread: gives [off, off+len) back to the file system (a hole; the
 * size stays). */
int os_file_punch(int fd, off_t off, off_t len);

/* Any thread: where the file's next data at or after off starts
 * (lseek SEEK_DATA) into *at; ENXIO if only holes follow. */
int os_file_next_data(int fd, off_t off, off_t *at);

/* Any thread, async-signal-safe: one pread or pwrite of len bytes at off;
 * *done receives the bytes moved, 0 at the end of the file.  EINTR and
 * EAGAIN are returned, not retried. */
int os_file_read_at(int fd, void *buf, size_t len, off_t off, size_t *done);
int os_file_write_at(int fd, const void *buf, size_t len, off_t off, size_t *done);

/* Any thread, async-signal-safe: all len bytes at off, by as many pread or
 * pwrite calls as it takes (EINTR retried); EIO when the file ends first. */
int os_file_read_full(int fd, void *buf, size_t len, off_t off);
int os_file_write_full(int fd, const void *buf, size_t len, off_t off);

#endif
