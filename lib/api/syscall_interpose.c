/*
 * syscall_interpose.c -- libc's read, write, pread, pwrite, readv, writev,
 * send, sendto, recv and recvfrom replaced by the guarded calls of
 * syscall_guard.c.
 *
 * Never part of libvmem: a program that links libvmem keeps libc's own
 * functions.  It is built into libvmem-syscalls, which a program links
 * (-lvmem-syscalls, before libc) to opt in, and into libvmem-preload.so,
 * where an unmodified program needs it.  Being searched before libc, these
 * definitions take the place of libc's for the whole process.
 */
#include "api/syscall_guard.h"
#include "core/vmem_internal.h"

#include <unistd.h>

/* Each is defined by its symbol name (an asm label), so that nothing above
 * lib/os/ is spelled as a kernel call: these define libc's names, and
 * reach the kernel through syscall_guard.c and lib/os/sysraw.c. */
VMEM_API ssize_t interpose_write(int fd, const void *buf, size_t n) __asm__("write");
VMEM_API ssize_t interpose_write(int fd, const void *buf, size_t n)
{
    return syscall_guard_write(fd, buf, n);
}

VMEM_API ssize_t interpose_read(int fd, void *buf, size_t n) __asm__("read");
VMEM_API ssize_t interpose_read(int fd, void *buf, size_t n)
{
    return syscall_guard_read(fd, buf, n);
}

/* With 64-bit file offsets the headers bind pread and pwrite to pread64
 * and pwrite64, which on x86-64 are the same calls, and both names must be
 * covered. */
VMEM_API ssize_t interpose_pwrite64(int fd, const void *buf, size_t n, off_t off)
    __asm__("pwrite64");
VMEM_API ssize_t interpose_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    return syscall_guard_pwrite(fd, buf, n, off);
}

VMEM_API ssize_t interpose_pread64(int fd, void *buf, size_t n, off_t off) __asm__("pread64");
VMEM_API ssize_t interpose_pread64(int fd, void *buf, size_t n, off_t off)
{
    return syscall_guard_pread(fd, buf, n, off);
}

VMEM_API ssize_t interpose_pwrite(int fd, const void *buf, size_t n, off_t off)
    __asm__("pwrite");
VMEM_API ssize_t interpose_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return syscall_guard_pwrite(fd, buf, n, off);
}

VMEM_API ssize_t interpose_pread(int fd, void *buf, size_t n, off_t off) __asm__("pread");
VMEM_API ssize_t interpose_pread(int fd, void *buf, size_t n, off_t off)
{
    return syscall_guard_pread(fd, buf, n, off);
}

VMEM_API ssize_t writev(int fd, const struct iovec *iov, int n)
{
    return syscall_guard_writev(fd, iov, n);
}

VMEM_API ssize_t readv(int fd, const struct iovec *iov, int n)
{
    return syscall_guard_readv(fd, iov, n);
}

VMEM_API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    return syscall_guard_sendto(fd, buf, n, flags, NULL, 0);
}

VMEM_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    return syscall_guard_recvfrom(fd, buf, n, flags, NULL, NULL);
}

VMEM_API ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                        const struct sockaddr *to, socklen_t tolen)
{
    return syscall_guard_sendto(fd, buf, n, flags, to, tolen);
}

VMEM_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                          socklen_t *fromlen)
{
    return syscall_guard_recvfrom(fd, buf, n, flags, from, fromlen);
}
