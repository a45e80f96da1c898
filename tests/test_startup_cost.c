/*
 * test_startup_cost.c -- starting paging costs the same whatever the cap:
 * nothing is sized by the cap up front (the replacement policy, its stock,
 * the standby frames), everything grows with what is resident or trimmed.
 *
 * Each start runs in a fresh process (startup_probe.c: a forked child of a
 * test would run libvmem in fault mode kernel), so its peak RSS is its own.
 * The growth itself is checked here, in signal mode too, where the policy
 * grows inside SIGBUS handlers from a stock filled outside them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <memoryapi.h>
#include <vmem.h>

#include "paging/replacement.h"
#include "policy/policy.h"

#define GIB ((unsigned long long)1 << 30)
#define TIB ((unsigned long long)1 << 40)

/* Runs the probe with env `policy` (NULL: the default) and its arguments;
 * its peak RSS in KiB.  Skips the test as the probe says. */
static long probe(const char *policy, unsigned long long cap, size_t pages,
                  unsigned long long lower)
{
    const char *exe = getenv("STARTUP_PROBE");
    if (!exe)
        cr_skip_test("STARTUP_PROBE not set: run through meson test");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s%s %s %llu %zu %llu 2>&1", policy ? "VMEM_POLICY=" : "",
             policy ? policy : "", exe, cap, pages, lower);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    char line[512] = {0}, last[512] = {0};
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "libvmem: ", 9) != 0) /* the cap warning */
            memcpy(last, line, sizeof last);
    int st = pclose(f);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        cr_skip_test("%s", last + 5);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s (cap %llu): %s",
              policy ? policy : "default policy", cap, last);
    long kb = -1;
    cr_assert_eq(sscanf(last, "ok %ld", &kb), 1, "%s", last);
    return kb;
}

/* Every policy: a 1 TiB cap costs what a 4 GiB one does, within 4 MiB. */
Test(startup, peak_rss_does_not_grow_with_the_cap)
{
    for (size_t k = 0; policy_list[k]; k++) {
        const char *name = policy_list[k]->name;
        long small = probe(name, 4 * GIB, 512, 0);
        long big = probe(name, TIB, 512, 0);
        cr_assert_leq(big, small + 4096,
                      "%s: peak RSS %ld KiB with a 1 TiB cap, %ld KiB with 4 GiB", name, big,
                      small);
    }
}

/* The largest page file's worth: starts, and pages in and out. */
Test(startup, a_16_tib_cap_starts)
{
    long kb = probe(NULL, 16 * TIB, 512, 0);
    cr_assert_lt(kb, 64 * 1024, "peak RSS %ld KiB with a 16 TiB cap", kb);
}

/* Started far above what is resident, then lowered below it: the policy
 * and the standby list grew from nothing and still hold the cap, and every
 * page reads back. */
Test(startup, a_large_cap_lowered_still_holds)
{
    probe(NULL, TIB, 4096, 1 << 20);
}

/* ---- growth in signal mode: many threads faulting fast ------------------- */

#define THREADS 8
#define PAGES_EACH 2048

static volatile sig_atomic_t trapped, trapped_nr;
static sem_t done;

/* A map or unmap the filter stopped: counted, and failed with EPERM. */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    trapped++;
    trapped_nr = si->si_syscall;
    ((ucontext_t *)uctx)->uc_mcontext.gregs[REG_RAX] = -EPERM;
}

/* This thread only (no TSYNC): mmap, munmap and mremap raise SIGSYS, so an
 * allocation in a SIGBUS handler of this thread is seen. */
static int forbid_mapping(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_munmap, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mremap, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    };
    struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

struct worker {
    volatile uint64_t *mem;
    unsigned id;
    int filter_err;
};

static uint64_t word(unsigned id, size_t i)
{
    return ((uint64_t)id << 32 | i) * 0x9E3779B97F4A7C15ull + 1;
}

/* Never returns: a thread's exit unmaps its stack, which is not what is
 * checked.  The process's exit ends it. */
static void *toucher(void *arg)
{
    struct worker *w = arg;
    if (forbid_mapping())
        w->filter_err = errno;
    else
        for (size_t i = 0; i < PAGES_EACH; i++)
            w->mem[i * 512] = word(w->id, i);
    sem_post(&done);
    for (;;)
        pause();
    return NULL;
}

Test(startup, policy_grows_with_many_threads_faulting)
{
#ifndef __x86_64__
    cr_skip_test("the seccomp filter here reads x86-64 system call numbers");
#endif
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    /* far above what is touched: the policy starts small and must grow
     * (64 entries to over 16384), in signal mode inside the handlers */
    int e = vmem_set_max_resident(TIB);
    if (e == ENOTSUP && c.trim == VMEM_TRIM_MOVE)
        cr_skip_test("VMEM_TRIM=move: this kernel has no UFFDIO_MOVE");
    cr_assert_eq(e, 0, "cannot start paging: %s", strerror(e));
    struct worker w[THREADS];
    for (unsigned t = 0; t < THREADS; t++) {
        w[t] = (struct worker){ .id = t };
        w[t].mem = VirtualAlloc(NULL, PAGES_EACH * 4096, MEM_COMMIT, PAGE_READWRITE);
        cr_assert_not_null(w[t].mem);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    cr_assert_eq(sigaction(SIGSYS, &sa, NULL), 0);
    cr_assert_eq(sem_init(&done, 0, 0), 0);
    for (unsigned t = 0; t < THREADS; t++) {
        pthread_t th;
        cr_assert_eq(pthread_create(&th, NULL, toucher, &w[t]), 0);
    }
    for (unsigned t = 0; t < THREADS; t++)
        while (sem_wait(&done) != 0)
            cr_assert_eq(errno, EINTR);
    for (unsigned t = 0; t < THREADS; t++)
        cr_assert_eq(w[t].filter_err, 0, "cannot install the seccomp filter: %s",
                     strerror(w[t].filter_err));
    cr_assert_eq(trapped, 0, "%d map/unmap calls (the last: system call %d) while faulting",
                 (int)trapped, (int)trapped_nr);

    /* Every page reached the policy, at once or (a request the stock could
     * not serve) when the working-set manager admits the resident pages
     * again.  A page it never saw would never be trimmed: then this wait
     * would not end (the suite's timeout reports it). */
    size_t tracked;
    uint64_t misses;
    for (;;) {
        replacement_counts(&tracked, &misses);
        if (tracked >= (size_t)THREADS * PAGES_EACH)
            break;
        sched_yield();
    }
    /* and the cap holds when it comes down below them */
    cr_assert_eq(vmem_set_max_resident(4u << 20), 0);
    for (;;) {
        struct vmem_stats s;
        cr_assert_eq(vmem_get_stats(&s), 0);
        if (s.working_set + s.standby_pages <= s.cap_pages)
            break;
        sched_yield();
    }
    for (unsigned t = 0; t < THREADS; t++)
        for (size_t i = 0; i < PAGES_EACH; i++)
            cr_assert_eq(w[t].mem[i * 512], word(t, i), "thread %u page %zu", t, i);
}
