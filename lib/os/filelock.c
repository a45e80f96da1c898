/*
 * os/filelock.c -- open-file-description locks on single bytes
 * (os/filelock.h).
 */
#include "os/filelock.h"
#include "os/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

/* Linux 3.15; defined here for older libc headers */
#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#endif

int os_filelock_reopen(int fd, int *out)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int f = os_fd_above_std(open(path, O_RDWR | O_CLOEXEC));
    if (f < 0)
        return errno;
    *out = f;
    return 0;
}

static void bytes_at(struct flock *fl, uint64_t off, uint64_t len)
{
    memset(fl, 0, sizeof *fl); /* OFD locks need l_pid 0 */
    fl->l_type = F_WRLCK;
    fl->l_whence = SEEK_SET;
    fl->l_start = (off_t)off;
    fl->l_len = (off_t)len;
}

static void byte_at(struct flock *fl, uint64_t off) { bytes_at(fl, off, 1); }

int os_filelock_take(int fd, uint64_t off)
{
    struct flock fl;
    byte_at(&fl, off);
    if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    return errno == EACCES ? EAGAIN : errno;
}

int os_filelock_held(int fd, uint64_t off)
{
    struct flock fl;
    byte_at(&fl, off);
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
        return -errno;
    return fl.l_type != F_UNLCK;
}

int os_filelock_held_range(int fd, uint64_t off, uint64_t len)
{
    struct flock fl;
    bytes_at(&fl, off, len);
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
        return -errno;
    return fl.l_type != F_UNLCK;
}
