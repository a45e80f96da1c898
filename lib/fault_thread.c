/*
 * fault_thread.c -- the fault-handling thread of thread mode.
 *
 * It reads userfaultfd events in batches and resolves each.  Sleeping in
 * poll() costs a wake-up on every fault (~20 us across vCPUs on a VM whose
 * idle vCPUs halt), so after serving a batch it polls the descriptor for up
 * to `spin_us` before sleeping again: a burst of faults is then served
 * without wake-ups, and an idle process costs one short spin per burst.
 *
 * The thread blocks every signal and touches no managed memory.
 */
#include "fault.h"
#include "os/uffd.h"
#include "runtime.h"
#include "vmem_internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static pthread_t thread;
static int running;
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
    (void)arg;
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
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&thread, NULL, fault_thread_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        close(stop_fd);
        stop_fd = -1;
        return err;
    }
    running = 1;
    return 0;
}

void fault_thread_stop(void)
{
    if (!running)
        return;
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof(one)) < 0)
        vmem_log("fault thread: cannot signal stop");
    pthread_join(thread, NULL);
    close(stop_fd);
    stop_fd = -1;
    running = 0;
}

void fault_thread_forget(void)
{
    if (stop_fd >= 0)
        close(stop_fd);
    stop_fd = -1;
    running = 0;
}
