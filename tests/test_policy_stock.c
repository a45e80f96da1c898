/*
 * test_policy_stock.c -- the live replacement policy's memory.  The policy
 * grows inside admit(), which runs under its lock and, in signal mode, in
 * the SIGBUS handler: its allocator hands out stock filled beforehand and
 * never calls the kernel.  Checked on the stock alone (what it serves
 * between refills, and that every block comes back), and live: a thread
 * that may not map or unmap memory faults in 1000 pages, so in signal mode
 * the policy (64 entries at first live, whatever the cap: nodepool.h)
 * grows four times inside that thread's SIGBUS handler.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <memoryapi.h>
#include <vmem.h>

#include "paging/policy_stock.h"
#include "paging/replacement.h"
#include "policy/policy.h"

static void refill(struct policy_stock *s)
{
    struct stock_order o;
    if (stock_plan(s, &o)) {
        stock_fetch(&o);
        stock_take(s, &o);
    }
}

static policy_page vpn(uint64_t i)
{
    return 0x7f0000000ull + i * 977; /* sparse, as live */
}

Test(stock, serves_two_doublings_between_refills)
{
    for (size_t k = 0; policy_list[k]; k++) {
        const struct policy_ops *ops = policy_list[k];
        struct policy_stock s;
        memset(&s, 0, sizeof s);
        struct policy_alloc mem = stock_allocator(&s);
        s.direct = 1;
        struct policy *p = ops->create(64, 0, 1, &mem);
        s.direct = 0;
        cr_assert_not_null(p, "%s", ops->name);
        refill(&s);
        /* four times the frames: every array doubles twice, from the stock */
        for (uint64_t i = 0; i < 256; i++)
            ops->admit(p, vpn(i), 0);
        cr_assert_eq(s.misses, 0, "%s: %llu requests not served", ops->name,
                     (unsigned long long)s.misses);
        cr_assert_eq(ops->size(p), 256, "%s", ops->name);
        /* a sixteenfold growth needs refills on the way (what the stock
         * was planned for at creation holds blocks of 16 KiB at most) */
        for (uint64_t i = 256; i < 4096; i++)
            ops->admit(p, vpn(i), 0);
        cr_assert_gt(s.misses, 0, "%s grew past the stock", ops->name);
        /* with refills between admissions, nothing is missed again */
        uint64_t missed = s.misses;
        size_t before = ops->size(p);
        for (uint64_t i = 4096; i < 8192; i++) {
            refill(&s);
            ops->admit(p, vpn(i), 0);
        }
        cr_assert_eq(s.misses, missed, "%s", ops->name);
        cr_assert_eq(ops->size(p), before + 4096, "%s", ops->name);
        policy_page v;
        while (ops->victim(p, &v) == 0)
            ;
        ops->destroy(p);
        for (unsigned c = 0; c < STOCK_CLASSES; c++)
            cr_assert_eq(s.out[c], 0, "%s: %zu blocks of class %u not given back", ops->name,
                         s.out[c], c);
        struct stock_order o;
        stock_drain(&s, &o);
        stock_fetch(&o);
    }
}

/* ---- live --------------------------------------------------------------- */

#define CAP_PAGES 256
#define TOUCHED 1000 /* within what the stock holds for the initial size */

static volatile sig_atomic_t trapped, trapped_nr;
static sem_t touched; /* posted by the toucher once done */

/* A map or unmap the filter stopped: counted, and failed with EPERM. */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    trapped++;
    trapped_nr = si->si_syscall;
    ((ucontext_t *)uctx)->uc_mcontext.gregs[REG_RAX] = -EPERM;
}

/* This thread only (no TSYNC): mmap, munmap and mremap raise SIGSYS. */
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

struct job {
    volatile uint8_t *mem;
    int filter_err;
};

/* Never returns: a thread's exit unmaps (glibc, the sanitizers), and that
 * is not what is checked.  The process's exit ends it. */
static void *toucher(void *arg)
{
    struct job *j = arg;
    if (forbid_mapping()) {
        j->filter_err = errno;
    } else {
        for (size_t i = 0; i < TOUCHED; i++)
            j->mem[i * 4096] = (uint8_t)(i + 1);
    }
    sem_post(&touched);
    for (;;)
        pause();
    return NULL;
}

