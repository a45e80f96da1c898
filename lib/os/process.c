/*
 * os/process.c -- the process id, and the pipes that watch forked children.
 */
#include "os/process.h"
#include "os/fd.h"

#include <stdlib.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <unistd.h>

pid_t os_pid(void)
{
    return getpid();
}

int os_pid_alive(pid_t pid)
{
    return !(kill(pid, 0) != 0 && errno == ESRCH);
}

void os_yield(void)
{
    sched_yield();
}

int os_pipe_open(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return errno;
    for (int k = 0; k < 2; k++)
        if ((fds[k] = os_fd_above_std(fds[k])) < 0) {
            int e = errno;
            if (fds[1 - k] >= 0)
                close(fds[1 - k]);
            return e;
        }
    return 0;
}

int os_pipe_hung_up(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

void os_abort(void)
{
    abort();
}

int os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    return pthread_atfork(prepare, parent, child);
}

int os_on_exit(void (*fn)(int status, void *arg), void *arg)
{
    return on_exit(fn, arg) == 0 ? 0 : ENOMEM;
}
