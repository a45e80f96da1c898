/*
 * os/wake.c -- waking a library thread (eventfd and poll; epoll with
 * EPOLLEXCLUSIVE for a group of threads serving one descriptor).
 */
#include "os/wake.h"
#include "os/fd.h"

/* read and write go to the kernel directly: with libvmem-syscalls or the
 * preload library, libc's names are the syscall guard's, which a wake-up
 * (sent from a SIGBUS handler too) must not go through. */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux 4.5; defined by glibc's header since 2.24, kept for older ones */
#ifndef EPOLLEXCLUSIVE
#define EPOLLEXCLUSIVE (1u << 28)
#endif

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

/* The tags of the two descriptors in a group waiter's events. */
enum { TAG_WAKE = 1, TAG_OTHER = 2 };

int os_wake_join(int *w, int fd, int other)
{
    int ep = os_fd_above_std(epoll_create1(EPOLL_CLOEXEC));
    if (ep < 0)
        return errno;
    /* the wake-up level-triggered and shared: a stop, never drained, is
     * seen by every waiter; `other` exclusive: one waiter per wake-up */
    struct epoll_event wake = { .events = EPOLLIN, .data.u32 = TAG_WAKE };
    struct epoll_event oth = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = TAG_OTHER };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &wake) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, other, &oth) < 0) {
        int e = errno;
        close(ep);
        return e;
    }
    *w = ep;
    return 0;
}

int os_wake_group_wait(int w, int timeout_ms)
{
    struct epoll_event ev[2];
    int n = epoll_wait(w, ev, 2, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    int seen = 0;
    for (int i = 0; i < n; i++)
        seen |= ev[i].data.u32 == TAG_WAKE ? OS_WAKE_SIGNALLED : OS_WAKE_OTHER;
    return seen;
}

void os_wake_leave(int w)
{
    if (w >= 0)
        close(w);
}
