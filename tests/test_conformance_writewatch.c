/*
 * test_conformance_writewatch.c -- GetWriteWatch and ResetWriteWatch as
 * Windows has them: their argument checks, in Windows' order and with its
 * return value ((UINT)-1 on failure), and what is reported after partial
 * reads, protection changes and decommits.  Fault mode kernel has no
 * write watch: the tests skip there.
 */
#include "helpers.h"

#define SIZE (16 * PG)
#define FAIL ((UINT)~0u)

static char *watched(DWORD type, DWORD prot)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel has no write watch");
    char *p = VirtualAlloc(NULL, SIZE, MEM_RESERVE | MEM_WRITE_WATCH | type, prot);
    cr_assert_not_null(p, "error %u", (unsigned)GetLastError());
    return p;
}

/* GetWriteWatch must return (UINT)-1 with this last error. */
#define assert_ww_fails(err, flags, base, size, addrs, countp, granp)                    \
    do {                                                                                 \
        SetLastError(0);                                                                 \
        UINT r_ = GetWriteWatch((flags), (base), (size), (addrs), (countp), (granp));    \
        DWORD e_ = GetLastError();                                                       \
        cr_assert_eq(r_, FAIL, "%s: returned %u", #countp, r_);                          \
        cr_assert_eq(e_, (DWORD)(err), "GetWriteWatch(%#x, %p, %#zx, %s, %s, %s): "      \
                     "GetLastError %u, want %u", (unsigned)(flags), (void *)(base),      \
                     (size_t)(size), #addrs, #countp, #granp, (unsigned)e_,              \
                     (unsigned)(err));                                                   \
    } while (0)

static ULONG_PTR ww(DWORD flags, char *base, size_t size, void **addrs, ULONG_PTR count)
{
    DWORD gran = 0;
    UINT r = GetWriteWatch(flags, base, size, addrs, &count, &gran);
    cr_assert_eq(r, 0u, "GetWriteWatch: %u, error %u", r, (unsigned)GetLastError());
    cr_assert_eq(gran, (DWORD)PG);
    return count;
}

/* Windows: a NULL base, or memory not reserved with MEM_WRITE_WATCH, is a
 * bad parameter. */
Test(conformance_writewatch, not_a_watched_region)
{
    char *p = watched(MEM_COMMIT, PAGE_READWRITE);
    char *q = alloc_committed(SIZE, PAGE_READWRITE);
    void *a[64];
    ULONG_PTR n = 64;
    DWORD g;
    assert_ww_fails(ERROR_INVALID_PARAMETER, 0, NULL, SIZE, a, &n, &g);
    assert_ww_fails(ERROR_INVALID_PARAMETER, 0, q, SIZE, a, &n, &g);
    SetLastError(0);
    cr_assert_eq(ResetWriteWatch(q, SIZE), FAIL);
    cr_assert_eq(GetLastError(), (DWORD)ERROR_INVALID_PARAMETER);
    cr_assert_eq(ww(0, p, SIZE, a, 64), 0u);
    release(q);
    release(p);
}

/* Windows: NULL count, granularity or address array (with a nonzero
 * count) are no access; a zero count, unknown flags, a zero size, or a
 * range past the region are bad parameters. */
Test(conformance_writewatch, argument_checks)
{
    char *p = watched(MEM_COMMIT, PAGE_READWRITE);
    p[0] = 1;
    void *a[64];
    ULONG_PTR n;
    DWORD g;
    n = 0;
    assert_ww_fails(ERROR_INVALID_PARAMETER, 0, p, SIZE, a, &n, &g);
    assert_ww_fails(ERROR_NOACCESS, 0, p, SIZE, a, NULL, &g);
    n = 64;
    assert_ww_fails(ERROR_NOACCESS, 0, p, SIZE, a, &n, NULL);
    n = 64;
    assert_ww_fails(ERROR_NOACCESS, 0, p, SIZE, NULL, &n, &g);
    n = 0;
    assert_ww_fails(ERROR_INVALID_PARAMETER, 0, p, SIZE, NULL, &n, &g);
    n = 64;
    assert_ww_fails(ERROR_INVALID_PARAMETER, 0xDEADBEEF, p, SIZE, a, &n, &g);
    n = 64;
    assert_ww_fails(ERROR_INVALID_PARAMETER, 0, p, 0, a, &n, &g);
    n = 64;
    assert_ww_fails(ERROR_INVALID_PARAMETER, 0, p, SIZE * 2, a, &n, &g);
    n = 64;
    assert_ww_fails(ERROR_INVALID_PARAMETER, 0, p + SIZE - PG, PG + 1, a, &n, &g);
    SetLastError(0);
    cr_assert_eq(ResetWriteWatch(p, 0), FAIL);
    cr_assert_eq(GetLastError(), (DWORD)ERROR_INVALID_PARAMETER);
    /* none of that reset anything */
    cr_assert_eq(ww(0, p, SIZE, a, 64), 1u);
    release(p);
}

/* Windows: a count smaller than the pages written returns the first ones,
 * and a reset with it re-arms only those. */
Test(conformance_writewatch, count_too_small)
{
    char *p = watched(MEM_COMMIT, PAGE_READWRITE);
    void *a[64];
    p[PG + 1] = 1;
    p[2 * PG + 3] = 1;
    p[4 * PG + 8] = 1;
    cr_assert_eq(ww(WRITE_WATCH_FLAG_RESET, p, SIZE, a, 1), 1u);
    cr_assert_eq(a[0], (void *)(p + PG));
    cr_assert_eq(ww(0, p, SIZE, a, 64), 2u);
    cr_assert_eq(a[0], (void *)(p + 2 * PG));
    cr_assert_eq(a[1], (void *)(p + 4 * PG));
    /* a subrange reports only its own pages */
    cr_assert_eq(ww(0, p + 3 * PG, 2 * PG, a, 64), 1u);
    cr_assert_eq(a[0], (void *)(p + 4 * PG));
    /* a write straddling two pages marks both */
    *(volatile uint32_t *)(p + 2 * PG - 2) = 0xDEADBEEF;
    cr_assert_eq(ww(0, p, SIZE, a, 64), 3u);
    release(p);
}

/* Windows: the initial protection does not matter, and protection changes
 * do not touch the watch state. */
Test(conformance_writewatch, protection_changes)
{
    char *p = watched(0, PAGE_NOACCESS);
    void *a[64];
    cr_assert_eq(ww(0, p, SIZE, a, 64), 0u);
    cr_assert_eq(ResetWriteWatch(p, SIZE), 0u);
    cr_assert_eq(VirtualAlloc(p, SIZE, MEM_COMMIT, PAGE_NOACCESS), (void *)p);
    cr_assert_eq(ww(0, p, SIZE, a, 64), 0u);
    cr_assert_eq(protect(p, 6 * PG, PAGE_READWRITE), (DWORD)PAGE_NOACCESS);
    p[5 * PG + 200] = 3;
    cr_assert_eq(protect(p, 6 * PG, PAGE_NOACCESS), (DWORD)PAGE_READWRITE);
    cr_assert_eq(ww(0, p, SIZE, a, 64), 1u);
    cr_assert_eq(a[0], (void *)(p + 5 * PG));
    cr_assert_eq(ResetWriteWatch(p, SIZE), 0u);
    a[0] = (void *)0xDEADBEEF;
    cr_assert_eq(ww(WRITE_WATCH_FLAG_RESET, p, SIZE, a, 64), 0u);
    cr_assert_eq(a[0], (void *)0xDEADBEEF, "an empty result wrote to the array");
    release(p);
}

/* Windows: decommitting written pages forgets that they were written,
 * and a recommit does not bring it back. */
Test(conformance_writewatch, decommit_forgets)
{
    char *p = watched(MEM_COMMIT, PAGE_READWRITE);
    void *a[64];
    p[3 * PG + 200] = 3;
    p[5 * PG + 200] = 3;
    assert_ok(VirtualFree(p, SIZE, MEM_DECOMMIT));
    cr_assert_eq(ww(0, p, SIZE, a, 64), 0u);
    cr_assert_eq(VirtualAlloc(p, SIZE, MEM_COMMIT, PAGE_READWRITE), (void *)p);
    cr_assert_eq(ww(0, p, SIZE, a, 64), 0u);
    p[4 * PG] = 4;
    cr_assert_eq(ww(0, p, SIZE, a, 64), 1u);
    cr_assert_eq(a[0], (void *)(p + 4 * PG));
    release(p);
}

/* Windows: a protection change does not touch the watch state, over a
 * long range too. */
Test(conformance_writewatch, long_range)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel has no write watch");
    enum { N = 2048 };
    char *p = VirtualAlloc(NULL, N * PG, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                           PAGE_READWRITE);
    cr_assert_not_null(p);
    static void *a[N];
    cr_assert_eq(ww(0, p, N * PG, a, N), 0u);
    for (size_t i = 0; i < N; i += 2)
        ++p[i * PG];
    cr_assert_eq(protect(p, N * PG / 2, PAGE_READONLY), (DWORD)PAGE_READWRITE);
    cr_assert_eq(ww(0, p, N * PG, a, N), (ULONG_PTR)N / 2);
    for (size_t i = 0; i < N / 2; i++)
        cr_assert_eq(a[i], (void *)(p + 2 * i * PG), "entry %zu", i);
    cr_assert_eq(ww(WRITE_WATCH_FLAG_RESET, p, N * PG, a, N), (ULONG_PTR)N / 2);
    cr_assert_eq(ww(0, p, N * PG, a, N), 0u);
    release(p);
}

