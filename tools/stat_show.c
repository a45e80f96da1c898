/*
 * stat_show.c -- sampling a running libvmem process's statistics area and
 * the line of figures and rates `vmem stat` and `vmem top` print: working
 * set, standby, page file in use and commit charge (MiB), faults by kind
 * and page-file I/O per second.
 */
#include "stat_show.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static sigjmp_buf bus_jump;

static void on_bus(int sig)
{
    (void)sig;
    siglongjmp(bus_jump, 1);
}

int stat_request(const char *dir, const char *name, unsigned timeout_ms)
{
    /* the shared mapping of a file truncated meanwhile raises SIGBUS: the
     * area is gone, not a crash of the reader */
    static const struct vmem_statarea *volatile a;
    struct sigaction sa = { .sa_handler = on_bus }, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &old);
    volatile int err = ENOENT;
    a = NULL;
    if (sigsetjmp(bus_jump, 1) == 0) {
        const struct vmem_statarea *m;
        err = vmem_statarea_open_name(dir, name, 1, &m);
        if (err == 0) {
            a = m;
            err = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != VMEM_END_RUNNING ? ESRCH :
                  vmem_statarea_request(m, timeout_ms);
        }
    }
    sigaction(SIGBUS, &old, NULL);
    if (a)
        vmem_statarea_close(a);
    return err;
}

int stat_sample_name(const char *dir, const char *name, unsigned timeout_ms,
                     struct stat_sample *s)
{
    const struct vmem_statarea *a;
    /* a refresh asked through the shared mapping (an area of our own),
     * then the figures from a private copy */
    int err = stat_request(dir, name, timeout_ms);
    s->fresh = err == 0;
    if ((err = vmem_statarea_open_name(dir, name, 0, &a)) != 0)
        return err;
    vmem_statarea_read(a, &s->r);
    if (s->r.end == VMEM_END_RUNNING && !vmem_proc_alive(s->r.pid))
        s->r.end = VMEM_END_VANISHED; /* killed; its `vmem run` has yet to collect it */
    s->start = a->start_ticks;
    s->t_ns = now_ns();
    vmem_statarea_close(a);
    return 0;
}

void stat_header(FILE *f)
{
    fprintf(f, "%8s %9s %9s %9s %9s %9s %9s %9s %10s %10s  %s\n", "pid", "ws_MiB", "standby",
            "pagefile", "commit", "dz_flt/s", "tr_flt/s", "hard/s", "read_KiB/s",
            "write_KiB/s", "command");
}

static double mib(uint64_t pages)
{
    return (double)pages * 4096.0 / (1024.0 * 1024.0);
}

void stat_line(FILE *f, const struct stat_sample *prev, const struct stat_sample *cur)
{
    const struct vmem_stats *c = &cur->r.st;
    char rates[128] = "";
    if (prev && cur->t_ns > prev->t_ns) {
        const struct vmem_stats *p = &prev->r.st;
        double dt = (double)(cur->t_ns - prev->t_ns) / 1e9;
#define R(f) ((double)(c->f - p->f) / dt)
        snprintf(rates, sizeof(rates), "%9.0f %9.0f %9.0f %10.0f %10.0f", R(demand_zero_faults),
                 R(transition_faults), R(hard_faults), R(pages_read) * 4, R(pages_written) * 4);
#undef R
    } else {
        snprintf(rates, sizeof(rates), "%9s %9s %9s %10s %10s", "-", "-", "-", "-", "-");
    }
    fprintf(f, "%8ld %9.1f %9.1f %9.1f %9.1f %s  %s%s\n", cur->r.pid, mib(c->working_set),
            mib(c->standby_pages), mib(c->pagefile_pages), mib(c->commit_charge), rates,
            cur->r.cmd, cur->fresh ? "" : " (standby, page file: not refreshed)");
}

int stat_parse_interval(const char *s, unsigned *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.01) || v > 86400)
        return -1;
    *ms = (unsigned)(v * 1000 + 0.5);
    return 0;
}

void stat_nap(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
