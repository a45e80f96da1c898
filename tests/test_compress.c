/*
 * The compressed store (VMEM_COMPRESS): every byte written reads back with
 * pages that compress well, not at all, that are all zeros or one repeated
 * word; a full store and a store that cannot allocate fall back to the page
 * file with nothing lost; a forked child reads its parent's compressed
 * pages; decommit frees them; the store's RAM counts in the cap; its
 * share of the cap goes back to the working set when the pages offered do
 * not compress, and stays when they do, and vmem_get_stats shows it move
 * as the rule moves it; bad option values are refused by name.
 *
 * VMEM_COMPRESS defaults to lz4 here; the environment may name zstd.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vmem.h>
#include <vmemstat.h>

#include "compress/share.h"
#include "compress/store.h"
#include "helpers.h"
#include "os/uffd.h"

static void store_on_env(void)
{
    setenv("VMEM_COMPRESS", "lz4", 0);
}

/* Page `page` in generation gen: one of four kinds by page number. */
enum { KIND_TEXT, KIND_RANDOM, KIND_ZERO, KIND_SAME };
static int kind_of(size_t page) { return (int)(page % 4); }

static void fill_at(uint8_t *p, size_t page, uint64_t gen)
{
    switch (kind_of(page)) {
    case KIND_TEXT: /* compresses several times over */
        memset(p, ' ', PG);
        for (size_t line = 0; line < PG / 64; line++)
            snprintf((char *)p + line * 64, 64, "page %010zu gen %010llu line %03zu: lorem ipsum",
                     page, (unsigned long long)gen, line);
        break;
    case KIND_RANDOM: { /* does not compress */
        uint64_t x = page * 0x9E3779B97F4A7C15ull + gen * 0xD1B54A32D192ED03ull + 1;
        for (size_t k = 0; k < PG / 8; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            ((uint64_t *)p)[k] = x;
        }
        break;
    }
    case KIND_ZERO:
        memset(p, 0, PG);
        break;
    default:
        for (size_t k = 0; k < PG / 8; k++)
            ((uint64_t *)p)[k] = page_word(page, 0, gen);
    }
}

static void fill(uint8_t *base, size_t page, uint64_t gen)
{
    fill_at(base + page * PG, page, gen);
}

static int intact(const uint8_t *base, size_t page, uint64_t gen)
{
    static __thread uint8_t want[4096];
    fill_at(want, page, gen);
    if (memcmp(base + page * PG, want, PG) == 0)
        return 1;
    if (getenv("COMPRESS_TEST_DEBUG")) {
        size_t i = 0;
        while (base[page * PG + i] == want[i])
            i++;
        fprintf(stderr, "page %zu differs at %zu: %02x%02x%02x%02x want %02x%02x%02x%02x "
                "state %d\n", page, i, base[page * PG + i], base[page * PG + i + 1],
                base[page * PG + i + 2], base[page * PG + i + 3], want[i], want[i + 1],
                want[i + 2], want[i + 3], page_state(base + page * PG));
        fprintf(stderr, "%.64s\n%.64s\n", (const char *)base + page * PG, (const char *)want);
    }
    return 0;
}

/* Pages in each state PTE_* of [p, p + n pages). */
static size_t count_state(const uint8_t *p, size_t n, int state)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += page_state(p + i * PG) == state;
    return k;
}

/* Waits until what is in memory, the store included, is within the cap
 * and the page writer has nothing in flight. */
static void settle(void)
{
    for (;;) {
        wait_page_writer_idle();
        struct vmem_stats s = stats();
        if (s.working_set + s.standby_pages + s.compress_store_bytes / PG <= s.cap_pages)
            return;
        sched_yield();
    }
}

/* ---- integrity, several threads, every kind of content ------------------- */

static uint8_t *region;
static size_t npages;
static uint64_t *gens;
static volatile int bad = -1;

struct worker { unsigned id, n; uint64_t seed; };

static void *work(void *arg)
{
    struct worker *w = arg;
    uint64_t s = w->seed;
    size_t mine = npages / w->n;
    for (unsigned round = 0; round < 3; round++) {
        for (size_t i = 0; i < mine * 2; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            size_t page = (s % mine) * w->n + w->id;
            if (gens[page] && !intact(region, page, gens[page]))
                bad = (int)page;
            if (s & 0x100) {
                gens[page]++;
                fill(region, page, gens[page]);
            }
        }
    }
    return NULL;
}

