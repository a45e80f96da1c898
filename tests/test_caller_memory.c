/*
 * test_caller_memory.c -- API calls whose parameters live in managed memory
 * that is not yet installed (a fault is needed to reach it).  The call must
 * not touch it while holding the address-space lock: the fault needs that
 * lock.  Each scenario runs in a child, so a hang is seen as one.  Also: a
 * thread that takes the lock twice is stopped at once, not let through.
 */
#include <memoryapi.h>
#include <vmem.h>

#include "child_run.h"
#include "api/init.h"
#include "core/runtime.h"
#include "win32_test.h"
#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

static int write_watch_supported(void)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    return c.fault_mode != VMEM_FAULT_KERNEL;
}

/* Fresh committed pages: their first access is a fault in the modes with
 * userfaultfd. */
static void *fresh(size_t size)
{
    return VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

/* After the call, the API still works: a reservation, a commit and a
 * touch (which needs the lock for its fault). */
static int api_still_works(void)
{
    unsigned char *q = VirtualAlloc(NULL, 4 * PG, MEM_RESERVE, PAGE_READWRITE);
    if (!q || VirtualAlloc(q, 2 * PG, MEM_COMMIT, PAGE_READWRITE) != q)
        return 40;
    q[PG + 3] = 9;
    if (q[PG + 3] != 9 || !VirtualFree(q, 0, MEM_RELEASE))
        return 41;
    return 0;
}

static int get_write_watch_child(void *arg)
{
    DWORD flags = (DWORD)(uintptr_t)arg;
    enum { N = 16 };
    unsigned char *w = VirtualAlloc(NULL, N * PG, MEM_RESERVE | MEM_WRITE_WATCH,
                                    PAGE_READWRITE);
    if (!w || VirtualAlloc(w, N * PG, MEM_COMMIT, PAGE_READWRITE) != w)
        return 2;
    for (int i = 0; i < N; i += 2)
        w[i * PG] = 1;
    /* the result array and the granularity in fresh pages (each in a
     * reservation of its own: a fault installs its untouched neighbours),
     * the count too, after a first write */
    PVOID *addrs = fresh(PG);
    ULONG_PTR *count = fresh(PG);
    DWORD *gran = fresh(PG);
    if (!addrs || !count || !gran)
        return 3;
    *count = N;
    UINT r = GetWriteWatch(flags, w, N * PG, addrs, count, gran);
    if (r != 0) {
        fprintf(stderr, "GetWriteWatch: %u\n", r);
        return 5;
    }
    if (*count != N / 2 || *gran != PG)
        return 6;
    for (int i = 0; i < N / 2; i++)
        if (addrs[i] != w + 2 * i * PG)
            return 7;
    return api_still_works();
}

Test(caller_memory, get_write_watch_with_reset_into_fresh_pages)
{
    if (!write_watch_supported())
        cr_skip_test("write watch is not supported in VMEM_FAULT_MODE=kernel");
    thread_run(get_write_watch_child, (void *)(uintptr_t)WRITE_WATCH_FLAG_RESET,
              "GetWriteWatch(WRITE_WATCH_FLAG_RESET) into managed memory");
}

Test(caller_memory, get_write_watch_into_fresh_pages)
{
    if (!write_watch_supported())
        cr_skip_test("write watch is not supported in VMEM_FAULT_MODE=kernel");
    thread_run(get_write_watch_child, (void *)(uintptr_t)0, "GetWriteWatch into managed memory");
}

static int out_params_child(void *arg)
{
    (void)arg;
    unsigned char *p = fresh(4 * PG);
    if (!p)
        return 2;
    /* each out-parameter in a reservation of its own (a fault installs its
     * untouched neighbours) */
    MEMORY_BASIC_INFORMATION *m = fresh(PG);
    struct vmem_region_info *info = fresh(PG);
    DWORD *old = fresh(PG);
    uint32_t *nold = fresh(PG);
    if (!m || !info || !old || !nold)
        return 2;
    if (VirtualQuery(p, m, sizeof *m) != sizeof *m || m->BaseAddress != p ||
        m->RegionSize != 4 * PG || m->State != MEM_COMMIT)
        return 3;
    if (vmem_query(p, info) || info->base != p || info->size != 4 * PG || !info->managed)
        return 4;
    if (!VirtualProtect(p, PG, PAGE_READONLY, old) || *old != PAGE_READWRITE)
        return 5;
    if (vmem_protect(p, PG, PAGE_READWRITE, nold) || *nold != PAGE_READONLY)
        return 6;
    struct vmem_stats *st = (struct vmem_stats *)fresh(PG);
    if (!st || vmem_get_stats(st) || st->regions < 3)
        return 7;
    void **base = (void **)fresh(PG);
    if (!base || vmem_reserve(NULL, GRAN, 0, PAGE_READWRITE, base) || !*base)
        return 8;
    return api_still_works();
}

Test(caller_memory, out_parameters_in_fresh_pages)
{
    thread_run(out_params_child, NULL, "VirtualQuery/VirtualProtect into managed memory");
}

/* ---- the lock helpers refuse a second hold ------------------------------- */

static int lock_twice_child(void *arg)
{
    int exclusive_first = (int)(uintptr_t)arg;
    if (runtime_ensure())
        return 2;
    if (exclusive_first)
        as_lock_exclusive();
    else
        as_lock_shared();
    as_lock_shared(); /* a library bug: must not come back */
    as_unlock();
    as_unlock();
    return 0;
}

static void expect_abort(int exclusive_first)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* the message goes to stderr; keep it out of the test's output */
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        _exit(lock_twice_child((void *)(uintptr_t)exclusive_first));
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
              "a second hold of as_lock was let through (status %#x)", st);
}

Test(caller_memory, second_hold_of_the_lock_aborts)
{
    expect_abort(1);
    expect_abort(0);
}
