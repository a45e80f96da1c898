/*
 * A trimmed page whose MADV_DONTNEED fails stays mapped: here the
 * application mlock()s part of its memory itself (not VirtualLock), so the
 * kernel refuses to discard those pages (EINVAL on a VM_LOCKED range).
 * The trimmer must notice and keep them resident; before, they were
 * recorded as paged out while still mapped, and the next write to one of
 * them faulted forever ("page-in failed (File exists)").
 *
 * The same for clean pages, which leave together with one vectored
 * MADV_DONTNEED (os/vm.c's vm_discard_pages): a locked page among them
 * stops the call there, and it and the pages after it must stay resident
 * and readable.
 *
 * Runs in a forked child, which starts a runtime of its own under the cap
 * (a page that faults forever shows as the test's timeout).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vmem.h>

#include "helpers.h"
#include "os/vm.h"

#define PAGES  1024 /* 4 MiB under a 1 MiB cap */
#define LOCKED 64   /* the first 256 KiB mlock()ed by the application */

enum { OK, ALLOC_FAILED, MLOCK_FAILED, BAD_DATA, NOT_PAGED, MLOCKALL_REFUSED };

/* The application locks [a, a + len) itself: mlock(), or mlock2() with
 * MLOCK_ONFAULT.  The raw system calls: sanitizer runtimes make mlock() a
 * no-op.  OK or MLOCK_FAILED (said on stderr). */
static int app_lock(const void *a, size_t len, int onfault)
{
    long r = onfault ? syscall(SYS_mlock2, a, len, 1 /* MLOCK_ONFAULT */)
                     : syscall(SYS_mlock, a, len);
    if (r != 0) {
        fprintf(stderr, "%s: %s\n", onfault ? "mlock2" : "mlock", strerror(errno));
        return MLOCK_FAILED;
    }
    return OK;
}

/* OK if the runtime trimmed pages (the scenario paged), else NOT_PAGED. */
static int paged(void)
{
    struct vmem_stats st;
    return vmem_get_stats(&st) || !st.trimmed_pages ? NOT_PAGED : OK;
}

/* PAGES pages under a 1 MiB cap, each page's first word its number + 1. */
static uint64_t *filled(void)
{
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    uint64_t *m = VirtualAlloc(NULL, (size_t)PAGES * 4096, MEM_COMMIT | MEM_RESERVE,
                               PAGE_READWRITE);
    if (m)
        for (size_t p = 0; p < PAGES; p++)
            m[p * 512] = p + 1;
    return m;
}

static int child(void)
{
    uint64_t *m = filled();
    if (!m)
        return ALLOC_FAILED;
    if (app_lock(m, (size_t)LOCKED * 4096, 0) != OK)
        return MLOCK_FAILED;
    for (uint64_t gen = 2; gen <= 4; gen++) {
        for (size_t p = 0; p < PAGES; p++)
            m[p * 512 + gen] = p * gen;
        for (size_t p = 0; p < PAGES; p++)
            if (m[p * 512] != p + 1 || m[p * 512 + gen] != p * gen)
                return BAD_DATA;
    }
    return paged();
}

/* Runs fn in a forked child (a runtime of its own, under the cap when fn
 * sets one) and checks how it ended; one that needs paging is skipped in
 * fault mode kernel. */
static void run_scenario(int (*fn)(void), int needs_paging)
{
    const char *mode = getenv("VMEM_FAULT_MODE");
    if (needs_paging && mode && !strcmp(mode, "kernel"))
        cr_skip_test("fault mode kernel: no paging");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(fn());
    int st = child_status(pid);
    cr_assert(st < 128, "the child died of signal %d", st - 128);
    if (st == MLOCK_FAILED) /* signal mode: populating raises SIGBUS */
        cr_skip_test("mlock() of userfaultfd-managed memory fails in this fault mode");
    if (st == MLOCKALL_REFUSED)
        cr_skip_test("mlockall() refused (RLIMIT_MEMLOCK below the process's size?)");
    cr_assert_eq(st, OK, "child exit %d (see enum)", st);
}

static void run_paging_child(int (*fn)(void))
{
    run_scenario(fn, 1);
}

Test(discard_fails, locked_by_the_application_stays_resident)
{
    run_paging_child(child);
}

/* Pages [0, n) of m (filled()) take a second word, p * mult, and read
 * back both. */
static int rewritten(uint64_t *m, size_t n, uint64_t mult)
{
    for (size_t p = 0; p < n; p++)
        m[p * 512 + 1] = p * mult;
    for (size_t p = 0; p < n; p++)
        if (m[p * 512] != p + 1 || m[p * 512 + 1] != p * mult)
            return BAD_DATA;
    return OK;
}

/* Clean pages (read back from the page file, never written since) with
 * some mlock()ed among them: the clean path drops a batch of victims with
 * one call, which the locked ones stop. */