Test(compress, every_kind_of_page_reads_back_under_eight_times_the_cap)
{
    store_on_env();
    size_t cap = 2 * MIB; /* the ratio makes the pressure; small keeps it quick */
    need_paging(cap);
    npages = 8 * cap / PG;
    gens = calloc(npages, sizeof(*gens));
    region = VirtualAlloc(NULL, npages * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(region);
    pthread_t t[4];
    struct worker w[4];
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct worker){ i, 4, 0x2545F4914F6CDD1Dull * (i + 1) };
        cr_assert_eq(start_thread(&t[i], work, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(bad, -1, "page %d read back wrong", bad);
    for (size_t page = 0; page < npages; page++)
        if (gens[page])
            cr_assert(intact(region, page, gens[page]), "page %zu lost its contents", page);
    struct vmem_stats s = stats();
    cr_assert_gt(s.compress_stored, 0, "nothing went into the store");
    cr_assert_gt(s.compress_hits, 0, "no fault was served from the store");
    cr_assert_gt(s.compress_rejects, 0, "random pages were not rejected");
    cr_assert_gt(s.compress_same_filled, 0, "no same-filled page was seen");
    cr_assert_gt(s.compress_ns, 0);
    cr_assert_gt(s.decompress_ns, 0);
    cr_assert(VirtualFree(region, 0, MEM_RELEASE));
    wait_page_writer_idle();
    s = stats();
    cr_assert_eq(s.compressed_pages, 0, "release left %llu pages in the store",
                 (unsigned long long)s.compressed_pages);
    cr_assert_eq(settled_pagefile_pages(), 0, "release left page-file slots in use");
}

/* ---- compressed pages, with the standby list off (pages leave at once) ---- */

static uint8_t *compressed_region(size_t cap, size_t *n)
{
    setenv("VMEM_STANDBY", "off", 1);
    store_on_env();
    need_paging(cap);
    *n = 4 * cap / PG;
    uint8_t *p = VirtualAlloc(NULL, *n * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = 0; i < *n; i++)
        fill(p, i, 1);
    settle();
    return p;
}

Test(compress, store_ram_counts_in_the_cap)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    size_t in_store = count_state(p, n, PTE_COMPRESSED);
    cr_assert_gt(in_store, 0, "no page is compressed");
    struct vmem_stats s = stats();
    cr_assert_gt(s.compress_store_bytes, 0, "the store takes no RAM");
    cr_assert_leq(s.working_set + s.standby_pages + s.compress_store_bytes / PG, s.cap_pages);
    /* text pages compress a few times over: the store holds more pages than
     * its own pages */
    cr_assert_gt(s.compressed_pages * PG, s.compress_store_bytes,
                 "%llu pages in %llu bytes", (unsigned long long)s.compressed_pages,
                 (unsigned long long)s.compress_store_bytes);
    for (size_t i = 0; i < n; i++)
        cr_assert(intact(p, i, 1), "page %zu", i);
}

Test(compress, full_store_falls_back_to_the_page_file)
{
    setenv("VMEM_COMPRESS_MAX", "64K", 1);
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    struct vmem_stats s = stats();
    cr_assert_gt(s.compress_evicted, 0, "nothing left the full store");
    cr_assert_gt(s.pages_written, 0, "nothing went to the page file");
    cr_assert_leq(s.compress_store_bytes, 64 * 1024);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            cr_assert(intact(p, i, 1), "pass %d: page %zu", pass, i);
}

Test(compress, store_out_of_memory_goes_to_the_page_file)
{
    setenv("VMEM_STANDBY", "off", 1);
    store_on_env();
    need_paging(2 * MIB);
    store_test_fail_puts(1u << 30);
    size_t n = 4 * 2 * MIB / PG;
    uint8_t *p = VirtualAlloc(NULL, n * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        fill(p, i, 1);
    settle();
    struct vmem_stats s = stats();
    cr_assert_eq(s.compress_stored, 0);
    cr_assert_gt(s.pages_written, 0);
    cr_assert_eq(count_state(p, n, PTE_COMPRESSED), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert(intact(p, i, 1), "page %zu", i);
    /* the store works again once it can allocate */
    store_test_fail_puts(0);
    for (size_t i = 0; i < n; i++)
        fill(p, i, 2);
    settle();
    cr_assert_gt(stats().compress_stored, 0);
    for (size_t i = 0; i < n; i++)
        cr_assert(intact(p, i, 2), "page %zu", i);
}

/* A forked child reads the n pages of generation 1 at p and writes one:
 * the parent's stay as they were. */
static void child_reads_and_writes(uint8_t *p, size_t n, const char *what)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        for (size_t i = 0; i < n; i++)
            if (!intact(p, i, 1))
                _exit(10);
        /* and writes stay the child's */
        fill(p, 0, 9);
        _exit(intact(p, 0, 9) ? 0 : 11);
    }
    child_assert_ok(pid, what);
    for (size_t i = 0; i < n; i++)
        cr_assert(intact(p, i, 1), "page %zu changed in the parent", i);
}

Test(compress, forked_child_reads_compressed_pages)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    size_t in_store = count_state(p, n, PTE_COMPRESSED);
    cr_assert_gt(in_store, 0, "no page is compressed");
    child_reads_and_writes(p, n, "child reading compressed pages");
}

/* Decommits the n pages at p: the store lets them all go, and committed
 * again they read as zeros. */
static void decommit_gives_zeros(uint8_t *p, size_t n)
{
    cr_assert(VirtualFree(p, n * PG, MEM_DECOMMIT));
    wait_page_writer_idle();
    cr_assert_eq(stats().compressed_pages, 0, "decommit left pages in the store");
    cr_assert_not_null(VirtualAlloc(p, n * PG, MEM_COMMIT, PAGE_READWRITE));
    for (size_t i = 0; i < n * PG; i += 512)
        cr_assert_eq(p[i], 0, "byte %zu not zero after re-commit", i);
}

Test(compress, decommit_and_recommit_give_zeros)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    cr_assert_gt(count_state(p, n, PTE_COMPRESSED), 0, "no page is compressed");
    decommit_gives_zeros(p, n);
}

