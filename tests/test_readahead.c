/*
 * test_readahead.c -- asynchronous readahead (fault/readahead.c,
 * VMEM_READAHEAD): a sequential scan of paged-out memory is read ahead
 * of, a broken stream stops it, decommit / protect / trim / fork racing
 * reads in flight keep every byte right, and a failed readahead read never
 * becomes an error the program did not earn.
 *
 * Readahead runs in fault mode thread only; the other modes skip.
 */
#include "helpers.h"
#include "pagefile/pagefile.h"
#include "paging/wsmanager.h"

#include <stdatomic.h>

#define CAP    (8 * MIB)
#define NPAGES (4 * CAP / PG) /* four times the cap */

/* Thread mode with paging under CAP; skips elsewhere. */
static void need_readahead(void)
{
    setenv("VMEM_READAHEAD", "on", 0); /* the default; a path may set a size */
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode != VMEM_FAULT_THREAD)
        cr_skip_test("readahead runs in fault mode thread only (signal mode: each "
                     "hard fault reads its prefetch window synchronously)");
    cr_assert_gt(c.readahead, 0, "VMEM_READAHEAD=on was not taken");
    need_paging(CAP);
}

/* NPAGES pages of generation 1, most of them paged out once the cap holds
 * and the page writer is done. */
static uint8_t *paged_out_region(void)
{
    uint8_t *p = VirtualAlloc(NULL, NPAGES * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p, "VirtualAlloc: error %u", (unsigned)GetLastError());
    for (size_t i = 0; i < NPAGES; i++)
        fill_page(p, i, 1);
    wait_within_cap();
    wait_page_writer_idle();
    return p;
}

static size_t first_bad(const uint8_t *p, size_t from, size_t to, uint64_t gen)
{
    for (size_t i = from; i < to; i++)
        if (!page_intact(p, i, gen))
            return i;
    return to;
}

Test(readahead, sequential_scan_is_read_ahead)
{
    need_readahead();
    uint8_t *p = paged_out_region();
    struct vmem_stats s0 = stats();
    size_t bad = first_bad(p, 0, NPAGES, 1);
    struct vmem_stats s1 = stats();
    cr_assert_eq(bad, NPAGES, "page %zu read back wrong", bad);
    uint64_t hard = s1.hard_faults - s0.hard_faults;
    uint64_t read = s1.pages_read - s0.pages_read;
    uint64_t used = s1.prefetch_used - s0.prefetch_used;
    cr_log_info("scan of %zu pages: %llu hard faults, %llu pages read, %llu read-ahead "
                "pages used", (size_t)NPAGES, (unsigned long long)hard,
                (unsigned long long)read, (unsigned long long)used);
    cr_assert_gt(read, NPAGES / 2, "the scan read little from the page file: nothing to test");
    cr_assert_gt(used, 0, "no read-ahead page counted as used");
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.prefetch_install == VMEM_PREFETCH_STANDBY) {
        /* read-ahead pages compete for the standby frames (an eighth of
         * the cap) with trimmed pages, and go back paged out without one:
         * hits are counted, their number is not a measure */
        cr_log_info("VMEM_PREFETCH_INSTALL=standby: hard faults not compared");
    } else {
        /* one hard fault per VMEM_CLUSTER (8) pages without readahead */
        cr_assert_lt(hard, read / 16, "%llu hard faults for %llu pages read",
                     (unsigned long long)hard, (unsigned long long)read);
    }
    release(p);
}

/* Streams on four threads with the working-set manager held: the faults
 * make their own room while readahead takes free room for its windows and
 * keeps each window's marker in a standby frame; every page reads back,
 * the streams are read ahead of, and no page goes over the cap. */
#define NSCANNERS 4
static uint8_t *scanned;
static size_t scan_bad; /* atomic: pages read back wrong */

static void *scan_quarter(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg, n = NPAGES / NSCANNERS;
    for (size_t i = t * n; i < (t + 1) * n; i++)
        if (!page_intact(scanned, i, 1))
            __atomic_add_fetch(&scan_bad, 1, __ATOMIC_RELAXED);
    return NULL;
}

