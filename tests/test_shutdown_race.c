/*
 * vmem_shutdown with other threads still touching managed memory, and a
 * program's handler that leaves libvmem's signal by siglongjmp.
 *
 * The contract (include/vmem.h, docs/api.md): an access that shutdown
 * overtakes either completes with the right data or raises SIGSEGV, as any
 * unmapped address does -- never SIGBUS for a page that had no I/O error,
 * never a hang; and however the program's SIGSEGV/SIGBUS handler leaves
 * (returning or siglongjmp), libvmem holds none of its locks by then.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <vmem.h>

#include "core/runtime.h"
#include "pagefile/pagefile.h"

#include "helpers.h"

#define WORKERS 4
#define PAGES   1024 /* 4 MiB a round: twice the cap where there is one */
#define ROUNDS  3

/* What the threads met: signals by kind, and reads that were wrong. */
static atomic_int got_segv, got_bus, got_bad;
static atomic_int bus_code; /* si_code of the first SIGBUS */
static atomic_int stop, passes;
static uint8_t *volatile base;
static _Thread_local sigjmp_buf jb;
static _Thread_local volatile int armed;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGBUS) {
        int zero = 0;
        atomic_compare_exchange_strong(&bus_code, &zero, si->si_code ? si->si_code : -1);
        atomic_fetch_add(&got_bus, 1);
    } else {
        atomic_fetch_add(&got_segv, 1);
    }
    if (armed) {
        armed = 0;
        siglongjmp(jb, 1);
    }
    signal(sig, SIG_DFL); /* not expected here: die of it */
}

/* Both handlers, before libvmem starts (it chains to them). */
static void catch_faults(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0);
    cr_assert_eq(sigaction(SIGBUS, &sa, NULL), 0);
}

static uint64_t word(size_t page, uint64_t gen) { return ((uint64_t)page << 20) ^ gen; }

/* Writes its share of the pages, reads them back in a scattered order,
 * until told to stop or a signal ends it. */
static void *worker(void *arg)
{
    size_t t = (size_t)arg, per = PAGES / WORKERS, lo = t * per;
    uint8_t *p = base;
    if (sigsetjmp(jb, 1))
        return NULL;
    armed = 1;
    for (uint64_t gen = 1; !atomic_load(&stop); gen++) {
        for (size_t i = lo; i < lo + per; i++)
            *(volatile uint64_t *)(p + i * PG) = word(i, gen);
        for (size_t k = 0; k < per; k++) {
            size_t i = lo + (k * 7919) % per;
            if (*(volatile uint64_t *)(p + i * PG) != word(i, gen))
                atomic_fetch_add(&got_bad, 1);
        }
        atomic_fetch_add(&passes, 1);
    }
    armed = 0;
    return NULL;
}

/* 1 if reading p raised SIGSEGV (in this thread). */
static int read_segv(const volatile uint8_t *p)
{
    int before = atomic_load(&got_segv);
    if (sigsetjmp(jb, 1) == 0) {
        armed = 1;
        (void)*p;
        armed = 0;
    }
    return atomic_load(&got_segv) == before + 1;
}

/* Rounds of WORKERS threads writing and reading back their pages (paging
 * under a cap where the mode can) while this thread pulls the memory away:
 * vmem_shutdown, or a VirtualFree(MEM_RELEASE) of it. */
