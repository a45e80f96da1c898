/*
 * os/uffd.c -- userfaultfd: open, feature detection, and the ioctls.
 *
 * The installed kernel headers may be older than the running kernel, so the
 * newer constants are defined here when missing; features are always
 * detected at run time, never assumed from the headers.
 */
#include "os/uffd.h"
#include "os/fd.h"
#include "os/page.h"
#include "os/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif

#ifndef UFFDIO_POISON
struct uffdio_poison {
    struct uffdio_range range;
    uint64_t mode;
    int64_t updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, 0x08, struct uffdio_poison)
#endif

#ifndef UFFDIO_MOVE
struct uffdio_move {
    uint64_t dst;
    uint64_t src;
    uint64_t len;
    uint64_t mode;
    int64_t move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, 0x05, struct uffdio_move)
#endif

static int sys_userfaultfd(int flags)
{
    return os_fd_above_std((int)syscall(SYS_userfaultfd, flags));
}

/* Opens a descriptor, kernel-mode faults included when allowed. */
static int open_fd(int *fd, int *user_mode_only)
{
    int f = sys_userfaultfd(O_CLOEXEC | O_NONBLOCK);
    *user_mode_only = 0;
    if (f < 0 && errno == EPERM) {
        /* vm.unprivileged_userfaultfd=0 and no CAP_SYS_PTRACE: only faults
         * taken in user mode may be handled. */
        f = sys_userfaultfd(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
        *user_mode_only = 1;
    }
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

int uffd_open(int want_sigbus, int *fd_out, unsigned *have_out)
{
    int umo = 0, fd = -1, err;

    /* The UFFDIO_API handshake can be done once per descriptor, so a probe
     * descriptor asks what the kernel offers, and the real one asks for what
     * we use. */
    if ((err = open_fd(&fd, &umo)) != 0)
        return err;
    struct uffdio_api api = { .api = UFFD_API, .features = 0 };
    if (ioctl(fd, UFFDIO_API, &api) < 0) {
        err = errno;
        close(fd);
        return err;
    }
    close(fd);
    uint64_t avail = api.features;

    unsigned have = umo ? 0 : UFFD_HAVE_KERNEL_MODE;
    if (avail & UFFD_FEATURE_PAGEFAULT_FLAG_WP)
        have |= UFFD_HAVE_WP;
    if (avail & UFFD_FEATURE_SIGBUS)
        have |= UFFD_HAVE_SIGBUS;
    if (avail & UFFD_FEATURE_WP_ASYNC)
        have |= UFFD_HAVE_WP_ASYNC;
    if (avail & UFFD_FEATURE_MOVE)
        have |= UFFD_HAVE_MOVE;
    if (avail & UFFD_FEATURE_POISON)
        have |= UFFD_HAVE_POISON;
    if (want_sigbus && !(have & UFFD_HAVE_SIGBUS))
        return ENOTSUP;

    uint64_t ask = 0;
    if (have & UFFD_HAVE_WP)
        ask |= UFFD_FEATURE_PAGEFAULT_FLAG_WP;
    if (want_sigbus)
        ask |= UFFD_FEATURE_SIGBUS;
    if (have & UFFD_HAVE_MOVE)
        ask |= UFFD_FEATURE_MOVE;
    if (have & UFFD_HAVE_POISON)
        ask |= UFFD_FEATURE_POISON;
    if ((err = open_fd(&fd, &umo)) != 0)
        return err;
    api = (struct uffdio_api){ .api = UFFD_API, .features = ask };
    if (ioctl(fd, UFFDIO_API, &api) < 0) {
        err = errno;
        close(fd);
        return err;
    }
    *fd_out = fd;
    *have_out = have;
    return 0;
}

void uffd_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

int uffd_register(int fd, uintptr_t addr, size_t len, int wp)
{
    struct uffdio_register reg = {
        .range = { .start = addr, .len = len },
        .mode = UFFDIO_REGISTER_MODE_MISSING | (wp ? UFFDIO_REGISTER_MODE_WP : 0),
    };
    return ioctl(fd, UFFDIO_REGISTER, &reg) < 0 ? errno : 0;
}

int uffd_unregister(int fd, uintptr_t addr, size_t len)
{
    struct uffdio_range range = { .start = addr, .len = len };
    return ioctl(fd, UFFDIO_UNREGISTER, &range) < 0 ? errno : 0;
}

int uffd_copy(int fd, uintptr_t dst, const void *src, size_t len, int wp,
              size_t *done)
{
    size_t total = 0;
    for (;;) {
        struct uffdio_copy c = {
            .dst = dst + total,
            .src = (uintptr_t)src + total,
            .len = len - total,
            .mode = wp ? UFFDIO_COPY_MODE_WP : 0,
        };
        int r = ioctl(fd, UFFDIO_COPY, &c);
        if (c.copy > 0)
            total += (size_t)c.copy;
        if (r == 0 && total >= len)
            break;
        if (r < 0 && errno != EAGAIN) {
            *done = total;
            return errno;
        }
        /* EAGAIN: the address space changed under us, or a partial copy;
         * go on from where it stopped. */
    }
    *done = total;
    return 0;
}

/* After a failed UFFDIO_MOVE, the pages it moved all the same, from the
 * start of [src, src+len): Linux 6.18 was seen (under load) to move a page
 * and answer EEXIST with nothing moved.  Believed, that page stays
 * "resident" in the caller's table with nothing mapped there (its next
 * touch faults for ever) and its contents are in a frame nobody owns.  The
 * destination was empty (the caller's rule, and the kernel's), so a page
 * is taken as moved when it is mapped at the destination and no longer at
 * the source; the moves go in order, so the count stops at the first page
 * that is not.  Mapped means present or swapped out (a move takes a
 * swapped-out page's entry along): pagemap tells both, mincore only the
 * first, so mincore is the fallback where pagemap cannot be read.  Nothing
 * is touched, so nothing faults. */
static size_t moved_after_failure(uintptr_t dst, uintptr_t src, size_t len)
{
    unsigned char d[64], s[64];
    size_t moved = 0;
    while (moved < len) {
        size_t n = (len - moved) / PAGE_SZ;
        if (n > sizeof d)
            n = sizeof d;
        if (!n)
            break;
        if (vm_mapped(dst + moved, n, d) || vm_mapped(src + moved, n, s)) {
            if (vm_resident(dst + moved, n, d) || vm_resident(src + moved, n, s))
                break;
        }
        for (size_t i = 0; i < n; i++) {
            if (!(d[i] & 1) || (s[i] & 1))
                return moved;
            moved += PAGE_SZ;
        }
    }
    return moved;
}

static long misreport; /* atomic: uffd_test_move_misreport */

void uffd_test_move_misreport(long n)
{
    __atomic_store_n(&misreport, n, __ATOMIC_RELEASE);
}

int uffd_move(int fd, uintptr_t dst, uintptr_t src, size_t len, size_t *done)
{
    size_t total = 0;
    for (;;) {
        struct uffdio_move m = { .dst = dst + total, .src = src + total, .len = len - total,
                                 .mode = 0 };
        int r = ioctl(fd, UFFDIO_MOVE, &m);
        if (m.move > 0 && __atomic_load_n(&misreport, __ATOMIC_ACQUIRE) > 0 &&
            __atomic_sub_fetch(&misreport, 1, __ATOMIC_ACQ_REL) >= 0) {
            m.move = -EEXIST;
            r = -1;
            errno = EEXIST;
        }
        if (m.move > 0)
            total += (size_t)m.move;
        if (r == 0 && total >= len)
            break;
        if (r < 0 && errno != EAGAIN) {
            int e = errno;
            *done = total + moved_after_failure(dst + total, src + total, len - total);
            return e;
        }
    }
    *done = total;
    return 0;
}

int uffd_zeropage(int fd, uintptr_t dst, size_t len, size_t *done)
{
    size_t total = 0;
    for (;;) {
        struct uffdio_zeropage z = {
            .range = { .start = dst + total, .len = len - total },
            .mode = 0,
        };
        int r = ioctl(fd, UFFDIO_ZEROPAGE, &z);
        if (z.zeropage > 0)
            total += (size_t)z.zeropage;
        if (r == 0 && total >= len)
            break;
        if (r < 0 && errno != EAGAIN) {
            *done = total;
            return errno;
        }
    }
    *done = total;
    return 0;
}

int uffd_poison(int fd, uintptr_t dst, size_t len)
{
    size_t total = 0;
    for (;;) {
        struct uffdio_poison p = {
            .range = { .start = dst + total, .len = len - total },
            .mode = 0,
        };
        int r = ioctl(fd, UFFDIO_POISON, &p);
        if (p.updated > 0)
            total += (size_t)p.updated;
        if (r == 0 && total >= len)
            return 0;
        if (r < 0 && errno != EAGAIN)
            return errno;
    }
}

int uffd_writeprotect(int fd, uintptr_t addr, size_t len, int wp)
{
    struct uffdio_writeprotect w = {
        .range = { .start = addr, .len = len },
        .mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
    };
    for (;;) {
        if (ioctl(fd, UFFDIO_WRITEPROTECT, &w) == 0)
            return 0;
        if (errno != EAGAIN)
            return errno;
    }
}

int uffd_wake(int fd, uintptr_t addr, size_t len)
{
    struct uffdio_range r = { .start = addr, .len = len };
    return ioctl(fd, UFFDIO_WAKE, &r) < 0 ? errno : 0;
}

int uffd_read_events(int fd, struct uffd_event *ev, int max)
{
    struct uffd_msg msg[64];
    if (max > 64)
        max = 64;
    ssize_t n = read(fd, msg, sizeof(msg[0]) * (size_t)max);
    if (n < 0)
        return errno == EAGAIN ? 0 : -errno;
    int count = 0;
    for (int i = 0; i < (int)(n / (ssize_t)sizeof(msg[0])); i++) {
        if (msg[i].event != UFFD_EVENT_PAGEFAULT)
            continue;
        uint64_t fl = msg[i].arg.pagefault.flags;
        ev[count].addr = (uintptr_t)msg[i].arg.pagefault.address;
        ev[count].write = (fl & UFFD_PAGEFAULT_FLAG_WRITE) != 0;
        ev[count].wp = (fl & UFFD_PAGEFAULT_FLAG_WP) != 0;
        count++;
    }
    return count;
}
