/*
 * syscall_guard.c -- system calls that read or write managed memory, when
 * the kernel cannot deliver their faults to libvmem.
 *
 * A system call that touches a page that is not installed takes a fault in
 * kernel mode.  In fault mode `thread`, with a userfaultfd that may take
 * kernel-mode faults (root, or vm.unprivileged_userfaultfd=1), the fault
 * thread serves it like any other.  Otherwise -- fault mode `signal`
 * (UFFD_FEATURE_SIGBUS), or a user-mode-only userfaultfd -- the call fails
 * with EFAULT.  The wrappers below make the common calls work anyway: the
 * buffer's managed pages are touched first from user space, where the
 * fault is served, and a call that still fails with EFAULT (a page trimmed
 * again meanwhile) is touched and retried.
 *
 * They replace libc's functions of the same names (this library is
 * searched before libc) and go to the kernel with syscall(2); when no guard
 * is needed they cost one branch.  Calls that glibc makes internally (stdio)
 * and other system calls are not covered: see docs/paging.md.
 */
#include "os/uffd.h"
#include "prot.h"
#include "pte.h"
#include "region.h"
#include "runtime.h"
#include "vmem_internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define RETRIES 8

/* Called at start-up: it also makes a static link of libvmem take this file
 * (and so these functions) whenever it takes the runtime, even when a
 * sanitizer's runtime, linked first, defines the same names. */
int syscall_guard_linked(void)
{
    return 1;
}

/* 1 when a kernel-mode fault on managed memory would fail with EFAULT.
 * Never for the library's own calls made under as_lock (log messages, the
 * working-set manager's wake-ups): their buffers are never managed memory,
 * and looking them up would take the lock again. */
static int guard_needed(void)
{
    return runtime_ready() && uses_uffd() && as_lock_depth == 0 &&
           (vmem_rt.mode == VMEM_FAULT_SIGNAL || !(vmem_rt.uffd_have & UFFD_HAVE_KERNEL_MODE));
}

/* Touches the managed pages of [addr, addr + len) from user space, so they
 * are installed: a read where the kernel will read the buffer, an atomic
 * add of zero where it will write it (which also opens a write-protected
 * page, and cannot undo a concurrent write).  Never holds as_lock while
 * touching: the touch may fault. */
__attribute__((no_sanitize_address, no_sanitize_thread))
static void touch(const void *addr, size_t len, int kernel_writes)
{
    if (!len)
        return;
    uintptr_t a = round_down((uintptr_t)addr, PAGE_SZ);
    uintptr_t end = (uintptr_t)addr + len;
    int need = kernel_writes ? PROT_WRITE : PROT_READ;
    for (; a < end; a += PAGE_SZ) {
        /* only committed pages the access is allowed on: a page the call
         * may not touch must still fail with EFAULT, not raise a signal
         * here (nor spring a guard page) */
        as_lock_shared();
        struct region *r = region_find(a);
        const struct pte *p = r ? pte_get(&r->ptes, region_page(r, a)) : NULL;
        int ok = p && p->state != PTE_RESERVED && (prot_to_posix(p->prot) & need);
        as_unlock();
        if (!ok)
            continue;
        uintptr_t q = a < (uintptr_t)addr ? (uintptr_t)addr : a;
        if (kernel_writes)
            __atomic_fetch_add((volatile char *)q, 0, __ATOMIC_RELAXED);
        else
            (void)*(volatile const char *)q;
    }
}

static void touch_iov(const struct iovec *iov, int n, int kernel_writes)
{
    for (int i = 0; i < n; i++)
        touch(iov[i].iov_base, iov[i].iov_len, kernel_writes);
}

/* Runs CALL; where a guard is needed, touches first and retries on EFAULT. */
#define GUARDED(TOUCH, CALL)                                   \
    do {                                                       \
        if (!guard_needed())                                   \
            return CALL;                                       \
        ssize_t r_ = -1;                                       \
        for (int try_ = 0; try_ < RETRIES; try_++) {           \
            TOUCH;                                             \
            r_ = CALL;                                         \
            if (r_ >= 0 || errno != EFAULT)                    \
                break;                                         \
        }                                                      \
        return r_;                                             \
    } while (0)

VMEM_API ssize_t write(int fd, const void *buf, size_t n)
{
    GUARDED(touch(buf, n, 0), syscall(SYS_write, fd, buf, n));
}

VMEM_API ssize_t read(int fd, void *buf, size_t n)
{
    GUARDED(touch(buf, n, 1), syscall(SYS_read, fd, buf, n));
}

/* The positioned calls are defined by their symbol names: with 64-bit file
 * offsets the headers bind pread and pwrite to pread64 and pwrite64, which
 * on x86-64 are the same calls, and both names must be covered. */
VMEM_API ssize_t guard_pwrite64(int fd, const void *buf, size_t n, off_t off)
    __asm__("pwrite64");
VMEM_API ssize_t guard_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    GUARDED(touch(buf, n, 0), syscall(SYS_pwrite64, fd, buf, n, off));
}

VMEM_API ssize_t guard_pread64(int fd, void *buf, size_t n, off_t off) __asm__("pread64");
VMEM_API ssize_t guard_pread64(int fd, void *buf, size_t n, off_t off)
{
    GUARDED(touch(buf, n, 1), syscall(SYS_pread64, fd, buf, n, off));
}

VMEM_API ssize_t guard_pwrite(int fd, const void *buf, size_t n, off_t off) __asm__("pwrite");
VMEM_API ssize_t guard_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return guard_pwrite64(fd, buf, n, off);
}

VMEM_API ssize_t guard_pread(int fd, void *buf, size_t n, off_t off) __asm__("pread");
VMEM_API ssize_t guard_pread(int fd, void *buf, size_t n, off_t off)
{
    return guard_pread64(fd, buf, n, off);
}

VMEM_API ssize_t writev(int fd, const struct iovec *iov, int n)
{
    GUARDED(touch_iov(iov, n, 0), syscall(SYS_writev, fd, iov, n));
}

VMEM_API ssize_t readv(int fd, const struct iovec *iov, int n)
{
    GUARDED(touch_iov(iov, n, 1), syscall(SYS_readv, fd, iov, n));
}

VMEM_API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    GUARDED(touch(buf, n, 0), syscall(SYS_sendto, fd, buf, n, flags, NULL, 0));
}

VMEM_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    GUARDED(touch(buf, n, 1), syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL));
}

VMEM_API ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                        const struct sockaddr *to, socklen_t tolen)
{
    GUARDED(touch(buf, n, 0), syscall(SYS_sendto, fd, buf, n, flags, to, tolen));
}

VMEM_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                          socklen_t *fromlen)
{
    GUARDED(touch(buf, n, 1), syscall(SYS_recvfrom, fd, buf, n, flags, from, fromlen));
}
