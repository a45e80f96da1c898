/*
 * os/fd.c -- plain descriptors: opening to append, writing, closing.
 */
#include "os/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int os_fd_write(int fd, const void *buf, size_t len)
{
    ssize_t n = write(fd, buf, len);
    if (n < 0)
        return errno;
    return (size_t)n == len ? 0 : EIO;
}

int os_fd_open_append(const char *path, int *fd)
{
    int f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

void os_fd_close(int fd)
{
    if (fd >= 0)
        close(fd);
}
