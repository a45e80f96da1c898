/*
 * syscall_guard.c -- system calls that read or write managed memory, when
 * the kernel cannot deliver their faults to libvmem.
 *
 * A system call that touches a page that is not installed takes a fault in
 * kernel mode.  In fault mode `thread`, with a userfaultfd that may take
 * kernel-mode faults (root, or vm.unprivileged_userfaultfd=1), the fault
 * thread serves it like any other.  Otherwise -- fault mode `signal`
 * (UFFD_FEATURE_SIGBUS), or a user-mode-only userfaultfd -- the call fails
 * with EFAULT.  The guarded calls below make the common calls work anyway:
 * the buffer's managed pages are touched first from user space, where the
 * fault is served, and a call that still fails with EFAULT (a page trimmed
 * again meanwhile) is touched and retried.
 *
 * A receive on a message-oriented socket (UDP, a datagram or seqpacket
 * Unix socket) is never retried: the kernel dequeues the datagram before it
 * copies it out, and drops it when the copy fails.  Such a receive into
 * managed memory goes to a library buffer, which cannot fault, and is
 * copied to the caller's buffer afterwards from user space.
 *
 * They go to the kernel through os/sysraw.h; when no guard is needed they
 * cost one branch.  libvmem itself never puts them in the place of libc's
 * read, write & co.: syscall_interpose.c does, in libvmem-syscalls (a
 * program's opt-in) and in the preload library.  Calls that glibc makes
 * internally (stdio) and other system calls are not covered: see
 * docs/paging.md.
 */
#include "api/syscall_guard.h"
#include "core/internal_alloc.h"
#include "core/prot.h"
#include "core/pte.h"
#include "core/region.h"
#include "core/runtime.h"
#include "core/vmem_internal.h"
#include "os/sysraw.h"
#include "os/uffd.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>

#define RETRIES 8

void (*syscall_guard_before_call)(void);

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
            if (syscall_guard_before_call)                     \
                syscall_guard_before_call();                   \
            r_ = CALL;                                         \
            if (r_ >= 0 || errno != EFAULT)                    \
                break;                                         \
        }                                                      \
        return r_;                                             \
    } while (0)

/* What a receive buffer is made of: 0 no managed page; 1 managed pages, all
 * committed and writable; -1 a managed page the call may not write (the
 * call must fail with EFAULT, as the kernel decides). */
static int managed_span(const void *addr, size_t len)
{
    if (!len)
        return 0;
    int any = 0;
    uintptr_t a = round_down((uintptr_t)addr, PAGE_SZ), end = (uintptr_t)addr + len;
    as_lock_shared();
    for (; a < end && a >= round_down((uintptr_t)addr, PAGE_SZ); a += PAGE_SZ) {
        struct region *r = region_find(a);
        if (!r)
            continue;
        const struct pte *p = pte_get(&r->ptes, region_page(r, a));
        if (!p || p->state == PTE_RESERVED || !(prot_to_posix(p->prot) & PROT_WRITE)) {
            any = -1;
            break;
        }
        any = 1;
    }
    as_unlock();
    return any;
}

/* 1 if fd is a socket whose receives take whole messages. */
static int message_socket(int fd)
{
    int type = 0;
    if (sysraw_socket_type(fd, &type) < 0)
        return 0; /* not a socket */
    return type != SOCK_STREAM;
}

/* The scatter list of a receive: one buffer, or an iovec array. */
struct rx {
    const struct iovec *iov;
    int niov;
    struct iovec one;
};

static size_t rx_len(const struct rx *x)
{
    size_t n = 0;
    for (int i = 0; i < x->niov; i++)
        n += x->iov[i].iov_len;
    return n;
}

/* 1 if the receive must be bounced: a message socket and managed, writable
 * buffers (and address fields). */
static int must_bounce(int fd, const struct rx *x, const void *from, const socklen_t *fromlen)
{
    int m = 0;
    if (x->niov > IOV_MAX)
        return 0; /* the kernel refuses it: let it say so */
    for (int i = 0; i < x->niov && m >= 0; i++) {
        int k = managed_span(x->iov[i].iov_base, x->iov[i].iov_len);
        m = k < 0 ? -1 : (m | k);
    }
    if (m >= 0 && fromlen) {
        int k = managed_span(fromlen, sizeof(*fromlen));
        int l = k < 0 ? -1 : managed_span(from, *fromlen);
        m = k < 0 || l < 0 ? -1 : (m | k | l);
    }
    return m > 0 && message_socket(fd);
}

