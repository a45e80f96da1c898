/*
 * os/fileopen.c -- open by path (never waiting on a FIFO), fstat,
 * fcntl(F_DUPFD_CLOEXEC).
 */
#include "os/fileopen.h"
#include "os/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int os_file_open_path(const char *path, unsigned flags, int *fd)
{
    int rw = flags & (OS_OPEN_READ | OS_OPEN_WRITE);
    /* O_NONBLOCK: opening a FIFO must not wait for its other end */
    int of = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    if (rw == (OS_OPEN_READ | OS_OPEN_WRITE))
        of |= O_RDWR;
    else if (rw == OS_OPEN_WRITE)
        of |= O_WRONLY;
    else if (rw == OS_OPEN_READ)
        of |= O_RDONLY;
    else
        of |= O_PATH;
    if (flags & OS_OPEN_CREATE)
        of |= O_CREAT | ((flags & OS_OPEN_EXCL) ? O_EXCL : 0);
    if (flags & OS_OPEN_TRUNC)
        of |= O_TRUNC;
    int f = os_fd_above_std(open(path, of, 0666));
    if (f < 0)
        return errno == ENXIO ? EACCES : errno; /* a FIFO with no reader */
    struct stat st;
    int e = fstat(f, &st) < 0 ? errno : 0;
    if (!e && S_ISDIR(st.st_mode))
        e = EISDIR;
    else if (!e && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        e = EACCES; /* FIFOs, sockets, character devices: nothing to map */
    else if (!e && rw && fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) < 0)
        e = errno;
    if (e) {
        close(f);
        return e;
    }
    *fd = f;
    return 0;
}

int os_file_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

int os_file_dup(int fd, int *out)
{
    int f = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (f < 0)
        return errno;
    *out = f;
    return 0;
}

uint64_t os_path_id(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return 0;
    return ((uint64_t)st.st_dev << 40) ^ (uint64_t)st.st_ino ^ ((uint64_t)1 << 63);
}