Test(readahead, streams_with_the_manager_held_stay_under_the_cap)
{
    need_readahead();
    scanned = paged_out_region();
    struct vmem_stats s0 = stats();
    wsmanager_test_hold(1);
    pthread_t th[NSCANNERS];
    for (size_t t = 0; t < NSCANNERS; t++)
        cr_assert_eq(start_thread(&th[t], scan_quarter, (void *)(uintptr_t)t), 0);
    for (size_t t = 0; t < NSCANNERS; t++)
        pthread_join(th[t], NULL);
    struct vmem_stats s1 = stats();
    wsmanager_test_hold(0);
    cr_assert_eq(scan_bad, 0, "%zu pages read back wrong", scan_bad);
    cr_assert_gt(s1.prefetch_used - s0.prefetch_used, 0, "the streams were not read ahead of");
    cr_assert_eq(s1.cap_overruns - s0.cap_overruns, 0,
                 "%llu pages over the cap, with nothing locked",
                 (unsigned long long)(s1.cap_overruns - s0.cap_overruns));
    cr_assert_leq(s1.peak_working_set, CAP / PG + CAP / PG / 100, "peak working set %llu pages",
                  (unsigned long long)s1.peak_working_set);
    release(scanned);
}

/* xorshift64 */
static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

Test(readahead, broken_stream_stops_reading_ahead)
{
    need_readahead();
    uint8_t *p = paged_out_region();
    /* a stream first: readahead is at work */
    struct vmem_stats s0 = stats();
    cr_assert_eq(first_bad(p, 0, NPAGES / 4, 1), NPAGES / 4);
    struct vmem_stats s1 = stats();
    cr_assert_gt(s1.prefetch_used - s0.prefetch_used, 0, "the stream was not read ahead of");
    /* then random jumps over the pages not scanned: each hard fault reads
     * its own page and its prefetch window (which shrinks on misses); what
     * readahead reads beyond that is at most what was queued for the
     * stream when it broke */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    size_t touches = 512, span = NPAGES - NPAGES / 2;
    for (size_t k = 0; k < touches; k++) {
        size_t i = NPAGES / 2 + next_rand(&x) % span;
        cr_assert(page_intact(p, i, 1), "page %zu read back wrong", i);
    }
    struct vmem_stats s2 = stats();
    uint64_t hard = s2.hard_faults - s1.hard_faults;
    uint64_t read = s2.pages_read - s1.pages_read;
    /* what was queued for the stream when it broke: VMEM_READAHEAD (1024
     * pages by default, the cap's eighth 256 here) and a window */
    uint64_t queued = 1024 + 256;
    cr_log_info("%zu random touches: %llu hard faults, %llu pages read", touches,
                (unsigned long long)hard, (unsigned long long)read);
    cr_assert_gt(hard, touches / 2, "the random touches hardly faulted: nothing to test");
    cr_assert_leq(read, hard * 2 + queued,
                 "%llu pages read for %llu hard faults: readahead went on after the "
                 "stream broke", (unsigned long long)read, (unsigned long long)hard);
    release(p);
}

/* Streams that break soon after readahead starts on them (a merge's short
 * runs): what is read ahead of them goes unused, and the gate stops
 * reading ahead of such streams after a few. */