/* The guard-page handler of the test below: counts, and while guard_adds
 * is set adds 0x100 to the int at the faulting address (a write made from
 * inside the handler). */
static volatile sig_atomic_t guard_hits, guard_adds;

static void on_guard(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
    if (++guard_hits > 3)
        _exit(99); /* the guard was not lifted: the access faults forever */
    if (guard_adds)
        *(volatile int32_t *)si->si_addr += 0x100;
}

/* Windows: in a watched region, the first write to a guard page raises the
 * guard exception once and is recorded; a read through a guard page is no
 * write, but what the handler writes is. */
Test(conformance_writewatch, guard_page_in_watched_region)
{
    /* the handler goes first: libvmem's, installed when guard pages are
     * armed, chains to it (docs/api.md) */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_guard;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0);
    char *p = watched(MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    void *a[64];
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.Protect, (DWORD)(PAGE_READWRITE | PAGE_GUARD));
    cr_assert_eq(m.RegionSize, SIZE);
    cr_assert_eq(ww(0, p, SIZE, a, 64), 0u);

    volatile int32_t *v = (volatile int32_t *)p;
    guard_hits = 0;
    guard_adds = 1;
    v[0] = 1;
    v[1] = 2;
    cr_assert_eq(guard_hits, 1);
    cr_assert_eq(v[0], 1);
    cr_assert_eq(ww(WRITE_WATCH_FLAG_RESET, p, SIZE, a, 64), 1u);
    cr_assert_eq(a[0], (void *)p);

    cr_assert_eq(protect(p, PG, PAGE_READWRITE | PAGE_GUARD), (DWORD)PAGE_READWRITE);
    guard_hits = 0;
    int32_t got = v[1];
    cr_assert_eq(guard_hits, 1);
    cr_assert_eq(got, 0x102, "the read after the handler: %#x", (unsigned)got);
    cr_assert_eq(v[0], 1);
    cr_assert_eq(ww(WRITE_WATCH_FLAG_RESET, p, SIZE, a, 64), 1u, "the handler's write");
    cr_assert_eq(a[0], (void *)p);

    /* a read alone, through the guard, is no write */
    cr_assert_eq(protect(p, PG, PAGE_READWRITE | PAGE_GUARD), (DWORD)PAGE_READWRITE);
    guard_hits = 0;
    guard_adds = 0;
    got = v[1];
    cr_assert_eq(guard_hits, 1);
    cr_assert_eq(got, 0x102);
    cr_assert_eq(ww(0, p, SIZE, a, 64), 0u, "a read was recorded as a write");
    release(p);
}