static void race(int shutdown)
{
    catch_faults();
    for (int round = 0; round < ROUNDS; round++) {
        int e = vmem_init(NULL);
        cr_assert(e == 0 || e == EALREADY, "vmem_init round %d: %s", round, strerror(e));
        cr_assert(e == 0 || round == 0 || !shutdown, "round %d: still running", round);
        if (paging_mode() && (round == 0 || shutdown)) {
            e = vmem_set_max_resident(2 * MIB);
            cr_assert(e == 0 || e == ENOTSUP, "cap: %s", strerror(e)); /* move without MOVE */
        }
        base = VirtualAlloc(NULL, PAGES * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        cr_assert_not_null(base, "VirtualAlloc: error %u", (unsigned)GetLastError());
        atomic_store(&stop, 0);
        atomic_store(&passes, 0);
        pthread_t th[WORKERS];
        for (size_t i = 0; i < WORKERS; i++)
            cr_assert_eq(pthread_create(&th[i], NULL, worker, (void *)i), 0);
        /* every worker at work (and paging, under the cap) */
        while (atomic_load(&passes) < WORKERS)
            sched_yield();
        if (shutdown)
            vmem_shutdown();
        else
            release(base);
        atomic_store(&stop, 1);
        for (size_t i = 0; i < WORKERS; i++)
            cr_assert_eq(pthread_join(th[i], NULL), 0);
        cr_assert_eq(atomic_load(&got_bus), 0,
                     "round %d: %d SIGBUS (first si_code %d) for pages that had no I/O error",
                     round, atomic_load(&got_bus), atomic_load(&bus_code));
        cr_assert_eq(atomic_load(&got_bad), 0, "round %d: %d reads were wrong", round,
                     atomic_load(&got_bad));
        /* and afterwards the memory is gone: an access violation */
        cr_assert(read_segv(base + 5 * PG), "round %d: the old memory read afterwards", round);
        cr_assert_eq(as_lock_depth, 0);
    }
}

Test(shutdown_race, threads_faulting_through_shutdown_complete_or_meet_sigsegv)
{
    race(1);
}

Test(shutdown_race, threads_faulting_through_release_complete_or_meet_sigsegv)
{
    race(0);
}

/* ---- a handler that siglongjmps, then calls libvmem ------------------------ */

/* After the program left libvmem's signal by siglongjmp: this thread holds
 * no lock of libvmem, and every kind of call still works, shutdown too. */
static void calls_after_longjmp(void)
{
    cr_assert_eq(as_lock_depth, 0, "as_lock still held after the handler left by siglongjmp");
    void *q = VirtualAlloc(NULL, 64 * 1024, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(q, "VirtualAlloc: error %u", (unsigned)GetLastError());
    memset(q, 0x5A, 64 * 1024);
    cr_assert(VirtualFree(q, 0, MEM_RELEASE), "VirtualFree: error %u", (unsigned)GetLastError());
    vmem_shutdown();
    cr_assert_eq(vmem_init(NULL), 0);
    q = VirtualAlloc(NULL, 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(q);
    *(volatile int *)q = 1;
    vmem_shutdown();
}

Test(shutdown_race, longjmp_out_of_access_violation)
{
    catch_faults();
    uint8_t *p = VirtualAlloc(NULL, 64 * 1024, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    cr_assert_not_null(p);
    cr_assert(read_segv(p + PG), "a PAGE_NOACCESS page read");
    uint8_t *r = VirtualAlloc(NULL, 64 * 1024, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(r);
    cr_assert(read_segv(r), "a reserved page read");
    cr_assert_eq(atomic_load(&got_bus), 0);
    calls_after_longjmp();
}

Test(shutdown_race, longjmp_out_of_guard_page)
{
    catch_faults();
    uint8_t *p = VirtualAlloc(NULL, 64 * 1024, MEM_RESERVE | MEM_COMMIT,
                              PAGE_READWRITE | PAGE_GUARD);
    cr_assert_not_null(p);
    cr_assert(read_segv(p), "a guard page read without STATUS_GUARD_PAGE");
    cr_assert_not(read_segv(p), "the guard stayed after its first access");
    calls_after_longjmp();
}

Test(shutdown_race, longjmp_out_of_inpage_error)
{
    catch_faults();
    setenv("VMEM_STANDBY", "off", 1); /* trimmed pages go to the page file */
    need_paging(1 * MIB);
    size_t n = 4 * MIB / PG;
    uint8_t *p = VirtualAlloc(NULL, n * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        p[i * PG] = (uint8_t)i;
    size_t victim = find_pagedout(p, n);
    pagefile_inject_errors(1, EIO);
    int before = atomic_load(&got_bus);
    if (sigsetjmp(jb, 1) == 0) {
        armed = 1;
        (void)*(volatile uint8_t *)(p + victim * PG);
        armed = 0;
    }
    pagefile_inject_errors(0, 0);
    cr_assert_eq(atomic_load(&got_bus), before + 1, "the lost page raised no SIGBUS");
    cr_assert_eq(atomic_load(&bus_code), BUS_MCEERR_AR, "si_code %d", atomic_load(&bus_code));
    calls_after_longjmp();
}
