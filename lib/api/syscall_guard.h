/*
 * syscall_guard.h -- read, write & co. that work on managed memory whatever
 * the fault mode (syscall_guard.c), and their test hook.
 *
 * Exported from libvmem under these names only: libc's names are put in
 * their place by syscall_interpose.c, which libvmem-syscalls and the
 * preload library build in and libvmem does not.  Each takes the arguments
 * of the call it is named for and returns as it does (-1 and errno).  Any
 * thread: they take as_lock shared to look pages up, except in a thread
 * that holds it already, where they are the bare system call.
 */
#ifndef VMEM_SYSCALL_GUARD_H
#define VMEM_SYSCALL_GUARD_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

ssize_t syscall_guard_read(int fd, void *buf, size_t n);
ssize_t syscall_guard_write(int fd, const void *buf, size_t n);
ssize_t syscall_guard_pread(int fd, void *buf, size_t n, off_t off);
ssize_t syscall_guard_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t syscall_guard_readv(int fd, const struct iovec *iov, int n);
ssize_t syscall_guard_writev(int fd, const struct iovec *iov, int n);
ssize_t syscall_guard_sendto(int fd, const void *buf, size_t n, int flags,
                             const struct sockaddr *to, socklen_t tolen);
ssize_t syscall_guard_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                               socklen_t *fromlen);

/* Tests only: called by a guarded call after it has made the buffer's
 * pages present and right before the system call, where a concurrent trim
 * could take them away again.  NULL normally. */
extern void (*syscall_guard_before_call)(void);

#endif
