/*
 * In-page errors: a page that cannot be read back from the page file
 * raises SIGBUS (BUS_MCEERR_AR, si_addr in the page) in the faulting
 * thread, as Windows raises STATUS_IN_PAGE_ERROR, instead of being retried
 * forever; the page stays in error until decommitted.  Transient errors
 * are retried and lose nothing; a thread without an io_uring ring reads
 * with pread.  Errors are injected in the page file (pagefile_inject_errors);
 * test_fuse_inject.c does the same through a faulty file system.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <vmem.h>

#include "os/uffd.h"
#include "pagefile/pagefile.h"
#include "core/pte.h"
#include "core/region.h"
#include "core/runtime.h"

#include "helpers.h"

/* Makes page `victim` an in-page error: every page-file read fails. */
static void lose_page(uint8_t *p, size_t victim)
{
    uint64_t before = stats().inpage_errors;
    pagefile_inject_errors(1, EIO);
    uint64_t v;
    volatile uint64_t *w = (volatile uint64_t *)(p + victim * 4096 + 8);
    cr_assert(read_faults(w, &v), "the page read back though every read fails");
    pagefile_inject_errors(0, 0);
    cr_assert_eq(got_code, BUS_MCEERR_AR, "si_code %d", (int)got_code);
    cr_assert_eq((uintptr_t)got_addr & ~(uintptr_t)4095, (uintptr_t)(p + victim * 4096),
                 "si_addr %p, page %p", got_addr, (void *)(p + victim * 4096));
    cr_assert_eq(stats().inpage_errors, before + 1);
    cr_assert_eq(page_state(p + victim * 4096), PTE_INPAGE_ERROR);
}

