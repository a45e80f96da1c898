/*
 * Paging under real pressure: a working set several times the cap, many
 * threads, racing with the trimmer and page writer; every byte written must
 * read back.  Also commit charge, decommit under pressure, page-file space
 * returned on release, and system calls reading paged-out memory.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vmem.h>

#include "os/uffd.h"
#include "pagefile/pagefile.h"
#include "policy/policy.h"
#include "core/pte.h"
#include "core/region.h"
#include "core/runtime.h"
#include "paging/replacement.h"
#include "paging/trim.h"
#include "paging/wsmanager.h"
#include "helpers.h"

#include <sys/syscall.h>

/* The forced trimming path is the one taken. */
static void check_trim_path(const struct vmem_stats *s)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    cr_assert_gt(s->trimmed_pages, 0);
    if (c.trim == VMEM_TRIM_MOVE)
        cr_assert_gt(s->trimmed_by_move, 0, "VMEM_TRIM=move, yet nothing was moved");
    if (c.trim == VMEM_TRIM_COPY)
        cr_assert_eq(s->trimmed_by_move, 0, "VMEM_TRIM=copy, yet pages were moved");
}

static uint8_t *region;
static size_t npages;
static uint64_t *gens;       /* per page, owned by one thread each */
static int bad_page = -1;

struct worker { unsigned id, nthreads, rounds; uint64_t seed; };

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Each thread owns pages id, id+n, ...; it writes and verifies them in a
 * random order, interleaving with the others, for several rounds. */
static void *work(void *arg)
{
    struct worker *w = arg;
    uint64_t s = w->seed;
    size_t mine = npages / w->nthreads;
    for (unsigned round = 0; round < w->rounds; round++) {
        for (size_t n = 0; n < mine * 2; n++) {
            size_t page = (next_rand(&s) % mine) * w->nthreads + w->id;
            if (gens[page] && !page_intact(region, page, gens[page]))
                bad_page = (int)page;
            if (next_rand(&s) & 1) {
                gens[page]++;
                fill_page(region, page, gens[page]);
            }
        }
    }
    return NULL;
}