Test(readahead, short_streams_close_the_gate)
{
    need_readahead();
    uint8_t *p = paged_out_region();
    uint64_t x = 0x2545F4914F6CDD1Dull;
    size_t streams = 256, len = 32;
    struct vmem_stats s0 = stats();
    for (size_t k = 0; k < streams; k++) {
        size_t at = next_rand(&x) % (NPAGES / len - 1) * len;
        cr_assert_eq(first_bad(p, at, at + len, 1), at + len, "stream %zu read back wrong", k);
    }
    struct vmem_stats s1 = stats();
    uint64_t hard = s1.hard_faults - s0.hard_faults;
    uint64_t read = s1.pages_read - s0.pages_read;
    uint64_t ahead = (s1.prefetch_used - s0.prefetch_used) +
                     (s1.prefetch_unused - s0.prefetch_unused);
    cr_log_info("%zu streams of %zu pages: %llu hard faults, %llu pages read, %llu read "
                "ahead (used %llu)", streams, len, (unsigned long long)hard,
                (unsigned long long)read, (unsigned long long)ahead,
                (unsigned long long)(s1.prefetch_used - s0.prefetch_used));
    cr_assert_gt(hard, streams, "the streams hardly faulted: nothing to test");
    /* until the gate has seen RA_GATE_EVIDENCE pages go unused, each
     * stream may queue what lies ahead of it (the cap's eighth, 512
     * pages) before it is given up (four streams are followed) */
    uint64_t before_closed = 8 * 512;
    cr_assert_leq(read, hard * 8 + before_closed,
                  "%llu pages read for %llu hard faults: readahead kept reading ahead of "
                  "streams that broke", (unsigned long long)read, (unsigned long long)hard);
    /* a long stream then opens it again: most of a scan is read ahead */
    wait_within_cap();
    wait_page_writer_idle();
    size_t from = 0;
    while (from < NPAGES && page_state(p + from * PG) != PTE_PAGEDOUT)
        from++;
    cr_assert_lt(from + NPAGES / 2, NPAGES, "no paged-out run to scan");
    struct vmem_stats s2 = stats();
    cr_assert_eq(first_bad(p, from, from + NPAGES / 2, 1), from + NPAGES / 2);
    struct vmem_stats s3 = stats();
    uint64_t used = s3.prefetch_used - s2.prefetch_used;
    cr_log_info("then a scan of %zu pages: %llu hard faults, %llu read ahead used",
                (size_t)NPAGES / 2, (unsigned long long)(s3.hard_faults - s2.hard_faults),
                (unsigned long long)used);
    cr_assert_gt(used, NPAGES / 4, "the scan was hardly read ahead of: the gate stayed shut");
    release(p);
}

/* One thread scans a region, every page; another touches random pages of
 * a second region (a hash table's lookups).  Every page read ahead is for
 * the scan and is reached by it: the random faults must not push the
 * scan's stream out (counting its windows unused and closing the gate). */
struct toucher { uint8_t *q; atomic_int *stop; size_t bad; };

static void *touch_randomly(void *arg)
{
    struct toucher *t = arg;
    uint64_t x = 0xABCDEF12345ull;
    t->bad = SIZE_MAX;
    while (!atomic_load(t->stop)) {
        size_t i = next_rand(&x) % NPAGES;
        if (!page_intact(t->q, i, 1)) {
            t->bad = i;
            break;
        }
    }
    return NULL;
}

Test(readahead, random_faults_beside_a_scan_keep_its_stream)
{
    need_readahead();
    uint8_t *q = VirtualAlloc(NULL, NPAGES * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(q);
    for (size_t i = 0; i < NPAGES; i++)
        fill_page(q, i, 1);
    uint8_t *p = paged_out_region();
    atomic_int stop = 0;
    struct toucher t = { q, &stop, SIZE_MAX };
    pthread_t th;
    cr_assert_eq(start_thread(&th, touch_randomly, &t), 0);
    struct vmem_stats s0 = stats();
    for (int pass = 0; pass < 2; pass++)
        cr_assert_eq(first_bad(p, 0, NPAGES, 1), NPAGES, "pass %d read back wrong", pass);
    struct vmem_stats s1 = stats();
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    cr_assert_eq(t.bad, SIZE_MAX, "random page %zu read back wrong", t.bad);
    uint64_t used = s1.prefetch_used - s0.prefetch_used;
    uint64_t unused = s1.prefetch_unused - s0.prefetch_unused;
    cr_log_info("two scans beside random faults: %llu read-ahead pages used, %llu unused",
                (unsigned long long)used, (unsigned long long)unused);
    cr_assert_gt(used, NPAGES / 2, "the scans were hardly read ahead of");
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.prefetch_install == VMEM_PREFETCH_STANDBY) {
        /* the counters include the random faults' neighbours kept on the
         * standby list, unused */
        cr_log_info("VMEM_PREFETCH_INSTALL=standby: unused pages not compared");
    } else {
        /* what is left ahead of the scan when each pass ends is not reached */
        cr_assert_lt(unused * 10, used, "%llu read-ahead pages counted unused (%llu used) "
                     "though the scan reads every page", (unsigned long long)unused,
                     (unsigned long long)used);
    }
    release(p);
    release(q);
}

/* ---- races ---------------------------------------------------------------- */

