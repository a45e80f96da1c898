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
 * CPU, so that as many faults as there are CPUs are resolved at once and
 * no handler migrates between CPUs: they poll the userfaultfd, every one
 * wakes for every event and the one on the faulting thread's CPU, idle
 * while that thread sleeps, serves it at once.  Configured threads
 * (VMEM_FAULT_THREADS=N) are unpinned, and each waits on an epoll instance
 * of its own (os_wake_join) holding the userfaultfd with EPOLLEXCLUSIVE: an event
 * wakes one sleeping handler, not all of them (waking every handler cost
 * N-1 wake-ups per event that found the event taken, each a cross-CPU
 * wake-up of ~20 us on a VM whose idle vCPUs halt, taken from the
 * application's CPU time).  The kernel wakes the first sleeping handler in
 * the order they joined, not the one on the faulting thread's CPU (why the
 * pinned default does not wait this way); a handler busy resolving is
 * passed over, so a burst spreads over them all.
 * The stop descriptor is in every instance without EPOLLEXCLUSIVE and
 * never drained: every thread sees it.  Where epoll cannot do it, the
 * threads poll both descriptors (every handler then wakes for every event).
 * Spinning (VMEM_FAULT_SPIN_US) competes with the application for its CPU,
 * so it is off by default.
 *
 * The threads block every signal and touch no managed memory.
 */
#include "fault/fault.h"
#include "fault/readahead.h"
#include "os/cpu.h"
#include "os/thread.h"
#include "os/time.h"
#include "os/uffd.h"
#include "os/wake.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <pthread.h>
#include <string.h>

#define MAX_FAULT_THREADS 64

static pthread_t threads[MAX_FAULT_THREADS];
static int waiter[MAX_FAULT_THREADS]; /* each thread's os_wake_join, or -1 */
static long cpu_of[MAX_FAULT_THREADS]; /* -1: unpinned */
static int nthreads;
static int stop_fd = -1;

static int serve_pending(int uffd)
{
    struct uffd_event ev[64];
    int n = uffd_read_events(uffd, ev, 64);
    if (n > 0)
        ctr_add(&vmem_ctr.fault_thread_events, (uint64_t)n);
    for (int i = 0; i < n; i++)
        fault_resolve(ev[i].addr, ev[i].write, ev[i].wp ? FAULT_WP : FAULT_MISSING);
    return n;
}

/* Counts the wake-ups of one wait that ended with `got` events read: all
 * but the last found nothing, and so did the last if got is 0. */
static void count_wakeups(uint64_t woke, int got)
{
    if (!woke)
        woke = 1; /* the descriptor was ready: no sleep, one look */
    ctr_add(&vmem_ctr.fault_thread_wakeups, woke);
    ctr_add(&vmem_ctr.fault_thread_empty_wakeups, woke - (got > 0));
}

static void *fault_thread_main(void *arg)
{
    long i = (long)arg;
    as_lock_sigs_blocked = 1; /* created with every signal blocked */
    if (cpu_of[i] >= 0)
        os_pin_to_cpu(cpu_of[i]); /* unpinned it still serves, only slower */
    int uffd = vmem_rt.uffd, w = waiter[i];
    uint64_t spin_ns = (uint64_t)vmem_rt.cfg.spin_us * 1000u;
    for (;;) {
        /* the stop is never drained: every thread sees it */
        /* the wake-ups in the wait: every time the kernel woke this
         * thread, including those after which it found the descriptor no
         * longer readable (another thread took the event) and slept again */
        uint64_t slept = os_thread_sleeps();
        int seen = w >= 0 ? os_wake_group_wait(w, -1) : os_wake_wait(stop_fd, uffd, -1);
        uint64_t woke = os_thread_sleeps() - slept;
        if (seen < 0) {
            vmem_log("fault thread: poll failed: %s", strerror(-seen));
            break;
        }
        if (seen & OS_WAKE_SIGNALLED)
            break;
        if (!seen)
            continue; /* interrupted */
        int got = serve_pending(uffd);
        count_wakeups(woke, got);
        if (got < 0)
            break;
        if (spin_ns) {
            uint64_t until = os_now_ns() + spin_ns;
            while (os_now_ns() < until) {
                int n = serve_pending(uffd);
                if (n < 0)
                    return NULL;
                if (n > 0)
                    until = os_now_ns() + spin_ns;
                else
                    __builtin_ia32_pause();
            }
        }
    }
    return NULL;
}

/* Closes the waiters (no thread waits on them any more). */
static void leave_all(void)
{
    for (int i = 0; i < MAX_FAULT_THREADS; i++) {
        if (waiter[i] > 2) /* unset: 0 (descriptors are above 2) or -1 */
            os_wake_leave(waiter[i]);
        waiter[i] = -1;
    }
}

int fault_thread_start(void)
{
    int err = os_wake_open(&stop_fd);
    if (err)
        return err;
    /* One pinned thread per CPU we may run on; or `fault_threads` unpinned
     * ones when configured. */
    long *cpus = cpu_of;
    int n = 0;
    if (vmem_rt.cfg.fault_threads == 0) {
        n = os_cpus_allowed(cpus, MAX_FAULT_THREADS);
        if (n == 0)
            cpus[n++] = -1;
    } else {
        for (; n < (int)vmem_rt.cfg.fault_threads && n < MAX_FAULT_THREADS; n++)
            cpus[n] = -1;
    }
    /* made here, not in the threads, so that the wake-one set-up either
     * works for all or, failing (no EPOLLEXCLUSIVE), for none.  Only for
     * unpinned threads (VMEM_FAULT_THREADS=N): the kernel wakes the first
     * waiter, not the one on the faulting thread's CPU, and with one pinned
     * thread per CPU that cross-CPU wake-up costs more than the wasted ones
     * it saves (sort under `vmem run` at a 7 MiB cap: 130 s against 51 s,
     * bench/RESULTS.md "Many threads"). */
    for (int i = 0; i < n; i++)
        waiter[i] = -1;
    for (int i = 0; i < n && vmem_rt.cfg.fault_threads != 0; i++) {
        if (os_wake_join(&waiter[i], stop_fd, vmem_rt.uffd)) {
            vmem_log("fault threads: no wake-one waiting (epoll): every fault thread wakes "
                     "for every fault");
            for (int j = 0; j < i; j++) {
                os_wake_leave(waiter[j]);
                waiter[j] = -1;
            }
            break;
        }
    }
    for (int i = 0; i < n && !err; i++) {
        err = os_thread_start(&threads[i], fault_thread_main, (void *)(long)i);
        if (!err)
            nthreads++;
    }
    if (err) {
        fault_thread_stop();
        return err;
    }
    /* readahead serves this mode's faults; without it they still work */
    if ((err = readahead_start()) != 0)
        vmem_log("cannot start the readahead thread (%s): VMEM_READAHEAD is off",
                 strerror(err));
    return 0;
}

void fault_thread_stop(void)
{
    readahead_stop();
    if (stop_fd < 0)
        return;
    if (nthreads)
        os_wake_signal(stop_fd);
    for (int i = 0; i < nthreads; i++)
        os_thread_join(threads[i]);
    leave_all();
    nthreads = 0;
    os_wake_close(stop_fd);
    stop_fd = -1;
}

void fault_thread_forget(void)
{
    leave_all();
    readahead_forget();
    os_wake_close(stop_fd);
    stop_fd = -1;
    nthreads = 0;
}