static void run_workers(unsigned nthreads, unsigned rounds)
{
    pthread_t t[8];
    struct worker w[8];
    for (unsigned i = 0; i < nthreads; i++) {
        w[i] = (struct worker){ i, nthreads, rounds, 0x9E3779B97F4A7C15ull * (i + 1) };
        cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
}

static void verify_all(void)
{
    for (size_t page = 0; page < npages; page++) {
        const uint64_t *p = (const uint64_t *)(region + page * 4096);
        if (gens[page] ? !page_intact(region, page, gens[page]) : p[0] != 0 || p[511] != 0)
            cr_assert_fail("page %zu lost its contents (generation %llu)", page,
                           (unsigned long long)gens[page]);
    }
}

Test(paging, eight_times_the_cap_four_threads)
{
    /* the ratio to the cap makes the pressure; 2 MiB keeps it quick */
    size_t cap = 2 * MIB;
    need_paging(cap);
    npages = 8 * cap / 4096;
    gens = calloc(npages, sizeof(*gens));
    region = VirtualAlloc(NULL, npages * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(region, "commit failed: %u", (unsigned)GetLastError());
    run_workers(4, 3);
    cr_assert_eq(bad_page, -1, "page %d read back wrong while paging", bad_page);
    verify_all();
    struct vmem_stats s = stats();
    cr_assert_gt(s.hard_faults, 0, "nothing was paged in: the cap did not bite");
    cr_assert_gt(s.pages_written, 0);
    check_trim_path(&s);
    cr_assert_leq(s.peak_working_set + 0, cap / 4096 + cap / 4096 / 10,
                  "working set peaked at %llu pages, cap %zu",
                  (unsigned long long)s.peak_working_set, cap / 4096);
    cr_assert(VirtualFree(region, 0, MEM_RELEASE));
    cr_assert_eq(settled_pagefile_pages(), 0, "release left page-file slots in use");
}

Test(paging, rewrite_and_verify_sequentially)
{
    size_t cap = 2 * MIB;
    need_paging(cap);
    npages = 6 * cap / 4096;
    gens = calloc(npages, sizeof(*gens));
    region = VirtualAlloc(NULL, npages * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(region);
    for (uint64_t gen = 1; gen <= 3; gen++) {
        for (size_t page = 0; page < npages; page++) {
            gens[page] = gen;
            fill_page(region, page, gen);
        }
        verify_all();
    }
    struct vmem_stats s = stats();
    cr_assert_gt(s.pages_read, 0);
    cr_assert_geq(s.pages_read, s.read_ios, "clustering cannot read fewer pages than I/Os");
    /* shutting down with paged-out and standby pages frees them cleanly */
    vmem_shutdown();
}

Test(paging, decommit_under_pressure_reads_zero)
{
    size_t cap = 4 * MIB;
    need_paging(cap);
    size_t n = 4 * cap / 4096;
    uint8_t *p = VirtualAlloc(NULL, n * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        memset(p + i * 4096, 0xA5, 4096);
    /* most pages are now standby or paged out */
    cr_assert(VirtualFree(p, n * 4096 / 2, MEM_DECOMMIT));
    cr_assert_not_null(VirtualAlloc(p, n * 4096 / 2, MEM_COMMIT, PAGE_READWRITE));
    for (size_t i = 0; i < n * 4096 / 2; i += 512)
        cr_assert_eq(p[i], 0, "byte %zu of a recommitted page is %#x", i, p[i]);
    for (size_t i = n * 4096 / 2; i < n * 4096; i += 512)
        cr_assert_eq(p[i], 0xA5, "byte %zu lost", i);
}

Test(paging, release_returns_page_file_space)
{
    /* same-filled pages would stay in the compressed store: this is about
     * the page file */
    setenv("VMEM_COMPRESS", "off", 1);
    size_t cap = 2 * MIB;
    need_paging(cap);
    size_t n = 8 * cap / 4096;
    uint8_t *p = VirtualAlloc(NULL, n * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        memset(p + i * 4096, (int)(i & 0xFF) | 1, 4096);
    cr_assert_gt(stats().pagefile_pages, 0, "nothing went to the page file");
    uint64_t disk = pagefile_disk_bytes();
    cr_assert_gt(disk, 0);
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
    cr_assert_eq(settled_pagefile_pages(), 0, "release left page-file slots in use");
    /* the freed blocks are punched out of the file */
    cr_assert_lt(pagefile_disk_bytes(), disk / 4, "page file still occupies %llu of %llu bytes",
                 (unsigned long long)pagefile_disk_bytes(), (unsigned long long)disk);
}

/* Index of the first page of [p, p + n pages) not in the working set
 * (standby, compressed or paged out) from `from` on; asserts there is one. */
static size_t trimmed_page(const uint8_t *p, size_t n, size_t from)
{
    as_lock_shared();
    struct region *r = region_find((uintptr_t)p);
    size_t first = region_page(r, (uintptr_t)p), i = from;
    for (; i < n; i++) {
        const struct pte *e = pte_get(&r->ptes, first + i);
        uint8_t st = e ? pte_load_state(e) : PTE_RESERVED;
        if (st == PTE_STANDBY || st == PTE_COMPRESSED || st == PTE_PAGEDOUT)
            break;
    }
    as_unlock();
    cr_assert_lt(i, n, "no page was trimmed");
    return i;
}

/* write(2) from, and read(2) into, pages that were trimmed. */
static void system_calls_on_paged_out_memory(void)
{
    size_t cap = 2 * MIB;
    need_paging(cap);
    size_t n = 8 * cap / 4096;
    uint8_t *p = VirtualAlloc(NULL, n * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        memset(p + i * 4096, (int)(i % 251) + 1, 4096);
    /* hand a trimmed page to the kernel straight away */
    size_t a = trimmed_page(p, n, 0), b = trimmed_page(p, n, a + 1);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], p + a * 4096, 4096), 4096, "write(2) from a paged-out page: %s",
                 strerror(errno));
    uint8_t back[4096];
    cr_assert_eq(read(fds[0], back, 4096), 4096);
    for (size_t i = 0; i < 4096; i++)
        cr_assert_eq(back[i], (uint8_t)(a % 251 + 1));
    /* the kernel writes into a paged-out page: the rest of it is kept */
    uint8_t *pb = p + b * 4096, fillb = (uint8_t)(b % 251 + 1);
    cr_assert_eq(write(fds[1], "abcd", 4), 4);
    cr_assert_eq(read(fds[0], pb + 100, 4), 4, "read(2) into a paged-out page: %s",
                 strerror(errno));
    cr_assert_eq(memcmp(pb + 100, "abcd", 4), 0);
    cr_assert_eq(pb[99], fillb);
    cr_assert_eq(pb[104], fillb);
    /* a page the call may not write still fails the call, as natively */
    size_t c = trimmed_page(p, n, b + 1);
    DWORD old;
    cr_assert(VirtualProtect(p + c * 4096, 4096, PAGE_READONLY, &old));
    cr_assert_eq(write(fds[1], "efgh", 4), 4);
    errno = 0;
    cr_assert_eq(read(fds[0], p + c * 4096, 4), -1, "read(2) into a read-only page succeeded");
    cr_assert_eq(errno, EFAULT);
    cr_assert_eq(p[c * 4096], (uint8_t)(c % 251 + 1));
    close(fds[0]);
    close(fds[1]);
}

Test(paging, system_call_reads_paged_out_memory)
{
    system_calls_on_paged_out_memory();
}

/* Without the right to take kernel-mode userfaultfd faults (an unprivileged
 * process with vm.unprivileged_userfaultfd=0), or in fault mode signal, a
 * system call touching a non-resident page would get EFAULT. */
Test(paging, system_call_reads_paged_out_memory_unprivileged)
{
    if (getuid() == 0) {
        /* drop to nobody before the runtime starts */
        cr_assert_eq(setgid(65534), 0);
        cr_assert_eq(setuid(65534), 0);
    }
    setenv("VMEM_PAGEFILE", "/var/tmp", 1);
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: no paging");
    if (c.fault_mode == VMEM_FAULT_THREAD && (vmem_rt.uffd_have & UFFD_HAVE_KERNEL_MODE))
        cr_skip_test("this process may take kernel-mode userfaultfd faults "
                     "(vm.unprivileged_userfaultfd=1?): nothing to test");
    /* the condition is real: the bare system call fails */
    size_t cap = 2 * MIB;
    need_paging(cap);
    uint8_t *q = VirtualAlloc(NULL, 8 * cap, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(q);
    memset(q, 7, 8 * cap);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    errno = 0;
    cr_assert_eq(syscall(SYS_write, fds[1], q + trimmed_page(q, 8 * cap / 4096, 0) * 4096, 4096),
                 -1, "the bare write(2) succeeded");
    cr_assert_eq(errno, EFAULT);
    close(fds[0]);
    close(fds[1]);
    system_calls_on_paged_out_memory();
}
Test(paging, commit_beyond_cap_plus_page_file_fails)
{
    setenv("VMEM_PAGEFILE_MAX", "4M", 1);
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: no paging, no commit limit");
    SetLastError(0);
    cr_assert_null(VirtualAlloc(NULL, 8 * MIB, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_eq(GetLastError(), ERROR_COMMITMENT_LIMIT);
    /* reserving is free */
    void *r = VirtualAlloc(NULL, 64 * MIB, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(r);
    void *a = VirtualAlloc(r, 3 * MIB, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(a, "within the limit: error %u", (unsigned)GetLastError());
    cr_assert_null(VirtualAlloc((uint8_t *)r + 3 * MIB, 4 * MIB, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_eq(GetLastError(), ERROR_COMMITMENT_LIMIT);
    cr_assert(VirtualFree(a, 3 * MIB, MEM_DECOMMIT));
    cr_assert_not_null(VirtualAlloc((uint8_t *)r + 3 * MIB, 4 * MIB, MEM_COMMIT,
                                    PAGE_READWRITE));
}

/* Pages made resident before any cap: turning the cap on later
 * (SetProcessWorkingSetSize) must bring the working set down to it.  The
 * replacement policy is the only source of victims, so it must hear of
 * these pages when paging starts; then the pages in RAM come back under
 * the cap. */
Test(paging, cap_turned_on_after_pages_are_resident)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    size_t cap = 2 * MIB;
    npages = 8 * cap / 4096;
    gens = calloc(npages, sizeof(*gens));
    region = VirtualAlloc(NULL, npages * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(region);
    for (size_t page = 0; page < npages; page++) {
        gens[page] = 1;
        fill_page(region, page, 1);
    }
    cr_assert_geq(stats().working_set, npages, "the pages are not all resident yet");
    SIZE_T lo, hi;
    cr_assert(GetProcessWorkingSetSize(GetCurrentProcess(), &lo, &hi));
    if (!SetProcessWorkingSetSize(GetCurrentProcess(), lo, cap) && c.trim == VMEM_TRIM_MOVE)
        cr_skip_test("VMEM_TRIM=move: this kernel has no UFFDIO_MOVE");
    cr_assert(GetProcessWorkingSetSize(GetCurrentProcess(), &lo, &hi));
    cr_assert_eq(hi, cap, "the cap did not take");
    /* a second region, twice the cap, written after the cap is on */
    size_t more = 2 * cap / 4096;
    uint64_t *second = VirtualAlloc(NULL, more * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(second);
    for (size_t page = 0; page < more; page++)
        fill_page(second, page, 7);
    /* pages the policy never heard of would stay resident, and this wait
     * would not end (the suite's timeout reports it) */
    wait_within_cap();
    struct vmem_stats s = stats();
    cr_assert_geq(s.trimmed_pages, npages - cap / 4096);
    verify_all();
    for (size_t page = 0; page < more; page++)
        cr_assert(page_intact(second, page, 7), "page %zu of the second region lost", page);
}

Test(paging, working_set_size_api)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    SIZE_T lo, hi;
    cr_assert(SetProcessWorkingSetSize(GetCurrentProcess(), 0, 32 * MIB));
    cr_assert(GetProcessWorkingSetSize(GetCurrentProcess(), &lo, &hi));
    cr_assert_eq(hi, 32 * MIB);
    cr_assert(!SetProcessWorkingSetSize((HANDLE)123, 0, 32 * MIB));
    cr_assert_eq(GetLastError(), ERROR_INVALID_PARAMETER);
    cr_assert(!SetProcessWorkingSetSize(GetCurrentProcess(), 0, 4096));
    cr_assert_eq(GetLastError(), ERROR_INVALID_PARAMETER);
}

/* VMEM_PREFETCH_INSTALL=standby: pages read beyond the faulting one wait on
 * the standby list, so each is counted used (touched: a transition fault)
 * or unused (trimmed untouched); their content is right either way. */
Test(paging, prefetch_to_standby_counts_used_and_unused)
{
    setenv("VMEM_PREFETCH_INSTALL", "standby", 1); /* read at start-up */
    setenv("VMEM_CLUSTER", "8", 1);
    size_t cap = 4 * MIB;
    need_paging(cap);
    npages = 4 * cap / 4096;
    gens = calloc(npages, sizeof(*gens));
    region = VirtualAlloc(NULL, npages * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(region);
    for (size_t page = 0; page < npages; page++) {
        gens[page] = 1;
        fill_page(region, page, 1);
    }
    /* in order: the neighbours read with each fault are used */
    verify_all();
    struct vmem_stats s = stats();
    cr_assert_gt(s.prefetched_pages, 0, "hard faults read no neighbours");
    cr_assert_gt(s.prefetch_used, 0, "no prefetched page was counted used");
    /* every other page: half of what is read ahead is never touched */
    for (int pass = 0; pass < 2; pass++)
        for (size_t page = 0; page < npages; page += 2)
            cr_assert(page_intact(region, page, 1),
                      "page %zu", page);
    s = stats();
    cr_assert_gt(s.prefetch_unused, 0, "no prefetched page was counted unused");
    cr_assert_leq(s.prefetch_used + s.prefetch_unused, s.prefetched_pages);
    verify_all();
}

/* The replacement policy chooses the victims: under FIFO, pages touched
 * from the top of a region down leave in that order, so the ones touched
 * last (the lowest) are all still resident.  A scan in address order from
 * the bottom would take those first. */
Test(paging, fifo_policy_chooses_victims)
{
    setenv("VMEM_POLICY", "fifo", 1); /* read at start-up */
    setenv("VMEM_ZERO_CLUSTER", "1", 1);
    size_t cap = 1 * MIB;
    need_paging(cap);
    size_t n = 4 * cap / 4096;
    uint8_t *p = VirtualAlloc(NULL, n * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = n; i-- > 0;)
        memset(p + i * 4096, (int)(i % 251) + 1, 4096);
    wait_within_cap(); /* the trimmer's round is over */
    struct vmem_stats s = stats();
    cr_assert_gt(s.trimmed_pages, n / 2, "the cap did not bite");
    as_lock_shared();
    struct region *r = region_find((uintptr_t)p);
    size_t first = region_page(r, (uintptr_t)p), out = 0;
    for (size_t i = 0; i < 100; i++)
        out += pte_get(&r->ptes, first + i)->state != PTE_RESIDENT;
    as_unlock();
    cr_assert_eq(out, 0, "%zu of the 100 pages touched last were trimmed", out);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(p[i * 4096 + 7], (uint8_t)(i % 251 + 1));
}

Test(paging, unknown_policy_is_rejected_with_the_valid_names)
{
    setenv("VMEM_POLICY", "belady", 1);
    struct vmem_config c;
    char err[300];
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL);
    cr_assert_not_null(strstr(err, "VMEM_POLICY"), "%s", err);
    cr_assert_not_null(strstr(err, "clock"), "%s", err);
    cr_assert_not_null(strstr(err, "fifo"), "%s", err);
    setenv("VMEM_POLICY", "fifo", 1);
    setenv("VMEM_PREFETCH", "cluster:0", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL);
    cr_assert_not_null(strstr(err, "VMEM_PREFETCH"), "%s", err);
    setenv("VMEM_PREFETCH", "sometimes", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL);
    cr_assert_not_null(strstr(err, "adaptive"), "%s", err);
    setenv("VMEM_PREFETCH", "cluster:16", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.prefetch, "cluster:16");
    cr_assert_str_eq(c.policy, "fifo");
}

/* The simulated policy's memory: the C heap. */
static void *heap_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    return calloc(1, bytes ? bytes : 1);
}

static void heap_free(void *ctx, void *p, size_t bytes)
{
    (void)ctx;
    (void)bytes;
    free(p);
}

static const struct policy_alloc heap = { .alloc = heap_alloc, .free = heap_free };

/* One page at a time (no clustering, no prefetch, no standby list, both
 * water marks at the cap), FIFO live makes exactly the faults FIFO makes
 * in a simulation of the same references at the cap's frame count.  The
 * working-set manager is held, so each fault makes its own room: one trim
 * at a time, in the policy's order.  Only a victim the trimmer could not
 * take when named (pinned by the kernel for a moment, no frame free)
 * changes that order, or a page the policy could not track; either is
 * counted, and the comparison is then not made. */
Test(paging, fifo_live_matches_simulation)
{
    setenv("VMEM_POLICY", "fifo", 1);
    setenv("VMEM_COMPRESS", "off", 1); /* the store would hold a second tier */
    setenv("VMEM_ZERO_CLUSTER", "1", 1);
    setenv("VMEM_CLUSTER", "1", 1);
    setenv("VMEM_STANDBY", "off", 1);
    setenv("VMEM_HIGH_WATER", "100", 1);
    setenv("VMEM_LOW_WATER", "100", 1);
    size_t frames = 256, npages = 1024, nrefs = 6000;
    need_paging(frames * 4096);
    uint64_t *refs = calloc(nrefs, sizeof(*refs)), x = 88172645463325252ull;
    for (size_t i = 0; i < nrefs; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* a loop a little larger than the cap, with random references */
        refs[i] = i % 3 == 0 ? x % npages : (i / 3) % 300;
    }
    volatile uint8_t *p = VirtualAlloc(NULL, npages * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    uint64_t left0 = trim_victims_left();
    wsmanager_test_hold(1);
    for (size_t i = 0; i < nrefs; i++)
        p[refs[i] * 4096 + i % 4096] += 1;
    struct vmem_stats s = stats();
    wsmanager_test_hold(0);
    uint64_t live = s.hard_faults + s.transition_faults + s.demand_zero_faults;
    uint64_t left = trim_victims_left() - left0;
    size_t tracked;
    uint64_t untracked;
    replacement_counts(&tracked, &untracked);

    const struct policy_ops *ops = policy_find("fifo");
    struct policy *sim = ops->create(frames, npages, 1, &heap);
    char *in = calloc(npages, 1);
    uint64_t faults = 0;
    for (size_t i = 0; i < nrefs; i++) {
        if (in[refs[i]])
            continue;
        faults++;
        if (ops->size(sim) == frames) {
            uint64_t v;
            cr_assert_eq(ops->victim(sim, &v), 0);
            in[v] = 0;
        }
        ops->admit(sim, refs[i], 0);
        in[refs[i]] = 1;
    }
    ops->destroy(sim);
    free(in);
    free(refs);
    cr_assert_gt(s.hard_faults, 0);
    if (left || untracked)
        cr_skip_test("live %llu faults, simulated %llu, not compared: %llu victims stayed "
                     "resident when named, %llu pages the policy could not track",
                     (unsigned long long)live, (unsigned long long)faults,
                     (unsigned long long)left, (unsigned long long)untracked);
    cr_assert_eq(live, faults, "live %llu faults (hard %llu, soft %llu, demand-zero %llu), "
                 "simulated %llu; %llu pages over the cap, peak working set %llu of %zu",
                 (unsigned long long)live, (unsigned long long)s.hard_faults,
                 (unsigned long long)s.transition_faults,
                 (unsigned long long)s.demand_zero_faults, (unsigned long long)faults,
                 (unsigned long long)s.cap_overruns, (unsigned long long)s.peak_working_set,
                 frames);
}

/* The widest prefetch window a user can ask for still reads into one
 * bounce buffer: a sequential scan with adaptive:512 reads back every
 * byte. */
Test(paging, widest_prefetch_window)
{
    setenv("VMEM_PREFETCH", "adaptive:512", 1);
    size_t cap = 4 * MIB;
    need_paging(cap);
    npages = 6 * cap / 4096;
    gens = calloc(npages, sizeof(*gens));
    region = VirtualAlloc(NULL, npages * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(region);
    for (int pass = 1; pass <= 2; pass++) {
        for (size_t page = 0; page < npages; page++) {
            gens[page] = (uint64_t)pass;
            fill_page(region, page, (uint64_t)pass);
        }
        verify_all();
    }
    struct vmem_stats s = stats();
    cr_assert_gt(s.pages_read, 4 * s.read_ios, "reads were not clustered: %llu pages in %llu "
                 "reads", (unsigned long long)s.pages_read, (unsigned long long)s.read_ios);
}