Test(compress, mem_reset_frees_store_entries)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    static uint8_t was[4 * 2 * MIB / 4096];
    for (size_t i = 0; i < n; i++)
        was[i] = (uint8_t)page_state(p + i * PG);
    cr_assert_gt(count_state(p, n, PTE_COMPRESSED), 0, "no page is compressed");
    cr_assert_eq(VirtualAlloc(p, n * PG, MEM_RESET, PAGE_READWRITE), p);
    wait_page_writer_idle();
    /* the pages in the store went at once; those resident then keep their
     * content until the kernel reclaims it, so the trimmer may still put
     * them in the store afterwards */
    size_t resident = 0;
    for (size_t i = 0; i < n; i++) {
        resident += was[i] == PTE_RESIDENT;
        if (was[i] == PTE_COMPRESSED)
            cr_assert_eq(page_state(p + i * PG), PTE_COMMITTED,
                         "MEM_RESET left page %zu in the store", i);
    }
    cr_assert_leq(stats().compressed_pages, resident, "MEM_RESET left pages in the store");
    /* their content is gone: the undo says so */
    cr_assert_eq(vmem_reset_undo(p, n * PG), EFAULT);
}

Test(compress, zstd_reads_back)
{
    setenv("VMEM_COMPRESS", "zstd", 1);
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    cr_assert_gt(count_state(p, n, PTE_COMPRESSED), 0, "no page is compressed");
    for (size_t i = 0; i < n; i++)
        cr_assert(intact(p, i, 1), "page %zu", i);
    cr_assert_gt(stats().compress_hits, 0);
}

/* ---- a page read back keeps its copy in the store until it is written ---- */

/* Reads every page of [p, p + n pages), asserting generation gens[i] (or
 * gen where gens is NULL), and lets the trimmer and the writer settle. */
static void read_all(const uint8_t *p, size_t n, const uint64_t *g, uint64_t gen)
{
    for (size_t i = 0; i < n; i++)
        cr_assert(intact(p, i, g ? g[i] : gen), "page %zu", i);
    settle();
}

/* Where a page read back keeps its store copy: it is installed write-
 * protected, so only where a system call's write to it is a fault the
 * library is told of (fault/fault.c, keeps_store_copy). */
static int keeps_copies(void)
{
    return vmem_rt.mode == VMEM_FAULT_THREAD && (vmem_rt.uffd_have & UFFD_HAVE_KERNEL_MODE);
}

Test(compress, a_page_only_read_is_not_compressed_again)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    if (!keeps_copies())
        cr_skip_test("pages read back keep no store copy here: not thread mode with "
                     "kernel-mode faults (a system call's write to them would fail)");
    read_all(p, n, NULL, 1);
    uint64_t before = stats().compress_stored, hits = stats().compress_hits;
    for (int pass = 0; pass < 3; pass++)
        read_all(p, n, NULL, 1);
    struct vmem_stats s = stats();
    cr_assert_gt(s.compress_hits - hits, n / 2, "the passes were not served from the store");
    /* each pass trims three quarters of the pages again: a page only read
     * leaves for its copy in the store, with nothing compressed */
    cr_assert_lt(s.compress_stored - before, n / 16,
                 "%llu pages compressed again in 3 passes that only read %zu pages",
                 (unsigned long long)(s.compress_stored - before), n);
}

/* A page of text naming page i and generation gen (compresses well). */
static void text_at(uint8_t *p, size_t i, uint64_t gen)
{
    memset(p, ' ', PG);
    for (size_t line = 0; line < PG / 64; line++)
        snprintf((char *)p + line * 64, 64, "scan page %08zu gen %04llu line %03zu", i,
                 (unsigned long long)gen, line);
}

/* A read scan of 4x the cap of text pages, most in the store; then a write
 * to every other page, all read back.  Returns the store faults of the
 * scan and the pages in the store before it (*in_store), the pages
 * prefetched meanwhile (*with). */
