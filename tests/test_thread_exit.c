/*
 * A thread that paged memory in itself -- a hard fault in signal mode, or
 * VirtualLock on paged-out memory in any mode -- made an io_uring ring
 * and a 2 MiB bounce buffer of its own; both must go when it exits, so a
 * program running many short-lived threads does not run out of
 * descriptors or address space.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <memoryapi.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <vmem.h>

#include "helpers.h"

#define THREADS 200

static uint8_t *region;
static size_t npages;
static size_t pagedout[2 * THREADS];
static int signal_mode;

static size_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    size_t n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static uint64_t mapped_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    unsigned long long size = 0;
    cr_assert_eq(fscanf(f, "%llu", &size), 1);
    fclose(f);
    return size * 4096;
}

static uint64_t value(size_t i) { return i * 0x9E3779B97F4A7C15ull + 1; }

/* Thread t pages in page pagedout[2t] by VirtualLock, and in signal mode
 * page pagedout[2t+1] by touching it (its own SIGBUS handler reads it). */
static void *pager(void *arg)
{
    size_t t = (size_t)arg;
    uint8_t *a = region + pagedout[2 * t] * 4096;
    uintptr_t ok = VirtualLock(a, 4096) && VirtualUnlock(a, 4096) &&
                   *(volatile uint64_t *)a == value(pagedout[2 * t]);
    if (signal_mode)
        ok = ok && *(volatile uint64_t *)(region + pagedout[2 * t + 1] * 4096) ==
                       value(pagedout[2 * t + 1]);
    return (void *)ok;
}

static void run_thread(size_t t)
{
    pthread_t th;
    void *ok;
    cr_assert_eq(pthread_create(&th, NULL, pager, (void *)t), 0);
    cr_assert_eq(pthread_join(th, &ok), 0);
    cr_assert(ok, "thread %zu read a page wrong", t);
}

/* 8 MiB written under a 1 MiB cap, and 2 * THREADS pages found only in the
 * page file, into pagedout: with the standby list off, every page paging
 * took out once it is under the cap. */