Test(inpage, persistent_error_raises_sigbus)
{
    size_t n;
    uint8_t *p = paged_region(&n, 5);
    size_t victim = find_pagedout(p, n);
    lose_page(p, victim);

    /* the page stays in error, for reads and writes, errors or not */
    uint64_t v;
    volatile uint64_t *w = (volatile uint64_t *)(p + victim * 4096);
    cr_assert(read_faults(w, &v));
    cr_assert_eq(got_code, BUS_MCEERR_AR);
    cr_assert(write_faults(w + 100, 1));
    cr_assert_eq(got_code, BUS_MCEERR_AR);

    /* everything else reads back, and pages on meanwhile (the trimmer
     * passes the lost page by) */
    cr_assert_eq(first_bad_salted(p, 0, n, 5, victim), n);
    fill_salted(p, victim, 6);
    cr_assert_eq(first_bad_salted(p, 0, victim, 6, SIZE_MAX), victim);
    cr_assert_eq(page_state(p + victim * 4096), PTE_INPAGE_ERROR);
    struct vmem_stats s = stats();
    cr_assert_eq(s.inpage_errors, 1);
    cr_assert_gt(s.hard_faults, 0);

    /* it cannot be locked in memory either */
    cr_assert_not(VirtualLock(p + victim * 4096, 4096), "a lost page was locked");

    /* decommit ends it; committed again, the page reads zeros */
    cr_assert(VirtualFree(p + victim * 4096, 4096, MEM_DECOMMIT));
    cr_assert_not_null(VirtualAlloc(p + victim * 4096, 4096, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_not(read_faults(w, &v), "a re-committed page still raises SIGBUS");
    cr_assert_eq(v, 0);
    cr_assert_not(write_faults(w, 42));
    cr_assert_eq(*w, 42);
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
}

Test(inpage, release_of_a_lost_page)
{
    size_t n;
    uint8_t *p = paged_region(&n, 5);
    size_t victim = find_pagedout(p, n);
    lose_page(p, victim);
    uint64_t charge = stats().commit_charge;
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
    cr_assert_eq(stats().commit_charge, charge - n);
    /* the address space is usable again, without the poison */
    uint8_t *q = VirtualAlloc(p, n * 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (q) {
        uint64_t v = 1;
        cr_assert_not(read_faults((volatile uint64_t *)(q + victim * 4096), &v));
        cr_assert_eq(v, 0);
    }
}

/* A resident page dropped behind libvmem's back (the application's own
 * MADV_DONTNEED, or a move the kernel reported wrongly): the table says
 * resident, nothing is mapped.  The access gets an in-page error, not a
 * fault retried for ever; a write as well; the page stays in error.  The
 * region is well under the cap, so no trimming can take the page first. */
Test(inpage, a_resident_page_dropped_behind_the_table_raises_sigbus)
{
    setenv("VMEM_STANDBY", "off", 1);
    catch_sigbus();
    need_paging(1 * MIB);
    size_t n = 16;
    uint8_t *p = VirtualAlloc(NULL, n * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p, "VirtualAlloc: error %u", (unsigned)GetLastError());
    fill_salted(p, n, 6);
    size_t victim = n / 2;
    /* the fault thread's copy wakes the writer before it marks the page
     * resident in the table: that is waited for */
    int st;
    while ((st = page_state(p + victim * 4096)) == PTE_COMMITTED)
        sched_yield();
    cr_assert_eq(st, PTE_RESIDENT, "state %d", st);
    uint64_t before = stats().inpage_errors;
    cr_assert_eq(syscall(SYS_madvise, p + victim * 4096, 4096, MADV_DONTNEED), 0,
                 "madvise: %s", strerror(errno));
    uint64_t v;
    volatile uint64_t *w = (volatile uint64_t *)(p + victim * 4096 + 8);
    cr_assert(read_faults(w, &v), "a dropped page read back (%#llx)", (unsigned long long)v);
    cr_assert_eq(got_code, BUS_MCEERR_AR, "si_code %d", (int)got_code);
    cr_assert_eq((uintptr_t)got_addr & ~(uintptr_t)4095, (uintptr_t)(p + victim * 4096));
    cr_assert_eq(stats().inpage_errors, before + 1);
    cr_assert_eq(page_state(p + victim * 4096), PTE_INPAGE_ERROR);
    cr_assert(write_faults(w, 1), "a write to the dropped page went through");
    size_t bad = first_bad_salted(p, 0, n, 6, victim);
    cr_assert_eq(bad, n, "page %zu lost its contents", bad);
}

Test(inpage, transient_errors_are_retried)
{
    size_t n;
    uint8_t *p = paged_region(&n, 5);
    (void)find_pagedout(p, n);
    /* every second I/O of each thread fails: the retry succeeds */
    pagefile_inject_errors(2, EIO);
    for (unsigned round = 0; round < 2; round++) {
        size_t bad = first_bad_salted(p, 0, n, 5, SIZE_MAX);
        cr_assert_eq(bad, n, "page %zu lost", bad);
    }
    pagefile_inject_errors(0, 0);
    struct vmem_stats s = stats();
    cr_assert_eq(s.inpage_errors, 0);
    cr_assert_gt(s.hard_faults, 0, "the cap did not bite");
    cr_assert_eq(sigbus_count, 0);
}

struct part { const uint8_t *p; size_t from, to, bad; };

static void *check_part(void *arg)
{
    struct part *q = arg;
    q->bad = first_bad_salted(q->p, q->from, q->to, 5, SIZE_MAX);
    return NULL;
}

/* The same with four threads faulting at once (in signal mode each reads
 * for itself, with its own injected errors). */
Test(inpage, transient_errors_with_threads)
{
    size_t n;
    uint8_t *p = paged_region(&n, 5);
    (void)find_pagedout(p, n);
    pagefile_inject_errors(2, EIO);
    pthread_t t[4];
    struct part q[4];
    for (int i = 0; i < 4; i++) {
        q[i] = (struct part){ p, n / 4 * (size_t)i, n / 4 * (size_t)(i + 1), 0 };
        cr_assert_eq(start_thread(&t[i], check_part, &q[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    pagefile_inject_errors(0, 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(q[i].bad, q[i].to, "page %zu lost", q[i].bad);
    struct vmem_stats s = stats();
    cr_assert_eq(s.inpage_errors, 0);
    cr_assert_gt(s.hard_faults, 0);
    cr_assert_eq(sigbus_count, 0);
}

Test(inpage, forked_child_gets_the_error)
{
    size_t n;
    uint8_t *p = paged_region(&n, 5);
    size_t victim = find_pagedout(p, n);
    lose_page(p, victim);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        uint64_t v;
        volatile uint64_t *w = (volatile uint64_t *)(p + victim * 4096 + 16);
        int ok = read_faults(w, &v) && got_code == BUS_MCEERR_AR &&
                 ((uintptr_t)got_addr & ~(uintptr_t)4095) == (uintptr_t)(p + victim * 4096);
        ok = ok && read_faults(w, &v); /* again */
        ok = ok && first_bad_salted(p, 0, n, 5, victim) == n;
        _exit(ok ? 0 : 1);
    }
    child_assert_ok(pid, "child reading a lost page");
}

/* Without a descriptor free, no thread can make an io_uring ring: page-ins
 * fall back to pread and every byte still reads back. */
Test(inpage, no_ring_reads_with_pread)
{
    size_t n;
    uint8_t *p = paged_region(&n, 5);
    (void)find_pagedout(p, n);
    struct rlimit old, lim;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    lim = old;
    lim.rlim_cur = 64;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
    int fds[64], nfds = 0;
    while (nfds < 64 && (fds[nfds] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        nfds++;
    int full = nfds < 64 && errno == EMFILE;
    size_t bad = first_bad_salted(p, 0, n, 5, SIZE_MAX);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    cr_assert(full, "could not use up the descriptors");
    cr_assert_eq(bad, n, "page %zu lost", bad);
    struct vmem_stats s = stats();
    cr_assert_eq(s.inpage_errors, 0);
    cr_assert_gt(s.hard_faults, 0);
    cr_assert_eq(sigbus_count, 0);
}