/* Receives one message into a library buffer and copies it out: the
 * kernel never writes managed memory, so it never fails half-way after
 * dequeuing.  Returns as recvfrom does. */
static ssize_t recv_bounced(int fd, const struct rx *x, int flags, struct sockaddr *from,
                            socklen_t *fromlen)
{
    size_t n = rx_len(x);
    size_t bytes = round_up(n ? n : 1, PAGE_SZ);
    uint8_t *b = ialloc_pages(bytes);
    if (!b) {
        errno = ENOMEM;
        return -1;
    }
    struct sockaddr_storage addr;
    socklen_t alen = fromlen ? *fromlen : 0, got_alen = sizeof(addr);
    if (syscall_guard_before_call)
        syscall_guard_before_call();
    ssize_t r = sysraw_recvfrom(fd, b, n, flags, fromlen ? (struct sockaddr *)&addr : NULL,
                                fromlen ? &got_alen : NULL);
    if (r >= 0) {
        /* with MSG_TRUNC the datagram's length may exceed the buffer */
        size_t left = (size_t)r < n ? (size_t)r : n;
        const uint8_t *src = b;
        for (int i = 0; i < x->niov && left; i++) {
            size_t k = x->iov[i].iov_len < left ? x->iov[i].iov_len : left;
            memcpy(x->iov[i].iov_base, src, k);
            src += k;
            left -= k;
        }
        if (fromlen) {
            memcpy(from, &addr, alen < got_alen ? alen : got_alen);
            *fromlen = got_alen;
        }
    }
    int saved = errno;
    ifree_pages(b, bytes);
    errno = saved;
    return r;
}

/* A guarded receive: bounced on a message socket, else touched and
 * retried like the other calls. */
#define GUARDED_RX(FD, RX, FLAGS, FROM, FROMLEN, TOUCH, CALL)          \
    do {                                                               \
        if (guard_needed() && must_bounce(FD, RX, FROM, FROMLEN))      \
            return recv_bounced(FD, RX, FLAGS, FROM, FROMLEN);         \
        GUARDED(TOUCH, CALL);                                          \
    } while (0)

static struct rx rx_one(void *buf, size_t n)
{
    struct rx x = { .niov = 1, .one = { buf, n } };
    return x;
}

VMEM_API ssize_t syscall_guard_write(int fd, const void *buf, size_t n)
{
    GUARDED(touch(buf, n, 0), sysraw_write(fd, buf, n));
}

VMEM_API ssize_t syscall_guard_read(int fd, void *buf, size_t n)
{
    struct rx x = rx_one(buf, n);
    x.iov = &x.one;
    GUARDED_RX(fd, &x, 0, NULL, NULL, touch(buf, n, 1), sysraw_read(fd, buf, n));
}

VMEM_API ssize_t syscall_guard_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    GUARDED(touch(buf, n, 0), sysraw_pwrite(fd, buf, n, off));
}

VMEM_API ssize_t syscall_guard_pread(int fd, void *buf, size_t n, off_t off)
{
    GUARDED(touch(buf, n, 1), sysraw_pread(fd, buf, n, off));
}

VMEM_API ssize_t syscall_guard_writev(int fd, const struct iovec *iov, int n)
{
    GUARDED(touch_iov(iov, n, 0), sysraw_writev(fd, iov, n));
}

VMEM_API ssize_t syscall_guard_readv(int fd, const struct iovec *iov, int n)
{
    struct rx x = { .iov = iov, .niov = n > 0 ? n : 0 };
    GUARDED_RX(fd, &x, 0, NULL, NULL, touch_iov(iov, n, 1), sysraw_readv(fd, iov, n));
}

VMEM_API ssize_t syscall_guard_sendto(int fd, const void *buf, size_t n, int flags,
                                      const struct sockaddr *to, socklen_t tolen)
{
    GUARDED(touch(buf, n, 0), sysraw_sendto(fd, buf, n, flags, to, tolen));
}

VMEM_API ssize_t syscall_guard_recvfrom(int fd, void *buf, size_t n, int flags,
                                        struct sockaddr *from, socklen_t *fromlen)
{
    struct rx x = rx_one(buf, n);
    x.iov = &x.one;
    GUARDED_RX(fd, &x, flags, from, fromlen, touch(buf, n, 1),
               sysraw_recvfrom(fd, buf, n, flags, from, fromlen));
}
