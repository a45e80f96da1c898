/*
 * os/sysraw.c -- I/O system calls made with syscall(2) (see os/sysraw.h).
 */
#include "os/sysraw.h"

#include <sys/syscall.h>
#include <unistd.h>

ssize_t sysraw_read(int fd, void *buf, size_t n)
{
    return syscall(SYS_read, fd, buf, n);
}

ssize_t sysraw_write(int fd, const void *buf, size_t n)
{
    return syscall(SYS_write, fd, buf, n);
}

ssize_t sysraw_pread(int fd, void *buf, size_t n, off_t off)
{
    return syscall(SYS_pread64, fd, buf, n, off);
}

ssize_t sysraw_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return syscall(SYS_pwrite64, fd, buf, n, off);
}

ssize_t sysraw_readv(int fd, const struct iovec *iov, int n)
{
    return syscall(SYS_readv, fd, iov, n);
}

ssize_t sysraw_writev(int fd, const struct iovec *iov, int n)
{
    return syscall(SYS_writev, fd, iov, n);
}

ssize_t sysraw_sendto(int fd, const void *buf, size_t n, int flags,
                      const struct sockaddr *to, socklen_t tolen)
{
    return syscall(SYS_sendto, fd, buf, n, flags, to, tolen);
}

ssize_t sysraw_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                        socklen_t *fromlen)
{
    return syscall(SYS_recvfrom, fd, buf, n, flags, from, fromlen);
}

int sysraw_socket_type(int fd, int *type)
{
    socklen_t len = sizeof(*type);
    return (int)syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, type, &len);
}
