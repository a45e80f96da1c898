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
#include "fault/readahead.h"
#include "os/cpu.h"
#include "os/thread.h"
#include "os/time.h"
#include "os/uffd.h"
#include "os/wake.h"
#include "core/runtime.h"
#include "core/vmem_internal.h"

#include <pthread.h>
#include <string.h>

#define MAX_FAULT_THREADS 64

static pthread_t threads[MAX_FAULT_THREADS];
static int nthreads;
static int stop_fd = -1;

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
    if (cpu >= 0)
        os_pin_to_cpu(cpu); /* unpinned it still serves, only slower */
    int uffd = vmem_rt.uffd;
    uint64_t spin_ns = (uint64_t)vmem_rt.cfg.spin_us * 1000u;
    for (;;) {
        /* the stop is never drained: every thread sees it */
        int seen = os_wake_wait(stop_fd, uffd, -1);
        if (seen < 0) {
            vmem_log("fault thread: poll failed: %s", strerror(-seen));
            break;
        }
        if (seen & OS_WAKE_SIGNALLED)
            break;
        if (!seen)
            continue; /* interrupted */
        if (serve_pending(uffd) < 0)
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

int fault_thread_start(void)
{
    int err = os_wake_open(&stop_fd);
    if (err)
        return err;
    /* One pinned thread per CPU we may run on; or `fault_threads` unpinned
     * ones when configured. */
    long cpus[MAX_FAULT_THREADS];
    int n = 0;
    if (vmem_rt.cfg.fault_threads == 0) {
        n = os_cpus_allowed(cpus, MAX_FAULT_THREADS);
        if (n == 0)
            cpus[n++] = -1;
    } else {
        for (; n < (int)vmem_rt.cfg.fault_threads && n < MAX_FAULT_THREADS; n++)
            cpus[n] = -1;
    }
    for (int i = 0; i < n && !err; i++) {
        err = os_thread_start(&threads[i], fault_thread_main, (void *)cpus[i]);
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
    nthreads = 0;
    os_wake_close(stop_fd);
    stop_fd = -1;
}

void fault_thread_forget(void)
{
    readahead_forget();
    os_wake_close(stop_fd);
    stop_fd = -1;
    nthreads = 0;
}
