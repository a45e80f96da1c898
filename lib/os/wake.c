/*
 * os/wake.c -- waking a library thread (eventfd and poll).
 */
#include "os/wake.h"
#include "os/fd.h"

/* read and write go to the kernel directly: with libvmem-syscalls or the
 * preload library, libc's names are the syscall guard's, which a wake-up
 * (sent from a SIGBUS handler too) must not go through. */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

int os_wake_open(int *fd)
{
    int f = os_fd_above_std(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

void os_wake_signal(int fd)
{
    uint64_t one = 1;
    if (fd >= 0 && syscall(SYS_write, fd, &one, sizeof(one)) < 0)
        return; /* the counter is full: the thread is awake anyway */
}

int os_wake_wait(int fd, int other, int timeout_ms)
{
    struct pollfd p[2] = {
        { .fd = fd, .events = POLLIN },
        { .fd = other, .events = POLLIN }, /* a negative fd is ignored by poll */
    };
    if (poll(p, other >= 0 ? 2 : 1, timeout_ms) < 0)
        return errno == EINTR ? 0 : -errno;
    return (p[0].revents ? OS_WAKE_SIGNALLED : 0) |
           (other >= 0 && p[1].revents ? OS_WAKE_OTHER : 0);
}

int os_wake_drain(int fd)
{
    uint64_t v;
    if (syscall(SYS_read, fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return errno;
    return 0;
}

void os_wake_close(int fd)
{
    if (fd >= 0)
        close(fd);
}