static uint64_t read_scan(size_t *in_store, uint64_t *with)
{
    setenv("VMEM_STANDBY", "off", 1);
    setenv("VMEM_COMPRESS_MAX", "50%", 1);
    store_on_env();
    need_paging(2 * MIB);
    if (!keeps_copies())
        cr_skip_test("neighbours come back only where pages keep their store copy: not "
                     "thread mode with kernel-mode faults");
    size_t n = 4 * 2 * MIB / PG;
    uint8_t *p = VirtualAlloc(NULL, n * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        text_at(p + i * PG, i, 1);
    settle();
    *in_store = count_state(p, n, PTE_COMPRESSED);
    cr_assert_gt(*in_store, n / 2, "only %zu of %zu pages in the store", *in_store, n);
    struct vmem_stats s0 = stats();
    uint8_t want[4096];
    for (size_t i = 0; i < n; i++) {
        text_at(want, i, 1);
        cr_assert_eq(memcmp(p + i * PG, want, PG), 0, "page %zu", i);
    }
    struct vmem_stats s1 = stats();
    *with = s1.prefetched_pages - s0.prefetched_pages;
    /* and they are clean: written, each is saved again */
    for (size_t i = 0; i < n; i += 2)
        text_at(p + i * PG, i, 2);
    settle();
    for (size_t i = 0; i < n; i++) {
        text_at(want, i, i % 2 ? 1 : 2);
        cr_assert_eq(memcmp(p + i * PG, want, PG), 0, "page %zu after the writes", i);
    }
    return s1.compress_hits - s0.compress_hits;
}

Test(compress, a_read_scan_of_the_store_takes_a_fault_per_window)
{
    size_t in_store;
    uint64_t with, faults = read_scan(&in_store, &with);
    cr_assert_gt(with, in_store / 2, "%llu pages came in with a neighbour's fault",
                 (unsigned long long)with);
    cr_assert_lt(faults, in_store / 2, "%llu store faults for a scan of %zu pages in the store",
                 (unsigned long long)faults, in_store);
}

/* Where prefetched pages are kept on standby to be counted, a store fault
 * takes no neighbours (they would be counted as prefetched and never as
 * used or unused). */
Test(compress, no_store_neighbours_with_prefetched_pages_kept_on_standby)
{
    setenv("VMEM_PREFETCH_INSTALL", "standby", 1);
    size_t in_store;
    uint64_t with, faults = read_scan(&in_store, &with);
    struct vmem_stats s = stats();
    cr_assert_gt(faults, in_store / 2, "%llu store faults for a scan of %zu pages in the store",
                 (unsigned long long)faults, in_store);
    cr_assert_geq(s.prefetched_pages, s.prefetch_used + s.prefetch_unused);
}

Test(compress, a_page_written_after_a_store_read_back_keeps_what_was_written)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    uint64_t *g = calloc(n, sizeof(*g));
    for (size_t i = 0; i < n; i++)
        g[i] = 1;
    for (uint64_t round = 2; round < 6; round++) {
        /* read back (each page keeps its store copy), then write some of
         * them: the copy must not come back */
        read_all(p, n, g, 0);
        for (size_t i = round % 3; i < n; i += 3) {
            g[i] = round;
            if (round & 1) {
                fill(p, i, round);
            } else {
                /* one byte first (the write-protect fault), then the rest */
                uint8_t want[4096];
                fill_at(want, i, round);
                p[i * PG + 100] = want[100];
                memcpy(p + i * PG, want, PG);
            }
        }
        settle();
    }
    read_all(p, n, g, 0);
    free(g);
}

/* read(2), pread(2), recv(2) and process_vm_writev(2) write into pages
 * just read back from the store (locked, so none is trimmed meanwhile):
 * each call succeeds, in every fault mode, and what it wrote stays. */
Test(compress, system_calls_write_into_pages_read_back_from_the_store)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    size_t pages[4], k = 0;
    for (size_t i = 0; i < n && k < 4; i++)
        if (kind_of(i) == KIND_TEXT && page_state(p + i * PG) == PTE_COMPRESSED)
            pages[k++] = i;
    cr_assert_eq(k, 4, "only %zu text pages in the store", k);
    uint64_t *g = calloc(n, sizeof(*g));
    for (size_t i = 0; i < n; i++)
        g[i] = 1;
    for (size_t j = 0; j < 4; j++) {
        cr_assert(intact(p, pages[j], 1)); /* read back from the store */
        cr_assert(VirtualLock(p + pages[j] * PG, PG), "VirtualLock: %u",
                  (unsigned)GetLastError());
    }
    uint8_t buf[4096];
    int fds[2], sv[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    char path[] = "/tmp/vmem_compress_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    for (size_t j = 0; j < 4; j++) {
        size_t i = pages[j];
        uint8_t *at = p + i * PG;
        fill_at(buf, i, 2);
        ssize_t got = -1;
        const char *how = "";
        switch (j) {
        case 0:
            how = "read";
            cr_assert_eq(write(fds[1], buf, PG), (ssize_t)PG);
            got = read(fds[0], at, PG);
            break;
        case 1:
            how = "pread";
            cr_assert_eq(pwrite(fd, buf, PG, 0), (ssize_t)PG);
            got = pread(fd, at, PG, 0);
            break;
        case 2:
            how = "recv";
            cr_assert_eq(send(sv[0], buf, PG, 0), (ssize_t)PG);
            got = recv(sv[1], at, PG, MSG_WAITALL);
            break;
        default: {
            how = "process_vm_writev";
            struct iovec l = { buf, PG }, r = { at, PG };
            got = process_vm_writev(getpid(), &l, 1, &r, 1, 0);
        }
        }
        cr_assert_eq(got, (ssize_t)PG, "%s into a page read back from the store: %zd (%s)", how,
                     got, strerror(errno));
        g[i] = 2;
    }
    close(fds[0]);
    close(fds[1]);
    close(sv[0]);
    close(sv[1]);
    close(fd);
    for (size_t j = 0; j < 4; j++)
        cr_assert(VirtualUnlock(p + pages[j] * PG, PG));
    settle();
    for (int pass = 0; pass < 2; pass++)
        read_all(p, n, g, 0);
    free(g);
}

static volatile sig_atomic_t guard_hits;

/* Under a sanitizer, the test's sigaction goes to the sanitizer's runtime,
 * which installs the handler in libvmem's place: no guard page is lifted,
 * so the guard part is left out there (and said so). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GUARD_TESTED 0
#else
#define GUARD_TESTED 1
#endif

static void on_guard(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)si;
    (void)uctx;
    if (++guard_hits > 1000)
        _exit(99); /* the guard is not lifted: the access faults for ever */
}

/* Pages read back from the store (keeping their copies where pages do)
 * made PAGE_NOACCESS, PAGE_READONLY and PAGE_READWRITE | PAGE_GUARD,
 * trimmed while so, then opened again: what they hold stays, each guard
 * fires once, and what is written afterwards reads back. */