Test(stock, policy_grows_in_a_thread_that_may_not_map)
{
#ifndef __x86_64__
    cr_skip_test("the seccomp filter here reads x86-64 system call numbers");
#endif
    setenv("VMEM_POLICY", "aging", 1); /* the most arrays of any policy */
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    cr_assert_eq(vmem_set_max_resident(CAP_PAGES * 4096), 0, "cannot start paging");
    /* raised at once: the policy keeps its initial size, and nothing is
     * trimmed while the pages come in */
    cr_assert_eq(vmem_set_max_resident(16u << 20), 0);
    struct job j = { .mem = VirtualAlloc(NULL, TOUCHED * 4096, MEM_COMMIT, PAGE_READWRITE) };
    cr_assert_not_null(j.mem);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    cr_assert_eq(sigaction(SIGSYS, &sa, NULL), 0);
    cr_assert_eq(sem_init(&touched, 0, 0), 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, toucher, &j), 0);
    while (sem_wait(&touched) != 0)
        cr_assert_eq(errno, EINTR);
    cr_assert_eq(j.filter_err, 0, "cannot install the seccomp filter: %s",
                 strerror(j.filter_err));

    cr_assert_eq(trapped, 0, "%d map/unmap calls (the last: system call %d) while faulting in",
                 (int)trapped, (int)trapped_nr);
    /* In thread mode a fault thread admits the pages after waking the
     * toucher, still holding the address-space lock: a reservation takes
     * that lock exclusive, so it comes after the last admission. */
    void *order = VirtualAlloc(NULL, 4096, MEM_RESERVE, PAGE_NOACCESS);
    cr_assert_not_null(order);
    cr_assert(VirtualFree(order, 0, MEM_RELEASE));
    size_t tracked;
    uint64_t misses;
    replacement_counts(&tracked, &misses);
    cr_assert_eq(misses, 0, "%llu allocations the stock could not serve",
                 (unsigned long long)misses);
    cr_assert_geq(tracked, TOUCHED, "the policy tracks %zu pages", tracked);
    for (size_t i = 0; i < TOUCHED; i++)
        cr_assert_eq(j.mem[i * 4096], (uint8_t)(i + 1), "page %zu", i);
    cr_assert(VirtualFree((void *)j.mem, 0, MEM_RELEASE));
}

/* The cap raised far in one step: in signal mode the policy then grows in
 * the SIGBUS handler well past what its stock was filled for.  Every page
 * that became resident must still reach the policy -- the policy is the
 * trimmer's only source of victims, so a page it missed would never be
 * trimmed -- and when the cap comes down again, so must the pages in RAM. */
Test(stock, cap_raised_far_then_lowered)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    size_t small = 1u << 20, big = 512u << 20, npages = 48u << 8; /* 48 MiB */
    int e = vmem_set_max_resident(small);
    if (e == ENOTSUP && c.trim == VMEM_TRIM_MOVE)
        cr_skip_test("VMEM_TRIM=move: this kernel has no UFFDIO_MOVE");
    cr_assert_eq(e, 0, "cannot start paging: %s", strerror(e));
    cr_assert_eq(vmem_set_max_resident(big), 0);
    uint8_t *p = VirtualAlloc(NULL, npages * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = 0; i < npages; i++)
        p[i * 4096] = (uint8_t)(i * 7 + 1);
    struct vmem_stats s;
    /* back down: every page must be trimmable.  A page the policy never
     * heard of would stay resident, and this wait would not end (the
     * suite's timeout reports it). */
    cr_assert_eq(vmem_set_max_resident(small), 0);
    for (;;) {
        cr_assert_eq(vmem_get_stats(&s), 0);
        if (s.working_set + s.standby_pages <= s.cap_pages)
            break;
        sched_yield();
    }
    for (size_t i = 0; i < npages; i++)
        cr_assert_eq(p[i * 4096], (uint8_t)(i * 7 + 1), "page %zu lost", i);
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
}
