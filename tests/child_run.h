/*
 * child_run.h -- runs a scenario that could hang or kill the process in a
 * forked child, or in a thread of its own (a forked child runs libvmem in
 * fault mode kernel, so scenarios that need userfaultfd run in a thread).
 * The bound on the wait only detects a hang (the scenario ends long before
 * it when it works); it never makes a test pass.
 */
#ifndef VMEM_CHILD_RUN_H
#define VMEM_CHILD_RUN_H

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILD_HANG_SECONDS 120

/* Runs fn(arg) in a child, which exits with fn's result (0 = all good).
 * Asserts the child exited normally with 0; a hang or a death by signal
 * fails the test with `what` in the message. */
static inline void child_run(int (*fn)(void *), void *arg, const char *what)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork");
    if (pid == 0)
        _exit(fn(arg));
    int status = 0;
    struct timespec nap = { 0, 10 * 1000 * 1000 };
    long waited = 0;
    pid_t got;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 && waited < CHILD_HANG_SECONDS * 100L) {
        nanosleep(&nap, NULL);
        waited++;
    }
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        cr_assert_fail("%s: hung (no end after %d s)", what, CHILD_HANG_SECONDS);
    }
    cr_assert_eq(got, pid);
    cr_assert(!WIFSIGNALED(status), "%s: killed by signal %d", what, WTERMSIG(status));
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: exit status %d", what,
              WEXITSTATUS(status));
}

struct thread_run_arg {
    int (*fn)(void *);
    void *arg;
};

static inline void *thread_run_main(void *p)
{
    struct thread_run_arg *a = p;
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
    return (void *)(intptr_t)a->fn(a->arg);
}

/* Runs fn(arg) in a new thread and asserts it returned 0.  The waiting
 * thread blocks SIGALRM, so a process timer's signals go to the scenario.
 * A hang fails the test (the hung thread is left behind: the test process
 * ends with the failure). */
static inline void thread_run(int (*fn)(void *), void *arg, const char *what)
{
    struct thread_run_arg a = { fn, arg };
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &old);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, thread_run_main, &a), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CHILD_HANG_SECONDS;
    void *ret = NULL;
    int e = pthread_timedjoin_np(t, &ret, &until);
    cr_assert_neq(e, ETIMEDOUT, "%s: hung (no end after %d s)", what, CHILD_HANG_SECONDS);
    cr_assert_eq(e, 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    cr_assert_eq((intptr_t)ret, 0, "%s: failed with %d", what, (int)(intptr_t)ret);
}

#endif
