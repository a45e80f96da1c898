/*
 * fork: a child sees the parent's data, gets zeros for untouched committed
 * pages, can use the API itself, and never disturbs the parent.
 */
#include <criterion/criterion.h>
#include <memoryapi.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault/fork_paging.h"
#include "pagefile/pagefile.h"
#include "helpers.h"

static int child_checks(void *arg)
{
    uint8_t *p = arg;
    /* page 0 written by the parent; pages 1.. untouched */
    for (int i = 0; i < 4096; i++)
        if (p[i] != (uint8_t)i)
            return 10;
    for (int i = 4096; i < 64 * 4096; i++)
        if (p[i] != 0)
            return 11;
    memset(p, 0xEE, 64 * 4096); /* the child's own copy */
    uint8_t *q = VirtualAlloc(NULL, 16 * 4096, MEM_COMMIT, PAGE_READWRITE);
    if (!q)
        return 12;
    for (int i = 0; i < 16 * 4096; i++)
        if (q[i])
            return 13;
    q[5] = 5;
    if (!VirtualFree(q + 4096, 4096, MEM_DECOMMIT) || q[5] != 5)
        return 14;
    if (!VirtualFree(q, 0, MEM_RELEASE))
        return 15;
    return 0;
}

Test(fork, child_sees_parent_data_and_zeros)
{
    uint8_t *p = VirtualAlloc(NULL, 64 * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (int i = 0; i < 4096; i++)
        p[i] = (uint8_t)i;
    child_run(child_checks, p, "child reading its parent's memory");
    /* the parent's memory is its own */
    for (int i = 0; i < 4096; i++)
        cr_assert_eq(p[i], (uint8_t)i);
    for (int i = 4096; i < 64 * 4096; i++)
        cr_assert_eq(p[i], 0, "byte %d", i);
    /* and the parent still faults in fresh pages */
    uint8_t *q = VirtualAlloc(NULL, 64 * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(q);
    q[64 * 4096 - 1] = 9;
    cr_assert_eq(q[64 * 4096 - 1], 9);
}

/* ---- a child of a paging process ------------------------------------------ */

#define FORK_PAGES 2048 /* 8 MiB under a 1 MiB cap */

static void fill_all(uint64_t *w, uint64_t gen)
{
    for (size_t i = 0; i < FORK_PAGES; i++)
        fill_page(w, i, gen);
}

/* 0 if every page holds generation gen, else 1 + the first bad page */
static size_t check_all(const uint64_t *w, uint64_t gen)
{
    for (size_t i = 0; i < FORK_PAGES; i++)
        if (!page_intact(w, i, gen))
            return i + 1;
    return 0;
}

/* The child reads every page -- most were paged out or on standby in the
 * parent at the fork -- while the parent rewrites them all (new content
 * written to the page file) before letting the child start: the child must
 * see the fork's content, the parent its own. */
Test(fork, child_of_paging_process_reads_fork_time_data)
{
    need_paging(1 * MIB);
    uint64_t *w = VirtualAlloc(NULL, FORK_PAGES * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(w);
    fill_all(w, 1);
    fill_all(w, 2); /* twice: pages written back over their slots */
    cr_assert_gt(stats().pages_written, 0, "nothing was paged out");

    int go[2], res[2];
    cr_assert_eq(pipe(go), 0);
    cr_assert_eq(pipe(res), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char b;
        if (read(go[0], &b, 1) != 1)
            _exit(100);
        size_t bad = check_all(w, 2);
        /* the child's writes are its own, and it can use the API */
        w[0] = 77;
        uint8_t *q = VirtualAlloc(NULL, 65536, MEM_COMMIT, PAGE_READWRITE);
        if (!q || q[100] != 0 || !VirtualFree(w, 4096, MEM_DECOMMIT))
            _exit(101);
        if (write(res[1], &bad, sizeof bad) != sizeof bad)
            _exit(102);
        _exit(0);
    }
    /* parent: new content everywhere, paged out again */
    fill_all(w, 3);
    fill_all(w, 3);
    cr_assert_eq(write(go[1], "g", 1), 1);
    size_t bad = 99;
    cr_assert_eq(read(res[0], &bad, sizeof bad), (ssize_t)sizeof bad);
    child_assert_ok(pid, "child of a paging process");
    cr_assert_eq(bad, 0, "child: page %zu has the wrong content", bad - 1);
    cr_assert_eq(check_all(w, 3), 0, "parent lost data");
    /* once the child is gone the set-aside slots are freed: by the
     * working-set manager's next round, or here (the child has been waited
     * for, so its hold has ended; the manager may be reaping at the same
     * moment, and then this call leaves it to the manager) */
    cr_assert(VirtualFree(w, 0, MEM_RELEASE));
    while (pagefile_held() || pagefile_hold_ending()) {
        fork_paging_reap();
        sched_yield();
    }
    uint64_t held = settled_pagefile_pages();
    cr_assert_eq(held, 0, "%llu slots still held after the child exited",
                 (unsigned long long)held);
}

/* ---- the reaper between prepare and fork ---------------------------------- */

/* The working-set manager reaps finished children every round; here it
 * runs inside the fork's window (after the prepare handler switched the
 * page-file hold on, before the parent handler registers the child), as
 * it does when another thread's fork() is slow. */
static void reap_in_window(void)
{
    fork_paging_reap();
}

/* The child must see exactly the generation of the fork, every byte, while
 * the parent writes two new generations to the page file. */
Test(fork, reaper_inside_fork_window_keeps_hold)
{
    need_paging(1 * MIB);
    uint64_t *w = VirtualAlloc(NULL, FORK_PAGES * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(w);
    fill_all(w, 1);
    fill_all(w, 2);

    int go[2], res[2];
    cr_assert_eq(pipe(go), 0);
    cr_assert_eq(pipe(res), 0);
    fork_paging_window_hook = reap_in_window;
    pid_t pid = fork();
    fork_paging_window_hook = NULL;
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char b;
        if (read(go[0], &b, 1) != 1)
            _exit(100);
        size_t bad = check_all(w, 2);
        if (write(res[1], &bad, sizeof bad) != sizeof bad)
            _exit(102);
        _exit(0);
    }
    fill_all(w, 3);
    fill_all(w, 4);
    cr_assert_eq(write(go[1], "g", 1), 1);
    size_t bad = 99;
    cr_assert_eq(read(res[0], &bad, sizeof bad), (ssize_t)sizeof bad);
    child_assert_ok(pid, "child of a paging process");
    cr_assert_eq(bad, 0, "child: page %zu is not the fork's generation", bad - 1);
    cr_assert_eq(check_all(w, 4), 0, "parent lost data");
}