#define CHUNK 64 /* pages */
#define NCHUNKS (NPAGES / CHUNK)

struct race {
    uint8_t *p;
    pthread_mutex_t lock[NCHUNKS]; /* a chunk's content and generation */
    uint64_t gen[NCHUNKS];         /* 0: decommitted and committed again, zeros */
    atomic_int done;
    atomic_size_t scanned;
    size_t bad;
};

static int chunk_intact(struct race *r, size_t c)
{
    for (size_t i = c * CHUNK; i < (c + 1) * CHUNK; i++) {
        if (r->gen[c]) {
            if (!page_intact(r->p, i, r->gen[c]))
                return 0;
        } else {
            const uint64_t *w = (const uint64_t *)(r->p + i * PG);
            for (size_t k = 0; k < PG / 8; k++)
                if (w[k])
                    return 0;
        }
    }
    return 1;
}

/* Scans every chunk in order, each under its lock, twice. */
static void *scanner(void *arg)
{
    struct race *r = arg;
    r->bad = SIZE_MAX;
    for (int pass = 0; pass < 2 && r->bad == SIZE_MAX; pass++) {
        for (size_t c = 0; c < NCHUNKS; c++) {
            pthread_mutex_lock(&r->lock[c]);
            int ok = chunk_intact(r, c);
            pthread_mutex_unlock(&r->lock[c]);
            if (!ok) {
                r->bad = c;
                break;
            }
            atomic_store(&r->scanned, pass * NCHUNKS + c);
        }
    }
    atomic_store(&r->done, 1);
    return NULL;
}

/* Changes chunks just ahead of the scanner, where readahead is reading:
 * decommit (and commit again, zeros, or rewritten), protect and back,
 * MEM_RESET-free; trims by lowering the cap for a moment. */
static void mutate(struct race *r, int with_trim)
{
    uint64_t x = 12345;
    size_t round = 0;
    while (!atomic_load(&r->done)) {
        size_t at = atomic_load(&r->scanned) % NCHUNKS;
        size_t c = (at + 1 + next_rand(&x) % 6) % NCHUNKS;
        uint8_t *cp = r->p + c * CHUNK * PG;
        pthread_mutex_lock(&r->lock[c]);
        switch (round++ % 4) {
        case 0: /* decommit: zeros */
            cr_assert(VirtualFree(cp, CHUNK * PG, MEM_DECOMMIT));
            cr_assert_not_null(VirtualAlloc(cp, CHUNK * PG, MEM_COMMIT, PAGE_READWRITE));
            r->gen[c] = 0;
            break;
        case 1: /* decommit and rewrite */
            cr_assert(VirtualFree(cp, CHUNK * PG, MEM_DECOMMIT));
            cr_assert_not_null(VirtualAlloc(cp, CHUNK * PG, MEM_COMMIT, PAGE_READWRITE));
            r->gen[c] = 2 + round;
            for (size_t i = c * CHUNK; i < (c + 1) * CHUNK; i++)
                fill_page(r->p, i, r->gen[c]);
            break;
        default: { /* protect and back: the content stays */
            DWORD old;
            cr_assert(VirtualProtect(cp, CHUNK * PG, PAGE_READONLY, &old));
            cr_assert(VirtualProtect(cp, CHUNK * PG, PAGE_READWRITE, &old));
            break;
        }
        }
        pthread_mutex_unlock(&r->lock[c]);
        if (with_trim && round % 16 == 0) {
            /* the trimmer takes pages, read-ahead ones included */
            cr_assert_eq(vmem_set_max_resident(CAP / 2), 0);
            cr_assert_eq(vmem_set_max_resident(CAP), 0);
        }
        sched_yield();
    }
}

static void race(int with_trim)
{
    need_readahead();
    static struct race r;
    r.p = paged_out_region();
    for (size_t c = 0; c < NCHUNKS; c++) {
        pthread_mutex_init(&r.lock[c], NULL);
        r.gen[c] = 1;
    }
    struct vmem_stats s0 = stats();
    pthread_t t;
    cr_assert_eq(start_thread(&t, scanner, &r), 0);
    mutate(&r, with_trim);
    pthread_join(t, NULL);
    struct vmem_stats s1 = stats();
    cr_assert_eq(r.bad, SIZE_MAX, "chunk %zu read back wrong", r.bad);
    cr_assert_gt(s1.prefetch_used - s0.prefetch_used, 0, "nothing was read ahead");
    release(r.p);
}

