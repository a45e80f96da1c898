/*
 * test_guard.c -- PAGE_GUARD: a one-shot SIGSEGV delivered to the
 * application's own handler, after which the access succeeds.
 */
#include <memoryapi.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <signal.h>
#include <stdint.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static void *volatile fault_addr;

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
    fault_addr = si->si_addr;
    hits = hits + 1;
    if (hits > 3) {
        /* the access keeps faulting: the guard was not lifted */
        static const char msg[] = "test_guard: SIGSEGV repeats; the guard page was not "
                                  "lifted before the handler ran\n";
        ssize_t r = write(2, msg, sizeof msg - 1);
        (void)r;
        _exit(99);
    }
}

static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0);
    hits = 0;
    fault_addr = NULL;
}

Test(guard, read_reaches_handler_once)
{
    unsigned char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    p[100] = 0x5A;
    install_handler();
    cr_assert_eq(protect(p, PG, PAGE_READWRITE | PAGE_GUARD), (DWORD)PAGE_READWRITE);
    cr_assert_eq(query(p).Protect, (DWORD)(PAGE_READWRITE | PAGE_GUARD));

    volatile unsigned char *v = p;
    unsigned char got = v[100];
    cr_assert_eq(hits, 1, "the handler saw %d signals", (int)hits);
    cr_assert_eq(fault_addr, (void *)(p + 100), "si_addr %p, want %p", fault_addr,
                 (void *)(p + 100));
    cr_assert_eq(got, 0x5A, "the retried read returns the page's data");

    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READWRITE, "guard gone: Protect %#x", (unsigned)m.Protect);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    got = v[200];
    v[300] = 1;
    cr_assert_eq(hits, 1, "a second access raises nothing");
    cr_assert_eq(got, 0);
    cr_assert_eq(p[300], 1);
}

Test(guard, write_reaches_handler_and_takes_effect)
{
    unsigned char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    install_handler();
    protect(p + PG, PG, PAGE_READWRITE | PAGE_GUARD);
    volatile unsigned char *v = p;
    v[PG + 8] = 0xC3;
    cr_assert_eq(hits, 1);
    cr_assert_eq(fault_addr, (void *)(p + PG + 8));
    cr_assert_eq(p[PG + 8], 0xC3, "the retried write landed");
    cr_assert_eq(query(p + PG).Protect, (DWORD)PAGE_READWRITE);
    v[PG + 9] = 1;
    cr_assert_eq(hits, 1);
}

Test(guard, committed_with_guard)
{
    install_handler();
    unsigned char *p = alloc_committed(PG, PAGE_READONLY | PAGE_GUARD);
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.Protect, (DWORD)(PAGE_READONLY | PAGE_GUARD));
    volatile unsigned char *v = p;
    unsigned char got = v[PG - 1];
    cr_assert_eq(hits, 1);
    cr_assert_eq(fault_addr, (void *)(p + PG - 1));
    cr_assert_eq(got, 0, "a fresh guarded page reads zero after the guard fires");
    cr_assert_eq(query(p).Protect, (DWORD)PAGE_READONLY);
}

Test(guard, each_page_fires_separately)
{
    unsigned char *p = alloc_committed(3 * PG, PAGE_READWRITE);
    install_handler();
    protect(p, 3 * PG, PAGE_READWRITE | PAGE_GUARD);
    volatile unsigned char *v = p;
    v[PG] = 1;
    cr_assert_eq(hits, 1);
    cr_assert_eq(query(p).Protect, (DWORD)(PAGE_READWRITE | PAGE_GUARD), "page 0 still armed");
    cr_assert_eq(query(p + PG).Protect, (DWORD)PAGE_READWRITE);
    cr_assert_eq(query(p + 2 * PG).Protect, (DWORD)(PAGE_READWRITE | PAGE_GUARD),
                 "page 2 still armed");
    (void)v[2 * PG];
    cr_assert_eq(hits, 2);
    cr_assert_eq(fault_addr, (void *)(p + 2 * PG));
    (void)v[0];
    cr_assert_eq(hits, 3);
    cr_assert_eq(fault_addr, (void *)p);
    cr_assert_eq(p[PG], 1);
}

Test(guard, old_protection_shows_guard)
{
    unsigned char *p = alloc_committed(PG, PAGE_READWRITE);
    install_handler();
    protect(p, PG, PAGE_EXECUTE_READ | PAGE_GUARD);
    DWORD old = protect(p, PG, PAGE_READWRITE | PAGE_GUARD);
    cr_assert_eq(old, (DWORD)(PAGE_EXECUTE_READ | PAGE_GUARD), "old %#x", (unsigned)old);
    volatile unsigned char *v = p;
    (void)v[0];
    cr_assert_eq(hits, 1);
    old = protect(p, PG, PAGE_READWRITE);
    cr_assert_eq(old, (DWORD)PAGE_READWRITE, "after the guard fired: old %#x", (unsigned)old);
}

Test(guard, no_handler_dies, .signal = SIGSEGV)
{
    unsigned char *p = alloc_committed(PG, PAGE_READWRITE);
    protect(p, PG, PAGE_READWRITE | PAGE_GUARD);
    volatile unsigned char *v = p;
    (void)v[0];
    cr_assert_fail("the guard page access did not kill the process");
}