Test(compress, pages_read_back_from_the_store_under_protections)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    read_all(p, n, NULL, 1);
    read_all(p, n, NULL, 1);
    size_t lo = n / 2, k = 48;
    DWORD old;
    cr_assert(VirtualProtect(p + lo * PG, 16 * PG, PAGE_NOACCESS, &old));
    cr_assert(VirtualProtect(p + (lo + 16) * PG, 16 * PG, PAGE_READONLY, &old));
    if (!GUARD_TESTED)
        fprintf(stderr, "pages_read_back_from_the_store_under_protections: PAGE_GUARD left "
                        "out: a sanitizer's sigaction takes the SIGSEGV handler's place\n");
    cr_assert(VirtualProtect(p + (lo + 32) * PG, 16 * PG,
                             PAGE_READWRITE | (GUARD_TESTED ? PAGE_GUARD : 0), &old));
    /* the rest read twice: the protected pages are trimmed meanwhile */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++)
            if (i < lo || i >= lo + k)
                cr_assert(intact(p, i, 1), "page %zu", i);
        settle();
    }
    cr_assert_lt(count_state(p + lo * PG, k, PTE_RESIDENT), k, "no protected page was trimmed");
    for (size_t i = lo + 16; i < lo + 32; i++)
        cr_assert(intact(p, i, 1), "read-only page %zu", i);
    if (GUARD_TESTED) {
        struct sigaction sa, was;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_guard;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        cr_assert_eq(sigaction(SIGSEGV, &sa, &was), 0);
        guard_hits = 0;
        for (size_t i = lo + 32; i < lo + k; i++)
            (void)((volatile const uint8_t *)p)[i * PG]; /* the guard fires here, once */
        cr_assert_eq(guard_hits, 16, "%d guard hits for 16 guard pages", (int)guard_hits);
        cr_assert_eq(sigaction(SIGSEGV, &was, NULL), 0);
    }
    for (size_t i = lo + 32; i < lo + k; i++)
        cr_assert(intact(p, i, 1), "guard page %zu", i);
    cr_assert(VirtualProtect(p + lo * PG, k * PG, PAGE_READWRITE, &old));
    uint64_t *g = calloc(n, sizeof(*g));
    for (size_t i = 0; i < n; i++)
        g[i] = 1;
    for (size_t i = lo; i < lo + k; i++) {
        cr_assert(intact(p, i, 1), "page %zu opened again", i);
        if (i % 2) {
            fill(p, i, 2);
            g[i] = 2;
        }
    }
    settle();
    read_all(p, n, g, 0);
    read_all(p, n, g, 0);
    free(g);
}

Test(compress, write_watch_sees_a_write_to_a_page_read_back_from_the_store)
{
    setenv("VMEM_STANDBY", "off", 1);
    store_on_env();
    need_paging(2 * MIB);
    size_t n = 4 * 2 * MIB / PG;
    uint8_t *p = VirtualAlloc(NULL, n * PG, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                              PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        fill(p, i, 1);
    settle();
    cr_assert_eq(ResetWriteWatch(p, n * PG), 0);
    read_all(p, n, NULL, 1);
    read_all(p, n, NULL, 1);
    size_t page = 0;
    while (kind_of(page) != KIND_TEXT || page_state(p + page * PG) != PTE_RESIDENT)
        page++;
    p[page * PG + 7] ^= 1;
    void *hits[8];
    ULONG_PTR count = 8;
    DWORD gran = 0;
    cr_assert_eq(GetWriteWatch(0, p, n * PG, hits, &count, &gran), 0);
    cr_assert_eq(count, 1, "%lu pages reported written", (unsigned long)count);
    cr_assert_eq(hits[0], p + page * PG);
    p[page * PG + 7] ^= 1; /* back to generation 1 */
    settle();
    read_all(p, n, NULL, 1);
}

Test(compress, pages_read_back_from_the_store_fork_and_decommit)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    read_all(p, n, NULL, 1);
    child_reads_and_writes(p, n, "child reading pages read back from the store");
    read_all(p, n, NULL, 1);
    decommit_gives_zeros(p, n);
}

/* ---- the adaptive share (compress/share.c) ------------------------------ */

/* Cold pages written once that compress to about half a page (enough of
 * them to fill the store's 25% of the cap), then hot pages read at random,
 * 1.5 times the cap: random bytes (the store's pages earn nothing, every
 * page offered is a reject) or text (they compress several times over).
 * Run in a fresh child per variant, the store on or off; the counters of
 * the last phase come back in a shared page. */
#define SHARE_CAP   (2 * MIB)
#define SHARE_COLD  320u
#define SHARE_HOT   768u

#define SHARE_SEEN 256u /* values of the share vmem_get_stats showed, at most */

struct share_result {
    uint64_t hard_faults, hits, limit, max, charged, shrinks, grows, rejects;
    uint64_t regrown, grows_after; /* the share once the pages compress again */
    /* vmem_get_stats' view of the share, every few accesses: each value
     * that differs from the one before, with the changes counted by then */
    uint64_t seen[SHARE_SEEN], seen_shrinks[SHARE_SEEN], seen_grows[SHARE_SEEN];
    unsigned nseen;
    uint64_t final_limit; /* share.c's share at the end */
    uint64_t stats_limit, stats_pages, stats_shrinks, stats_grows; /* vmem_get_stats' */
    int ran;
};
static struct share_result *share_out;
static int share_store, share_hot_text;

