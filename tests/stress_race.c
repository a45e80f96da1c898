/*
 * stress_race -- concurrency stress without a test framework, so it also
 * runs under ThreadSanitizer (whose shadow mappings leave Criterion's
 * process arena no room: Criterion issue #274).
 *
 * Threads write and verify their own pages while others commit, decommit,
 * change protections, read write-watch state and counters on the same
 * reservation.  Exit 0 and "N passed, 0 failed" when every byte checked.
 */
#include <memoryapi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <vmem.h>

#define WORKERS 4
#define PAGES_PER_WORKER 1024
#define CHURN_PAGES 256
/* Round 0 writes pages never touched (demand-zero faults), the others
 * pages paged out meanwhile (hard faults), each with a slice decommitted
 * under way. */
#define ROUNDS 3

static uint8_t *region;   /* [worker pages][churn pages] */
static atomic_int stop;
static atomic_int failures;

static void fail(const char *what, size_t page, unsigned got, unsigned want)
{
    fprintf(stderr, "FAIL %s: page %zu holds %#x, expected %#x\n", what, page, got, want);
    atomic_fetch_add(&failures, 1);
}

static uint8_t tag(size_t page, int round)
{
    return (uint8_t)(page * 31 + (size_t)round * 7 + 1);
}

static void *worker(void *arg)
{
    size_t id = (size_t)(uintptr_t)arg, first = id * PAGES_PER_WORKER;
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t i = first; i < first + PAGES_PER_WORKER; i++)
            region[i * 4096 + (i % 4000)] = tag(i, round);
        for (size_t i = first; i < first + PAGES_PER_WORKER; i++) {
            uint8_t got = region[i * 4096 + (i % 4000)];
            if (got != tag(i, round))
                fail("worker readback", i, got, tag(i, round));
        }
        /* decommit and recommit a slice of our own: it must come back zero */
        uint8_t *slice = region + (first + (size_t)round * 64) * 4096;
        if (!VirtualFree(slice, 64 * 4096, MEM_DECOMMIT) ||
            VirtualAlloc(slice, 64 * 4096, MEM_COMMIT, PAGE_READWRITE) != slice)
            fail("decommit/recommit", first, (unsigned)GetLastError(), 0);
        for (size_t k = 0; k < 64 * 4096; k += 512)
            if (slice[k])
                fail("recommitted slice not zero", first + (size_t)round * 64 + k / 4096,
                     slice[k], 0);
        for (size_t i = first + (size_t)round * 64; i < first + (size_t)round * 64 + 64; i++)
            region[i * 4096 + (i % 4000)] = tag(i, round);
    }
    return NULL;
}

static void *churner(void *arg)
{
    (void)arg;
    uint8_t *c = region + (size_t)WORKERS * PAGES_PER_WORKER * 4096;
    DWORD old;
    while (!atomic_load(&stop)) {
        if (VirtualAlloc(c, CHURN_PAGES * 4096, MEM_COMMIT, PAGE_READWRITE) != c)
            fail("churn commit", 0, (unsigned)GetLastError(), 0);
        for (size_t i = 0; i < CHURN_PAGES; i += 8)
            c[i * 4096] = 0x77;
        if (!VirtualProtect(c, CHURN_PAGES * 4096, PAGE_READONLY, &old) || old != PAGE_READWRITE)
            fail("churn protect", 0, (unsigned)old, PAGE_READWRITE);
        for (size_t i = 0; i < CHURN_PAGES; i += 8)
            if (c[i * 4096] != 0x77)
                fail("churn readback", i, c[i * 4096], 0x77);
        if (!VirtualFree(c, CHURN_PAGES * 4096, MEM_DECOMMIT))
            fail("churn decommit", 0, (unsigned)GetLastError(), 0);
    }
    return NULL;
}

static void *observer(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        MEMORY_BASIC_INFORMATION mbi;
        struct vmem_stats st;
        if (!VirtualQuery(region + 4096 * 17, &mbi, sizeof(mbi)) || mbi.AllocationBase != region)
            fail("query", 17, (unsigned)GetLastError(), 0);
        if (vmem_get_stats(&st) || st.commit_charge > st.peak_commit_charge)
            fail("stats", 0, (unsigned)st.commit_charge, (unsigned)st.peak_commit_charge);
        void *addrs[64];
        ULONG_PTR n = 64;
        DWORD gran;
        if (GetWriteWatch(0, region, 4096 * 64, addrs, &n, &gran) != 0 &&
            GetLastError() != ERROR_NOT_SUPPORTED)
            fail("write watch", 0, (unsigned)GetLastError(), 0);
    }
    return NULL;
}

int main(void)
{
    size_t total = ((size_t)WORKERS * PAGES_PER_WORKER + CHURN_PAGES) * 4096;
    region = VirtualAlloc(NULL, total, MEM_RESERVE | MEM_WRITE_WATCH, PAGE_READWRITE);
    if (!region || !VirtualAlloc(region, (size_t)WORKERS * PAGES_PER_WORKER * 4096, MEM_COMMIT,
                                 PAGE_READWRITE)) {
        fprintf(stderr, "cannot allocate: error %u\n", (unsigned)GetLastError());
        return 1;
    }
    pthread_t w[WORKERS], ch, ob;
    pthread_create(&ch, NULL, churner, NULL);
    pthread_create(&ob, NULL, observer, NULL);
    for (size_t i = 0; i < WORKERS; i++)
        pthread_create(&w[i], NULL, worker, (void *)(uintptr_t)i);
    for (size_t i = 0; i < WORKERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&stop, 1);
    pthread_join(ch, NULL);
    pthread_join(ob, NULL);
    int failed = atomic_load(&failures) != 0;
    printf("%d passed, %d failed\n", failed ? 0 : 1, failed);
    return failed;
}
