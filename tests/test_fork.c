/*
 * fork: a child sees the parent's data, gets zeros for untouched committed
 * pages, can use the API itself, and never disturbs the parent.
 */
#include <criterion/criterion.h>
#include <memoryapi.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn in a child; returns its exit status (fn returns it). */
static int in_child(int (*fn)(uint8_t *), uint8_t *p)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(fn(p));
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "child died (signal %d)", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return WEXITSTATUS(st);
}

static int child_checks(uint8_t *p)
{
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
    cr_assert_eq(in_child(child_checks, p), 0);
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

#include <vmem.h>

#define FORK_PAGES 4096 /* 16 MiB under a 2 MiB cap */

static uint64_t word(size_t page, size_t k, uint64_t gen)
{
    return ((uint64_t)page << 32) ^ (gen << 16) ^ k;
}

static void fill_all(uint64_t *w, uint64_t gen)
{
    for (size_t i = 0; i < FORK_PAGES; i++)
        for (size_t k = 0; k < 512; k++)
            w[i * 512 + k] = word(i, k, gen);
}

/* 0 if every page holds generation gen, else 1 + the first bad page */
static size_t check_all(const uint64_t *w, uint64_t gen)
{
    for (size_t i = 0; i < FORK_PAGES; i++)
        for (size_t k = 0; k < 512; k++)
            if (w[i * 512 + k] != word(i, k, gen))
                return i + 1;
    return 0;
}

/* The child reads every page -- most were paged out or on standby in the
 * parent at the fork -- while the parent rewrites them all (new content
 * written to the page file) before letting the child start: the child must
 * see the fork's content, the parent its own. */
Test(fork, child_of_paging_process_reads_fork_time_data)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: no paging");
    cr_assert_eq(vmem_set_max_resident(2 << 20), 0);
    uint64_t *w = VirtualAlloc(NULL, FORK_PAGES * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(w);
    fill_all(w, 1);
    fill_all(w, 2); /* twice: pages written back over their slots */
    struct vmem_stats st;
    vmem_get_stats(&st);
    cr_assert_gt(st.pages_written, 0, "nothing was paged out");

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
    int wst;
    cr_assert_eq(waitpid(pid, &wst, 0), pid);
    cr_assert(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "child status %#x", wst);
    cr_assert_eq(bad, 0, "child: page %zu has the wrong content", bad - 1);
    cr_assert_eq(check_all(w, 3), 0, "parent lost data");
    /* once the child is gone the set-aside slots are freed */
    cr_assert(VirtualFree(w, 0, MEM_RELEASE));
    for (int i = 0; i < 100; i++) {
        vmem_get_stats(&st);
        if (st.pagefile_pages == 0)
            break;
        usleep(20000);
    }
    cr_assert_eq(st.pagefile_pages, 0, "%llu slots still held after the child exited",
                 (unsigned long long)st.pagefile_pages);
}

/* ---- the reaper between prepare and fork ---------------------------------- */

#include "fault/fork_paging.h"

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
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: no paging");
    cr_assert_eq(vmem_set_max_resident(2 << 20), 0);
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
    int wst;
    cr_assert_eq(waitpid(pid, &wst, 0), pid);
    cr_assert(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "child status %#x", wst);
    cr_assert_eq(bad, 0, "child: page %zu is not the fork's generation", bad - 1);
    cr_assert_eq(check_all(w, 4), 0, "parent lost data");
}
