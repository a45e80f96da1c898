/*
 * os/process.h -- this process and its forked children: the process id, and
 * the pipes by which a parent learns that a child has exec'd or exited (the
 * child holds the write end, close-on-exec; the read end then hangs up).
 *
 * Returns are 0 or a positive errno value, except where a comment says
 * otherwise.
 */
#ifndef VMEM_OS_PROCESS_H
#define VMEM_OS_PROCESS_H

#include <sys/types.h>

/* Any thread, async-signal-safe: the process id. */
pid_t os_pid(void);

/* Any thread, async-signal-safe: 0 if process pid is gone (kill(pid, 0)
 * fails with ESRCH), else 1 (alive, or another user's). */
int os_pid_alive(pid_t pid);

/* Any thread, async-signal-safe: gives the CPU up (sched_yield), for a
 * lock word in shared memory another process holds. */
void os_yield(void);

/* Any thread, async-signal-safe: ends the process with SIGABRT (after a
 * library bug that leaves no safe way on). */
void os_abort(void) __attribute__((noreturn, cold));

/* Once, at start-up: handlers run around fork() (pthread_atfork).  0 or an
 * errno value. */
int os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

/* Once, at start-up: fn(status, arg) at exit() -- glibc's on_exit, which
 * gives the exit status (atexit does not).  0 or ENOMEM. */
int os_on_exit(void (*fn)(int status, void *arg), void *arg);

/* Any thread (the fork handlers): a pipe, both ends close-on-exec;
 * fds[0] reads, fds[1] writes. */
int os_pipe_open(int fds[2]);

/* Any thread, never blocks: 1 if every write end of the pipe whose read end
 * is fd is closed (or fd is in error), else 0. */
int os_pipe_hung_up(int fd);

#endif