static void page_out_region(void)
{
    setenv("VMEM_STANDBY", "off", 1);
    setenv("VMEM_PREFETCH", "none", 1);
    need_paging(1 * MIB);
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    signal_mode = c.fault_mode == VMEM_FAULT_SIGNAL;
    npages = 8 * MIB / 4096;
    region = VirtualAlloc(NULL, npages * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(region);
    for (size_t i = 0; i < npages; i++)
        *(uint64_t *)(region + i * 4096) = value(i);
    wait_within_cap();
    size_t found = 0;
    for (size_t i = 0; i < npages && found < 2 * THREADS; i++)
        if (page_state(region + i * PG) == PTE_PAGEDOUT)
            pagedout[found++] = i;
    cr_assert_geq(found, 2 * THREADS, "only %zu pages paged out", found);
}

Test(thread_exit, paging_threads_leave_nothing_behind)
{
    page_out_region();

    /* one thread first: what every thread costs for good (stacks cached
     * by the C library, the fault threads' rings) is then in place */
    run_thread(0);
    size_t fds = open_fds();
    uint64_t bytes = mapped_bytes();
    for (size_t t = 1; t < THREADS; t++)
        run_thread(t);
    size_t fds_after = open_fds();
    uint64_t bytes_after = mapped_bytes();
    cr_assert_leq(fds_after, fds + 2, "descriptors: %zu before, %zu after %d threads", fds,
                  fds_after, THREADS);
    cr_assert_leq(bytes_after, bytes + 8 * MIB, "mapped: %llu MiB before, %llu MiB after",
                  (unsigned long long)(bytes / MIB), (unsigned long long)(bytes_after / MIB));
}

/* The program's own thread-specific data destructors run after libvmem's
 * (their keys are made later) and may page in: by VirtualLock in any mode,
 * by a touch in signal mode, re-arming themselves for the C library's next
 * round of destructors, as allocators do.  The thread then pages in with
 * its ring gone: no new ring may be left behind (nothing would tear it
 * down), and no exited thread's ring on libvmem's list of rings (its memory
 * is gone: the threads run on stacks of their own, unmapped after them). */
static pthread_key_t late_key;
static volatile int late_bad;

static void late_destructor(void *arg)
{
    uintptr_t left = (uintptr_t)arg; /* rounds left, and the thread */
    /* pages the pagers did not take: 4 a thread (the C library's rounds of
     * destructors), after theirs */
    size_t i = pagedout[2 * (THREADS / 4) + 4 * (left >> 8) + (left & 3)];
    uint8_t *a = region + i * 4096;
    int ok = VirtualLock(a, 4096) && VirtualUnlock(a, 4096) &&
             *(volatile uint64_t *)a == value(i);
    if (!ok)
        late_bad = 1;
    /* re-armed every round: the last one runs after libvmem's destructor */
    pthread_setspecific(late_key, (void *)(left + 1));
}

static void *late_pager(void *arg)
{
    pthread_setspecific(late_key, (void *)(((uintptr_t)arg << 8) | 0x10));
    return pager(arg);
}

Test(thread_exit, late_destructors_page_in)
{
    page_out_region();
    cr_assert_eq(pthread_key_create(&late_key, late_destructor), 0);
    size_t fds = 0;
    for (size_t t = 0; t < THREADS / 4; t++) {
        size_t stack = 1 * MIB;
        void *st = mmap(NULL, stack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert_neq(st, MAP_FAILED);
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstack(&at, st, stack);
        pthread_t th;
        void *ok;
        cr_assert_eq(pthread_create(&th, &at, late_pager, (void *)t), 0);
        cr_assert_eq(pthread_join(th, &ok), 0);
        pthread_attr_destroy(&at);
        munmap(st, stack);
        cr_assert(ok, "thread %zu read a page wrong", t);
        if (t == 0)
            fds = open_fds();
    }
    cr_assert(!late_bad, "a destructor read a page wrong");
    cr_assert_leq(open_fds(), fds + 2, "descriptors: %zu after the first thread, %zu after %d",
                  fds, open_fds(), THREADS / 4);
    vmem_shutdown(); /* lets go of every listed ring */
}

/* A timer handler that reads paged-out memory may run in a thread that is
 * exiting, while its ring and buffer are being released: its page-in must
 * not use them half taken apart (in signal mode the handler's fault is
 * served in that thread). */
static volatile sig_atomic_t handler_bad, handler_reads;
static volatile size_t handler_next;

static void on_alarm(int sig)
{
    (void)sig;
    size_t i = handler_next;
    handler_next = (i * 7 + 13) % npages;
    if (*(volatile uint64_t *)(region + i * 4096) != value(i))
        handler_bad = 1;
    handler_reads = handler_reads + 1;
}

static void *toucher(void *arg)
{
    size_t i = (size_t)arg % npages;
    return (void *)(uintptr_t)(*(volatile uint64_t *)(region + i * 4096) == value(i));
}

Test(thread_exit, timer_handler_reads_while_threads_exit)
{
    setenv("VMEM_PREFETCH", "none", 1);
    need_paging(1 * MIB);
    npages = 8 * MIB / 4096;
    region = VirtualAlloc(NULL, npages * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(region);
    for (size_t i = 0; i < npages; i++)
        *(uint64_t *)(region + i * 4096) = value(i);
    struct sigaction sa = { .sa_handler = on_alarm };
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = { { 0, 500 }, { 0, 500 } };
    cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    size_t wrong = 0;
    for (size_t t = 0; t < 400; t++) {
        pthread_t th;
        void *ok;
        cr_assert_eq(pthread_create(&th, NULL, toucher, (void *)(t * 2654435761u)), 0);
        cr_assert_eq(pthread_join(th, &ok), 0);
        wrong += !ok;
    }
    /* the threads may all have been quicker than the timer: it keeps
     * firing, so its first read comes (whichever thread the signal picks,
     * hence a re-check rather than pause()) */
    while (!handler_reads)
        sched_yield();
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    cr_assert_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
    struct vmem_stats s = stats();
    cr_assert_eq(wrong, 0, "%zu threads read a page wrong", wrong);
    cr_assert_eq(handler_bad, 0, "the timer handler read a page wrong");
    cr_assert_eq(s.inpage_errors, 0, "%llu pages lost to in-page errors",
                 (unsigned long long)s.inpage_errors);
}