/* Every 64th access: the share as vmem_get_stats has it, kept when it
 * changed. */
static void share_watch(size_t i)
{
    struct vmem_stats s;
    if (i % 64 || share_out->nseen == SHARE_SEEN)
        return;
    CHILD_CHECK(vmem_get_stats(&s) == 0, "vmem_get_stats");
    CHILD_CHECK(s.compress_share_pages == s.compress_share_bytes / PG,
                "the share is %llu bytes but %llu pages", (unsigned long long)s.compress_share_bytes,
                (unsigned long long)s.compress_share_pages);
    unsigned n = share_out->nseen;
    if (n && share_out->seen[n - 1] == s.compress_share_bytes)
        return;
    share_out->seen[n] = s.compress_share_bytes;
    share_out->seen_shrinks[n] = s.compress_share_shrinks;
    share_out->seen_grows[n] = s.compress_share_grows;
    share_out->nseen = n + 1;
}

static void fill_half(uint8_t *p, size_t page)
{
    uint64_t x = page * 0x9E3779B97F4A7C15ull + 7;
    for (size_t k = 0; k < PG / 16; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ((uint64_t *)p)[k] = x;
    }
    memset(p + PG / 2, 0, PG / 2);
}

static void fill_hot(uint8_t *base, size_t page)
{
    /* fill_at's kinds: page % 4 == 0 is text, 1 random */
    fill_at(base + page * PG, page * 4 + (share_hot_text ? 0 : 1), 1);
}

static int hot_intact(const uint8_t *base, size_t page)
{
    static uint8_t want[4096];
    fill_at(want, page * 4 + (share_hot_text ? 0 : 1), 1);
    return memcmp(base + page * PG, want, PG) == 0;
}