static int child_clean(void)
{
    uint64_t *m = filled();
    if (!m)
        return ALLOC_FAILED;
    /* read back: clean pages now, the locked range among them after the
     * lock brings it in (every 16th page of the first 512) */
    for (size_t p = 0; p < PAGES; p++)
        if (m[p * 512] != p + 1)
            return BAD_DATA;
    for (size_t p = 0; p < PAGES / 2; p += 16)
        if (app_lock(&m[p * 512], 4096, 0) != OK)
            return MLOCK_FAILED;
    struct vmem_stats before, after;
    if (vmem_get_stats(&before))
        return NOT_PAGED;
    for (int round = 0; round < 3; round++)
        for (size_t p = 0; p < PAGES; p++)
            if (m[p * 512] != p + 1)
                return BAD_DATA;
    if (vmem_get_stats(&after) || after.trimmed_pages == before.trimmed_pages)
        return NOT_PAGED;
    /* and they can still be written and read back */
    return rewritten(m, PAGES, 3);
}

Test(discard_fails, clean_pages_locked_by_the_application_stay_resident)
{
    run_paging_child(child_clean);
}

/* The application mlockall()s a process that paged: the kernel populates
 * every mapping, libvmem's standby frames included, which in move mode are
 * registered with userfaultfd and never touched by libvmem.  Before, a fault
 * on a frame's address (frame 0, never used, is the first populated) found
 * no reservation and was only woken: mlockall() faulted for ever (a hang
 * the test's timeout shows).  Most of the memory is decommitted first, so
 * that the pages brought back in and locked fit under the cap (locked pages
 * over it cannot leave, and each costs the fault a vain trim). */
#define KEPT 128

static int child_mlockall(void)
{
    uint64_t *m = filled();
    if (!m)
        return ALLOC_FAILED;
    if (paged() != OK)
        return NOT_PAGED;
    if (!VirtualFree(m + KEPT * 512, (size_t)(PAGES - KEPT) * 4096, MEM_DECOMMIT))
        return ALLOC_FAILED;
    /* the raw system call: sanitizer runtimes make mlockall() a no-op */
    if (syscall(SYS_mlockall, MCL_CURRENT) != 0) {
        fprintf(stderr, "mlockall: %s\n", strerror(errno));
        return MLOCKALL_REFUSED;
    }
    for (size_t p = 0; p < KEPT; p++)
        if (m[p * 512] != p + 1)
            return BAD_DATA;
    int st = rewritten(m, KEPT, 5);
    syscall(SYS_munlockall);
    return st;
}

Test(discard_fails, mlockall_of_a_paging_process_completes)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* MCL_CURRENT populates every mapping, the sanitizer's shadow memory
     * (terabytes reserved) included: the kernel kills the process */
    cr_skip_test("under a sanitizer mlockall() would lock its shadow memory");
#endif
    run_paging_child(child_mlockall);
}

/* n pages of kernel anonymous memory, page i filled with 0x40 + i, page
 * `locked` mlock()ed. */
static uint8_t *pages_one_locked(int n, int locked)
{
    uint8_t *m = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    for (int i = 0; i < n; i++)
        memset(m + i * 4096, 0x40 + i, 4096);
    cr_assert_eq(syscall(SYS_mlock, m + locked * 4096, 4096), 0, "mlock: %s", strerror(errno));
    return m;
}

/* vm_discard_pages itself: pages dropped up to the first that cannot be
 * (mlock()ed: EINVAL), that one and those after it untouched; adjacent
 * pages passed apart or together alike. */
Test(discard_fails, vector_discard_stops_at_a_locked_page)
{
    enum { N = 12 };
    uint8_t *m = pages_one_locked(N, 6);
    uintptr_t a[] = { (uintptr_t)m + 4096, (uintptr_t)m + 2 * 4096, (uintptr_t)m + 9 * 4096,
                      (uintptr_t)m + 6 * 4096, (uintptr_t)m + 7 * 4096, (uintptr_t)m + 11 * 4096 };
    size_t done = 99;
    int e = vm_discard_pages(a, 6, &done);
    cr_expect_eq(e, EINVAL, "error %d (%s)", e, strerror(e));
    cr_expect_eq(done, 3, "dropped %zu", done);
    /* dropped: 1, 2, 9 read zeros; the rest kept their bytes */
    for (int i = 0; i < N; i++) {
        uint8_t want = (i == 1 || i == 2 || i == 9) ? 0 : (uint8_t)(0x40 + i);
        cr_expect_eq(m[i * 4096], want, "page %d reads %#x, not %#x", i, m[i * 4096], want);
        cr_expect_eq(m[i * 4096 + 4095], want, "page %d's end", i);
    }
    uintptr_t b[] = { (uintptr_t)m + 7 * 4096, (uintptr_t)m + 11 * 4096, (uintptr_t)m };
    e = vm_discard_pages(b, 3, &done);
    cr_expect_eq(e, 0, "error %d", e);
    cr_expect_eq(done, 3);
    cr_expect_eq(m[0], 0);
    cr_expect_eq(m[7 * 4096], 0);
    cr_expect_eq(m[11 * 4096], 0);
    cr_expect_eq(m[6 * 4096], 0x46, "the locked page kept its bytes");
    munmap(m, N * 4096);
}

