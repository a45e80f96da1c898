/*
 * os/file.c -- thin wrappers over the file calls: open (O_TMPFILE),
 * mkostemp, unlink, stat, fstat, fstatvfs, fcntl, ftruncate, fallocate,
 * pread, pwrite, close and getcwd (a relative path made absolute).
 */
#include "os/file.h"
#include "os/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

int os_file_open_tmpfile(const char *dir, int *fd)
{
    int f = os_fd_above_std(open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

int os_file_make_unique(char *tmpl, int *fd)
{
    int f = os_fd_above_std(mkostemp(tmpl, O_CLOEXEC));
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

int os_file_open_rw(const char *path, int *fd)
{
    int f = os_fd_above_std(open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

int os_file_unlink(const char *path)
{
    return unlink(path) < 0 ? errno : 0;
}

int os_file_rename_noreplace(const char *from, const char *to)
{
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0 ? errno : 0;
}

int os_file_kind(const char *path, int *is_dir)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return errno;
    *is_dir = S_ISDIR(st.st_mode);
    return 0;
}

int os_file_close(int fd)
{
    return close(fd) < 0 ? errno : 0;
}

uint64_t os_file_id(int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return 0;
    return ((uint64_t)st.st_dev << 40) ^ (uint64_t)st.st_ino ^ ((uint64_t)1 << 63);
}

int os_file_disk_bytes(int fd, uint64_t *bytes)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return errno;
    *bytes = (uint64_t)st.st_blocks * 512;
    return 0;
}

int os_file_fs_free(int fd, uint64_t *bytes)
{
    struct statvfs vfs;
    if (fstatvfs(fd, &vfs) < 0)
        return errno;
    *bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    return 0;
}

int os_file_set_direct(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return errno;
    fl = on ? fl | O_DIRECT : fl & ~O_DIRECT;
    return fcntl(fd, F_SETFL, fl) < 0 ? errno : 0;
}

int os_file_truncate(int fd, off_t len)
{
    return ftruncate(fd, len) < 0 ? errno : 0;
}

int os_file_reserve(int fd, off_t off, off_t len)
{
    int err;
    while ((err = posix_fallocate(fd, off, len)) == EINTR)
        ;
    return err;
}

int os_file_punch(int fd, off_t off, off_t len)
{
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) < 0 ? errno : 0;
}

int os_file_next_data(int fd, off_t off, off_t *at)
{
    off_t r = lseek(fd, off, SEEK_DATA);
    if (r < 0)
        return errno;
    *at = r;
    return 0;
}

int os_file_read_at(int fd, void *buf, size_t len, off_t off, size_t *done)
{
    ssize_t r = pread(fd, buf, len, off);
    *done = r > 0 ? (size_t)r : 0;
    return r < 0 ? errno : 0;
}

int os_file_write_at(int fd, const void *buf, size_t len, off_t off, size_t *done)
{
    ssize_t r = pwrite(fd, buf, len, off);
    *done = r > 0 ? (size_t)r : 0;
    return r < 0 ? errno : 0;
}

/* A synchronous transfer to the end or the first error. */
static int transfer(int fd, int write, void *buf, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = write ? pwrite(fd, (char *)buf + done, len - done, off + (off_t)done)
                          : pread(fd, (char *)buf + done, len - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? errno : EIO;
        done += (size_t)r;
    }
    return 0;
}

int os_file_read_full(int fd, void *buf, size_t len, off_t off)
{
    return transfer(fd, 0, buf, len, off);
}

int os_file_write_full(int fd, const void *buf, size_t len, off_t off)
{
    return transfer(fd, 1, (void *)buf, len, off);
}

int os_file_absolute(const char *dir, char *out, size_t len)
{
    if (dir[0] == '/')
        return snprintf(out, len, "%s", dir) < (int)len ? 0 : ENAMETOOLONG;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return errno == ERANGE ? ENAMETOOLONG : errno;
    /* getcwd of a directory removed since: "(unreachable)/..." on old
     * kernels, ENOENT on new ones */
    if (cwd[0] != '/')
        return ENOENT;
    int n = snprintf(out, len, "%s/%s", strcmp(cwd, "/") ? cwd : "", dir);
    return n > 0 && (size_t)n < len ? 0 : ENAMETOOLONG;
}