Test(readahead, decommit_and_protect_race_reads_in_flight)
{
    race(0);
}

Test(readahead, trim_races_reads_in_flight)
{
    race(1);
}

/* A child forked while readahead reads for the parent sees the parent's
 * data: pages claimed by readahead are paged out for it. */
Test(readahead, fork_during_readahead)
{
    need_readahead();
    static struct race r;
    r.p = paged_out_region();
    for (size_t c = 0; c < NCHUNKS; c++) {
        pthread_mutex_init(&r.lock[c], NULL);
        r.gen[c] = 1;
    }
    pthread_t t;
    cr_assert_eq(start_thread(&t, scanner, &r), 0);
    for (int k = 0; k < 4 && !atomic_load(&r.done); k++) {
        while (atomic_load(&r.scanned) < (size_t)k * NCHUNKS / 4 && !atomic_load(&r.done))
            sched_yield();
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
            /* the pages just ahead of the scan, where readahead reads */
            size_t from = atomic_load(&r.scanned) % NCHUNKS * CHUNK;
            size_t to = from + 2048 < NPAGES ? from + 2048 : NPAGES;
            _exit(first_bad(r.p, from, to, 1) == to ? 0 : 1);
        }
        child_assert_ok(pid, "child reading the parent's pages");
    }
    pthread_join(t, NULL);
    cr_assert_eq(r.bad, SIZE_MAX, "chunk %zu read back wrong", r.bad);
    release(r.p);
}

/* ---- I/O errors -------------------------------------------------------------- */

/* Every other read of each thread fails: readahead's windows fail half the
 * time and are dropped; faults retry theirs.  Nothing is lost. */
Test(readahead, failed_reads_are_dropped)
{
    need_readahead();
    uint8_t *p = paged_out_region();
    struct vmem_stats s0 = stats();
    pagefile_inject_errors(2, EIO);
    size_t bad = first_bad(p, 0, NPAGES, 1);
    pagefile_inject_errors(0, 0);
    struct vmem_stats s1 = stats();
    cr_assert_eq(bad, NPAGES, "page %zu read back wrong", bad);
    cr_assert_eq(s1.inpage_errors - s0.inpage_errors, 0);
    cr_assert_gt(s1.prefetch_used - s0.prefetch_used, 0, "nothing was read ahead");
    release(p);
}

/* Every read fails from the middle of a stream on: the program gets the
 * in-page error on the page it touches whose own read failed, and no page
 * readahead failed to read is lost. */
Test(readahead, error_only_where_the_program_reads)
{
    catch_sigbus();
    need_readahead();
    uint8_t *p = paged_out_region();
    struct vmem_stats s0 = stats();
    cr_assert_eq(first_bad(p, 0, NPAGES / 2, 1), NPAGES / 2);
    cr_assert_gt(stats().prefetch_used - s0.prefetch_used, 0, "nothing was read ahead");
    pagefile_inject_errors(1, EIO);
    size_t lost = NPAGES;
    for (size_t i = NPAGES / 2; i < NPAGES; i++) {
        uint64_t v;
        if (read_faults((const volatile uint64_t *)(p + i * PG), &v)) {
            lost = i;
            break;
        }
        cr_assert_eq(v, page_word(i, 0, 1), "page %zu read back wrong", i);
    }
    pagefile_inject_errors(0, 0);
    cr_assert_lt(lost, NPAGES, "no read failed: the scan never left what was read ahead");
    cr_assert_eq(got_code, BUS_MCEERR_AR);
    cr_assert_eq(page_state(p + lost * PG), PTE_INPAGE_ERROR);
    for (size_t i = 0; i < NPAGES; i++) {
        if (i == lost)
            continue;
        cr_assert_neq(page_state(p + i * PG), PTE_INPAGE_ERROR,
                      "page %zu, never touched by a failed read of its own, is lost", i);
    }
    cr_assert_eq(first_bad(p, lost + 1, NPAGES, 1), NPAGES);
    cr_assert_eq(stats().inpage_errors - s0.inpage_errors, 1);
    release(p);
}
