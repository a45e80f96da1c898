/*
 * os/uffd_minor.c -- userfaultfd on shared memory (os/uffd_minor.h).  The
 * installed kernel headers may predate minor faults: their constants are
 * defined here when missing, and the feature is detected at run time.
 */
#include "os/uffd_minor.h"
#include "os/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_MINOR_SHMEM
#define UFFD_FEATURE_MINOR_SHMEM (1 << 10)
#endif
#ifndef UFFD_PAGEFAULT_FLAG_MINOR
#define UFFD_PAGEFAULT_FLAG_MINOR (1 << 2)
#endif
#ifndef UFFDIO_REGISTER_MODE_MINOR
#define UFFDIO_REGISTER_MODE_MINOR ((__u64)1 << 2)
#endif
#ifndef UFFDIO_CONTINUE
struct uffdio_continue {
    struct uffdio_range range;
    uint64_t mode;
    int64_t mapped;
};
#define UFFDIO_CONTINUE _IOWR(UFFDIO, 0x07, struct uffdio_continue)
#endif

static int open_fd(void)
{
    int f = os_fd_above_std((int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
    if (f < 0 && errno == EPERM) /* only faults taken in user mode, then */
        f = os_fd_above_std(
            (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
    return f;
}

int uffd_minor_open(int *fd_out)
{
    int fd = open_fd();
    if (fd < 0)
        return errno;
    struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_MINOR_SHMEM };
    if (ioctl(fd, UFFDIO_API, &api) < 0) {
        int err = errno;
        close(fd);
        return err == EINVAL ? ENOTSUP : err; /* a feature the kernel lacks */
    }
    *fd_out = fd;
    return 0;
}

int uffd_minor_register(int fd, uintptr_t addr, size_t len)
{
    struct uffdio_register reg = {
        .range = { .start = addr, .len = len },
        .mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR,
    };
    return ioctl(fd, UFFDIO_REGISTER, &reg) < 0 ? errno : 0;
}

#ifndef UFFDIO_CONTINUE_MODE_DONTWAKE
#define UFFDIO_CONTINUE_MODE_DONTWAKE ((__u64)1 << 0)
#endif

/* UFFDIO_CONTINUE over [addr, addr+len) with `mode`, past partial maps
 * (EAGAIN). */
static int continue_range(int fd, uintptr_t addr, size_t len, __u64 mode)
{
    size_t total = 0;
    for (;;) {
        struct uffdio_continue c = { .range = { .start = addr + total, .len = len - total },
                                     .mode = mode };
        int r = ioctl(fd, UFFDIO_CONTINUE, &c);
        if (c.mapped > 0)
            total += (size_t)c.mapped;
        if (r == 0 && total >= len)
            return 0;
        if (r < 0 && errno != EAGAIN)
            return errno;
    }
}

int uffd_continue(int fd, uintptr_t addr, size_t len)
{
    return continue_range(fd, addr, len, 0);
}

int uffd_continue_nowake(int fd, uintptr_t addr, size_t len)
{
    return continue_range(fd, addr, len, UFFDIO_CONTINUE_MODE_DONTWAKE);
}

int uffd_copy_nowake(int fd, uintptr_t dst, const void *src, size_t len)
{
    size_t total = 0;
    for (;;) {
        struct uffdio_copy c = { .dst = dst + total, .src = (uintptr_t)src + total,
                                 .len = len - total, .mode = UFFDIO_COPY_MODE_DONTWAKE };
        int r = ioctl(fd, UFFDIO_COPY, &c);
        if (c.copy > 0)
            total += (size_t)c.copy;
        if (r == 0 && total >= len)
            return 0;
        if (r < 0 && errno != EAGAIN)
            return errno;
    }
}

int uffd_zeropage_nowake(int fd, uintptr_t dst, size_t len)
{
    size_t total = 0;
    for (;;) {
        struct uffdio_zeropage z = { .range = { .start = dst + total, .len = len - total },
                                     .mode = UFFDIO_ZEROPAGE_MODE_DONTWAKE };
        int r = ioctl(fd, UFFDIO_ZEROPAGE, &z);
        if (z.zeropage > 0)
            total += (size_t)z.zeropage;
        if (r == 0 && total >= len)
            return 0;
        if (r < 0 && errno != EAGAIN)
            return errno;
    }
}

int uffd_minor_read(int fd, struct uffd_minor_event *ev, int max)
{
    struct uffd_msg msg[32];
    if (max > 32)
        max = 32;
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
        ev[count].minor = (fl & UFFD_PAGEFAULT_FLAG_MINOR) != 0;
        count++;
    }
    return count;
}