/* Neighbours passed together: the kernel drops page by page, so a locked
 * page right after a droppable one fails the call after the first was
 * dropped; the count must say so (before: the two were one range, counted
 * as neither, and the dropped one was taken for still mapped). */
Test(discard_fails, vector_discard_counts_a_neighbour_dropped_before_a_locked_one)
{
    enum { N = 4 };
    uint8_t *m = pages_one_locked(N, 2);
    uintptr_t a[] = { (uintptr_t)m + 4096, (uintptr_t)m + 2 * 4096, (uintptr_t)m + 3 * 4096 };
    size_t done = 99;
    int e = vm_discard_pages(a, 3, &done);
    cr_expect_eq(e, EINVAL, "error %d (%s)", e, strerror(e));
    cr_expect_eq(done, 1, "counted %zu dropped", done);
    cr_expect_eq(m[4096], 0, "page 1 was dropped");
    cr_expect_eq(m[2 * 4096], 0x42, "the locked page kept its bytes");
    cr_expect_eq(m[3 * 4096], 0x43, "the page after it was not tried");
    munmap(m, N * 4096);
}

/* The same met by the trimmer: clean pages of a write-watch region (zero
 * pages installed write-protected, no page-file slot) trimmed in pairs of
 * neighbours whose second is mlock2(MLOCK_ONFAULT)ed.  Before, the first of
 * a pair was dropped but recorded as resident, and its next touch raised
 * SIGBUS ("resident in libvmem's table but not mapped"). */
static int child_watch_pairs(void)
{
    enum { NP = 2048 };
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    volatile uint64_t *m = VirtualAlloc(NULL, NP * 4096ul,
                                        MEM_COMMIT | MEM_RESERVE | MEM_WRITE_WATCH,
                                        PAGE_READWRITE);
    if (!m)
        return ALLOC_FAILED;
    for (int r = 0; r < 2; r++)
        for (size_t p = 0; p < NP; p++)
            if (m[p * 512] != 0)
                return BAD_DATA;
    for (size_t p = 1; p < NP; p += 32)
        if (app_lock((const void *)(m + p * 512), 4096, 1) != OK)
            return MLOCK_FAILED;
    uint64_t s = 99;
    for (int i = 0; i < 3 * NP; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        size_t p = (i & 1) ? 32 * (s % (NP / 32)) : 2 * (s % (NP / 2));
        if (m[p * 512] != 0 || m[(p + 1) * 512] != 0)
            return BAD_DATA;
    }
    return paged();
}

Test(discard_fails, clean_neighbours_of_locked_pages_are_not_lost)
{
    run_paging_child(child_watch_pairs);
}

/* Read-only pages cannot move, so runs of them leave by the copy path,
 * whose discard of a run stopped at an mlock()ed page in its middle after
 * dropping the pages before it: they were recorded resident, and their
 * next touch raised SIGBUS. */
static int child_readonly_runs(void)
{
    uint64_t *m = filled();
    if (!m)
        return ALLOC_FAILED;
    DWORD old;
    if (!VirtualProtect(m, (size_t)PAGES * 4096, PAGE_READONLY, &old))
        return ALLOC_FAILED;
    for (size_t p = 8; p < PAGES; p += 16)
        if (app_lock(&m[p * 512], 4096, 0) != OK)
            return MLOCK_FAILED;
    for (int round = 0; round < 4; round++)
        for (size_t p = 0; p < PAGES; p++)
            if (m[p * 512] != p + 1)
                return BAD_DATA;
    return paged();
}

Test(discard_fails, copy_runs_with_a_locked_page_inside_lose_nothing)
{
    run_paging_child(child_readonly_runs);
}

/* Decommit of a range with a page the application mlock()ed in its
 * middle: the kernel dropped the pages before it, then refused the locked
 * one, and the decommit failed with every page recorded as it was -- the
 * dropped ones lost (SIGBUS at their next touch).  Decommit discards the
 * contents whatever the locks, as VirtualFree does on Windows. */
static int child_decommit_locked(void)
{
    enum { N = 16 };
    uint8_t *m = VirtualAlloc(NULL, N * 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (!m)
        return ALLOC_FAILED;
    for (int i = 0; i < N; i++)
        m[i * 4096] = (uint8_t)(i + 1);
    if (app_lock(m + 8 * 4096, 4096, 0) != OK)
        return MLOCK_FAILED;
    if (!VirtualFree(m, N * 4096, MEM_DECOMMIT)) {
        fprintf(stderr, "decommit failed: %lu\n", (unsigned long)GetLastError());
        return BAD_DATA;
    }
    if (VirtualAlloc(m, N * 4096, MEM_COMMIT, PAGE_READWRITE) != m)
        return ALLOC_FAILED;
    for (int i = 0; i < N; i++)
        if (m[i * 4096] != 0)
            return BAD_DATA; /* a recommit never shows old data */
    return OK;
}

Test(discard_fails, decommit_with_a_locked_page_inside)
{
    run_scenario(child_decommit_locked, 0);
}
