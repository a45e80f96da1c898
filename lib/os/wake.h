/*
 * os/wake.h -- waking a library thread: an eventfd one side signals and the
 * thread waits on, with a timeout, and optionally on a second descriptor
 * (the userfaultfd of a fault thread).
 *
 * A waiter of a group (os_wake_join): one of several threads serving one
 * descriptor, each woken alone for it (EPOLLEXCLUSIVE) while a stop wakes
 * them all.
 *
 * The return is 0 or a positive errno value, except where a comment says
 * otherwise.
 */
#ifndef VMEM_OS_WAKE_H
#define VMEM_OS_WAKE_H

/* What os_wake_wait saw ready (bits). */
#define OS_WAKE_SIGNALLED 0x1 /* the wake-up descriptor was signalled */
#define OS_WAKE_OTHER     0x2 /* the second descriptor is readable (or failed) */

/* Any thread: opens a wake-up descriptor (non-blocking, close-on-exec) in *fd. */
int os_wake_open(int *fd);

/* Any thread, async-signal-safe (a fault's SIGBUS handler wakes the
 * working-set manager): signals fd.  Never blocks; a counter already full
 * means the waiter is awake anyway, so nothing is reported.  fd < 0: no-op. */
void os_wake_signal(int fd);

/* The waiting thread: sleeps until fd is signalled, `other` (>= 0) is
 * readable, or timeout_ms passes (-1: no limit).  Consumes nothing: a
 * signal stays pending until os_wake_drain, so several threads waiting on
 * one fd all see it (a stop).  Returns the OS_WAKE_* bits seen, 0 on
 * timeout or when a signal interrupted the wait, or -errno. */
int os_wake_wait(int fd, int other, int timeout_ms);

/* The waiting thread: consumes every signal pending on fd.  0 also when
 * none was pending. */
int os_wake_drain(int fd);

/* Any thread, once no thread waits on fd any more: closes it.  fd < 0: no-op. */
void os_wake_close(int fd);

/* A thread of a group serving `other` (e.g. the fault threads on the
 * userfaultfd): makes in *w a waiter of its own (an epoll instance,
 * close-on-exec) on the wake-up descriptor fd, which wakes every waiter
 * of the group, and on `other` exclusively: when `other` becomes readable
 * the kernel wakes one waiter that sleeps in os_wake_group_wait, not all
 * (a busy waiter is passed over: the next one sleeping is woken). */
int os_wake_join(int *w, int fd, int other);

/* The thread that made w: sleeps until fd is signalled or `other` is
 * readable (timeout_ms as os_wake_wait).  Returns the OS_WAKE_* bits seen,
 * 0 on timeout or interruption, or -errno. */
int os_wake_group_wait(int w, int timeout_ms);

/* The thread that made w, once it waits no more: closes it.  w < 0: no-op. */
void os_wake_leave(int w);

#endif
