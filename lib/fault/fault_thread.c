/*
 * fault_thread.c -- the fault-handling thread of thread mode.
 *
 * It reads userfaultfd events in batches and resolves each.  Sleeping in
 * poll() costs a wake-up on every fault (~20 us across vCPUs on a VM whose
 * idle vCPUs halt), so after serving a batch it polls the descriptor for up
 * to `spin_us` before sleeping again: a burst of faults is then served
 * without wake-ups, and an idle process costs one short spin per burst.
 *
 * There is one thread per CPU the process may run on, each pinned to its
 * CPU.  A faulting thread sleeps, its CPU goes idle, and the handler pinned
 * there is the one that wakes at once (no cross-CPU wake-up, which costs
 * ~20 us on a VM whose idle vCPUs halt); it resolves the fault and wakes the
 * faulting thread on the same CPU.  The handlers on other CPUs may wake too
 * and find the event taken.  Spinning (VMEM_FAULT_SPIN_US) competes with
 * the application for its CPU, so it is off by default.
 *
 * The threads block every signal and touch no managed memory.
 */
#include "fault/fault.h"
#include "os/thread.h"
#include "os/uffd.h"
#include "core/runtime.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_FAULT_THREADS 64

static pthread_t threads[MAX_FAULT_THREADS];
static int nthreads;
static int stop_fd = -1;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int serve_pending(int uffd)
{
    struct uffd_event ev[64];
    int n = uffd_read_events(uffd, ev, 64);
    for (int i = 0; i < n; i++)
        fault_resolve(ev[i].addr, ev[i].write, ev[i].wp ? FAULT_WP : FAULT_MISSING);
    return n;
}

static void *fault_thread_main(void *arg)
{
    long cpu = (long)arg;
    as_lock_sigs_blocked = 1; /* created with every signal blocked */
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((int)cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    }
    int uffd = vmem_rt.uffd;
    uint64_t spin_ns = (uint64_t)vmem_rt.cfg.spin_us * 1000u;
    struct pollfd pfd[2] = {
        { .fd = uffd, .events = POLLIN },
        { .fd = stop_fd, .events = POLLIN },
    };
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            vmem_log("fault thread: poll failed: %s", strerror(errno));
            break;
        }
        if (pfd[1].revents)
            break;
        if (serve_pending(uffd) < 0)
            break;
        if (spin_ns) {
            uint64_t until = now_ns() + spin_ns;
            while (now_ns() < until) {
                int n = serve_pending(uffd);
                if (n < 0)
                    return NULL;
                if (n > 0)
                    until = now_ns() + spin_ns;
                else
                    __builtin_ia32_pause();
            }
        }
    }
    return NULL;
}

int fault_thread_start(void)
{
    stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd < 0)
        return errno;
    /* One pinned thread per CPU we may run on; or `fault_threads` unpinned
     * ones when configured. */
    long cpus[MAX_FAULT_THREADS];
    int n = 0;
    if (vmem_rt.cfg.fault_threads == 0) {
        cpu_set_t allowed;
        if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
            for (int c = 0; c < CPU_SETSIZE && n < MAX_FAULT_THREADS; c++)
                if (CPU_ISSET(c, &allowed))
                    cpus[n++] = c;
        if (n == 0)
            cpus[n++] = -1;
    } else {
        for (; n < (int)vmem_rt.cfg.fault_threads && n < MAX_FAULT_THREADS; n++)
            cpus[n] = -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = 0;
    for (int i = 0; i < n && !err; i++) {
        err = os_thread_start(&threads[i], fault_thread_main, (void *)cpus[i]);
        if (!err)
            nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err)
        fault_thread_stop();
    return err;
}

void fault_thread_stop(void)
{
    if (stop_fd < 0)
        return;
    uint64_t one = 1;
    if (nthreads && write(stop_fd, &one, sizeof(one)) < 0)
        vmem_log("fault thread: cannot signal stop");
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    nthreads = 0;
    close(stop_fd);
    stop_fd = -1;
}

void fault_thread_forget(void)
{
    if (stop_fd >= 0)
        close(stop_fd);
    stop_fd = -1;
    nthreads = 0;
}