static void share_scenario(void)
{
    if (share_store)
        setenv("VMEM_COMPRESS", "lz4", 0);
    else
        setenv("VMEM_COMPRESS", "off", 1);
    struct vmem_config c;
    CHILD_CHECK(vmem_get_config(&c) == 0, "vmem_get_config");
    if (c.fault_mode == VMEM_FAULT_KERNEL) {
        child_say("fault mode kernel: paging needs userfaultfd");
        _exit(CHILD_SKIP);
    }
    int e = vmem_set_max_resident(SHARE_CAP);
    if (e == ENOTSUP && c.trim == VMEM_TRIM_MOVE) {
        child_say("VMEM_TRIM=move: this kernel has no UFFDIO_MOVE");
        _exit(CHILD_SKIP);
    }
    CHILD_CHECK(e == 0, "cannot start paging: %s", strerror(e));
    share_watch(0); /* the share paging starts with */
    uint8_t *cold = VirtualAlloc(NULL, SHARE_COLD * PG, MEM_COMMIT, PAGE_READWRITE);
    uint8_t *hot = VirtualAlloc(NULL, SHARE_HOT * PG, MEM_COMMIT, PAGE_READWRITE);
    CHILD_CHECK(cold && hot, "VirtualAlloc: error %u", (unsigned)GetLastError());
    for (size_t i = 0; i < SHARE_COLD; i++)
        fill_half(cold + i * PG, i);
    for (size_t i = 0; i < SHARE_HOT; i++)
        fill_hot(hot, i);
    /* the same page sequence in every run: the variants differ only by
     * the store */
    uint64_t x = 0x2545F4914F6CDD1Dull;
    struct vmem_stats s0 = { 0 };
    for (size_t i = 0; i < 24 * SHARE_HOT; i++) {
        if (i == 12 * SHARE_HOT) {
            /* the first half lets the share settle; the second is measured */
            wait_page_writer_idle();
            CHILD_CHECK(vmem_get_stats(&s0) == 0, "vmem_get_stats");
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t page = (size_t)(x % SHARE_HOT);
        CHILD_CHECK(hot_intact(hot, page), "hot page %zu read back wrong", page);
        share_watch(i);
    }
    struct vmem_stats s1;
    CHILD_CHECK(vmem_get_stats(&s1) == 0, "vmem_get_stats");
    for (size_t i = 0; i < SHARE_HOT; i++)
        CHILD_CHECK(hot_intact(hot, i), "hot page %zu lost its contents", i);
    uint64_t limit = share_limit(), grows = share_grows();
    if (share_store && !share_hot_text && !limit) {
        /* the program's pages start compressing: the samples taken while
         * the share is 0 give the store back */
        share_hot_text = 1;
        for (size_t i = 0; i < SHARE_HOT; i++)
            fill_hot(hot, i);
        for (size_t i = 0; i < 12 * SHARE_HOT; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t page = (size_t)(x % SHARE_HOT);
            CHILD_CHECK(hot_intact(hot, page), "hot page %zu read back wrong", page);
            share_watch(i);
        }
        for (size_t i = 0; i < SHARE_HOT; i++)
            CHILD_CHECK(hot_intact(hot, i), "hot page %zu lost its contents", i);
        share_out->regrown = share_limit();
        share_out->grows_after = share_grows() - grows;
    }
    static uint8_t want[4096];
    for (size_t i = 0; i < SHARE_COLD; i++) {
        fill_half(want, i);
        CHILD_CHECK(memcmp(cold + i * PG, want, PG) == 0, "cold page %zu lost its contents", i);
    }
    share_out->hard_faults = s1.hard_faults - s0.hard_faults;
    share_out->hits = s1.compress_hits - s0.compress_hits;
    share_out->limit = limit;
    share_out->max = (uint64_t)SHARE_CAP / 100 * c.compress_max_pct; /* start.c's */
    share_out->charged = s1.compress_store_bytes;
    share_out->shrinks = share_shrinks();
    share_out->grows = grows;
    share_out->rejects = s1.compress_rejects;
    /* the page writer idle, no decision is in flight: the counters and the
     * share agree with share.c's own */
    wait_page_writer_idle();
    struct vmem_stats s2;
    uint64_t own;
    do { /* a snapshot no decision came between */
        own = share_limit();
        CHILD_CHECK(vmem_get_stats(&s2) == 0, "vmem_get_stats");
    } while (own != share_limit() || s2.compress_share_shrinks != share_shrinks() ||
             s2.compress_share_grows != share_grows());
    share_out->final_limit = own;
    share_out->stats_limit = s2.compress_share_bytes;
    share_out->stats_pages = s2.compress_share_pages;
    share_out->stats_shrinks = s2.compress_share_shrinks;
    share_out->stats_grows = s2.compress_share_grows;
    share_out->ran = 1;
}

static struct share_result share_run(int store, int hot_text)
{
    share_out = mmap(NULL, sizeof(*share_out), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(share_out, MAP_FAILED);
    share_store = store;
    share_hot_text = hot_text;
    run_child(share_scenario);
    cr_assert(share_out->ran);
    return *share_out;
}

/* The share after one decision of share.c's rule from v: shrink (halved,
 * 0 below a quarter of max), to zero, or grow (doubled up to max, from 0
 * to a quarter of max). */
enum { RULE_SHRINK, RULE_ZERO, RULE_GROW };
static uint64_t rule(uint64_t v, uint64_t max, int how)
{
    if (how == RULE_ZERO || (how == RULE_SHRINK && v / 2 < max / 4))
        return 0;
    if (how == RULE_SHRINK)
        return v / 2;
    return !v ? max / 4 : v * 2 > max ? max : v * 2;
}

/* Whether `to` is reached from `from` by at most `shrinks` shrinks and
 * `grows` grows of the rule. */
static int reachable(uint64_t from, uint64_t to, uint64_t max, uint64_t shrinks, uint64_t grows)
{
    if (from == to)
        return 1;
    if (shrinks && (reachable(rule(from, max, RULE_SHRINK), to, max, shrinks - 1, grows) ||
                    reachable(rule(from, max, RULE_ZERO), to, max, shrinks - 1, grows)))
        return 1;
    return grows && reachable(rule(from, max, RULE_GROW), to, max, shrinks, grows - 1);
}

/* What vmem_get_stats showed of the share moved as the rule moves it: it
 * started at the maximum, and each change seen is reached by the shrinks
 * and grows counted since the value before (one more of each: a sample may
 * fall between the page writer's setting the share and counting it). */
static void assert_share_followed_rule(const struct share_result *r)
{
    cr_assert_gt(r->nseen, 0, "vmem_get_stats never showed the share");
    cr_assert_eq(r->seen[0], r->max, "the share started at %llu bytes, not %llu",
                 (unsigned long long)r->seen[0], (unsigned long long)r->max);
    for (unsigned k = 1; k < r->nseen; k++) {
        uint64_t ds = r->seen_shrinks[k] - r->seen_shrinks[k - 1];
        uint64_t dg = r->seen_grows[k] - r->seen_grows[k - 1];
        cr_assert(reachable(r->seen[k - 1], r->seen[k], r->max, ds + 1, dg + 1),
                  "the share went from %llu to %llu bytes with %llu shrinks and %llu grows",
                  (unsigned long long)r->seen[k - 1], (unsigned long long)r->seen[k],
                  (unsigned long long)ds, (unsigned long long)dg);
    }
    /* and at rest it is share.c's own, in bytes and pages */
    cr_assert_eq(r->stats_limit, r->final_limit);
    cr_assert_eq(r->stats_pages, r->final_limit / PG);
    cr_assert_eq(r->stats_shrinks, r->shrinks);
}

Test(compress, share_goes_back_to_the_working_set_when_pages_do_not_compress)
{
    struct share_result off = share_run(0, 0), on = share_run(1, 0);
    /* hard faults as without the store: 10% for the trimmer's timing (the
     * fixed 25% share gave 1.5 times as many) */
    cr_assert_leq(on.hard_faults * 10, off.hard_faults * 11,
                  "store on: %llu hard faults, off: %llu (share %llu of %llu bytes, store "
                  "%llu bytes, %llu shrinks, %llu rejects)",
                  (unsigned long long)on.hard_faults, (unsigned long long)off.hard_faults,
                  (unsigned long long)on.limit, (unsigned long long)on.max,
                  (unsigned long long)on.charged, (unsigned long long)on.shrinks,
                  (unsigned long long)on.rejects);
    cr_assert_eq(on.limit, 0, "the share is still %llu bytes", (unsigned long long)on.limit);
    cr_assert_gt(on.shrinks, 0);
    cr_assert_eq(on.charged, 0, "the store still takes %llu bytes",
                 (unsigned long long)on.charged);
    /* and once the pages compress, the samples bring the share back */
    cr_assert_gt(on.grows_after, 0, "the share did not grow back (%llu bytes)",
                 (unsigned long long)on.regrown);
    cr_assert_gt(on.regrown, 0);
    /* vmem_get_stats showed it all along: down to 0 with the rejects, back
     * up once the pages compress, each step one the rule makes */
    assert_share_followed_rule(&on);
    int down = 0, up = 0;
    for (unsigned k = 1; k < on.nseen; k++) {
        down |= on.seen[k] == 0;
        up |= on.seen[k] > on.seen[k - 1];
    }
    cr_assert(down, "vmem_get_stats never showed the share at 0 (%u values seen)", on.nseen);
    cr_assert(up, "vmem_get_stats never showed the share growing back");
    cr_assert_gt(on.stats_grows, 0);
    cr_assert_gt(on.stats_limit, 0, "vmem_get_stats does not show the share back");
    /* with the store off there is no share */
    cr_assert_eq(off.stats_limit, 0);
    cr_assert_eq(off.stats_pages, 0);
    cr_assert_eq(off.stats_shrinks + off.stats_grows, 0);
}

Test(compress, share_stays_when_pages_compress)
{
    struct share_result on = share_run(1, 1);
    cr_assert_eq(on.limit, on.max, "the share is %llu bytes of %llu (%llu shrinks)",
                 (unsigned long long)on.limit, (unsigned long long)on.max,
                 (unsigned long long)on.shrinks);
    cr_assert_gt(on.hits, 0, "no fault was served from the store");
    cr_assert_gt(on.charged, 0, "the store holds nothing");
    assert_share_followed_rule(&on);
    cr_assert_eq(on.stats_limit, on.max);
}

/* ---- the store in the published statistics and the report ---------------- */

Test(compress, store_ram_and_share_are_published_and_reported)
{
    size_t n;
    uint8_t *p = compressed_region(2 * MIB, &n);
    cr_assert_gt(count_state(p, n, PTE_COMPRESSED), 0, "no page is compressed");
    wait_page_writer_idle();
    struct vmem_stats s = stats();
    cr_assert_gt(s.compress_store_bytes, 0);
    cr_assert_gt(s.compress_share_bytes, 0);
    const struct vmem_statarea *a;
    int e = vmem_statarea_open(vmem_statarea_dir(), (long)getpid(), 0, &a);
    if (e == ENOENT)
        cr_skip_test("no statistics area (VMEM_PUBLISH=off?)");
    cr_assert_eq(e, 0, "vmem_statarea_open: %s", strerror(e));
    struct vmem_proc_report r;
    vmem_statarea_read(a, &r);
    vmem_statarea_close(a);
    /* what `vmem run --report` reads is what vmem_get_stats says (nothing
     * moves: the program is idle, the page writer too) */
    cr_assert_eq(r.st.compress_store_bytes, s.compress_store_bytes,
                 "published %llu bytes of store, vmem_get_stats %llu",
                 (unsigned long long)r.st.compress_store_bytes,
                 (unsigned long long)s.compress_store_bytes);
    cr_assert_eq(r.st.compress_share_bytes, s.compress_share_bytes);
    cr_assert_eq(r.st.compress_share_pages, s.compress_share_pages);
    cr_assert_eq(r.st.compress_share_shrinks, s.compress_share_shrinks);
    cr_assert_eq(r.st.compress_share_grows, s.compress_share_grows);
    /* the text report says it next to the store's other figures */
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    r.st = s;
    cr_assert_eq(vmem_report_write(fds[1], VMEM_REPORT_TEXT, &r, 1, 0), 0);
    close(fds[1]);
    static char text[16384];
    read_to_end(fds[0], text, sizeof(text));
    char want[128];
    snprintf(want, sizeof(want), "store's share        %llu KiB (%llu pages)",
             (unsigned long long)(s.compress_share_bytes / 1024),
             (unsigned long long)s.compress_share_pages);
    cr_assert_not_null(strstr(text, want), "no \"%s\" in the report:\n%s", want, text);
}

/* ---- options ------------------------------------------------------------ */

static void refused(const char *var, const char *val)
{
    struct vmem_config c;
    char err[256];
    setenv(var, val, 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL, "%s=%s accepted", var, val);
    cr_assert_not_null(strstr(err, var), "the message does not name %s: %s", var, err);
    unsetenv(var);
}

Test(compress, options_parse_and_bad_values_are_named)
{
    struct vmem_config c;
    char err[256];
    setenv("VMEM_COMPRESS", "zstd", 1);
    setenv("VMEM_COMPRESS_MAX", "30%", 1);
    setenv("VMEM_COMPRESS_THRESHOLD", "50", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.compress, VMEM_COMPRESS_ZSTD);
    cr_assert_eq(c.compress_max_pct, 30);
    cr_assert_eq(c.compress_max, 0);
    cr_assert_eq(c.compress_threshold, 50);
    setenv("VMEM_COMPRESS_MAX", "16M", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.compress_max, 16 * MIB);
    cr_assert_eq(c.compress_max_pct, 0);
    unsetenv("VMEM_COMPRESS_MAX");
    unsetenv("VMEM_COMPRESS_THRESHOLD");
    unsetenv("VMEM_COMPRESS");
    refused("VMEM_COMPRESS", "gzip");
    refused("VMEM_COMPRESS_MAX", "0%");
    refused("VMEM_COMPRESS_MAX", "95%");
    refused("VMEM_COMPRESS_MAX", "1K");
    refused("VMEM_COMPRESS_MAX", "lots");
    refused("VMEM_COMPRESS_THRESHOLD", "100");
}
