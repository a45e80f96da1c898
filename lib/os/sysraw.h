/*
 * os/sysraw.h -- the I/O system calls made straight to the kernel, never
 * through libc's wrappers of the same names, which a program may have
 * replaced (the system-call guard, libvmem-syscalls and the preload library
 * replace read, write & co. with wrappers that end here).
 *
 * Each returns as the system call does: the result, or -1 with errno set.
 * Each is async-signal-safe and may be called by any thread, holding any
 * lock of libvmem or none (a call on a descriptor that blocks then blocks
 * with the lock held: the caller decides).
 */
#ifndef VMEM_OS_SYSRAW_H
#define VMEM_OS_SYSRAW_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* read(2), write(2). */
ssize_t sysraw_read(int fd, void *buf, size_t n);
ssize_t sysraw_write(int fd, const void *buf, size_t n);

/* pread64(2), pwrite64(2) (off_t is 64-bit on x86-64). */
ssize_t sysraw_pread(int fd, void *buf, size_t n, off_t off);
ssize_t sysraw_pwrite(int fd, const void *buf, size_t n, off_t off);

/* readv(2), writev(2). */
ssize_t sysraw_readv(int fd, const struct iovec *iov, int n);
ssize_t sysraw_writev(int fd, const struct iovec *iov, int n);

/* sendto(2), recvfrom(2): send and recv are these with no address. */
ssize_t sysraw_sendto(int fd, const void *buf, size_t n, int flags,
                      const struct sockaddr *to, socklen_t tolen);
ssize_t sysraw_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                        socklen_t *fromlen);

/* The SO_TYPE of socket fd (SOCK_STREAM, SOCK_DGRAM ...) in *type; -1 with
 * errno (ENOTSOCK, EBADF ...) when fd is not a socket. */
int sysraw_socket_type(int fd, int *type);

#endif
