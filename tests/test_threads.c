/*
 * Many application threads faulting on one region at once: every fault is
 * served and every byte of every page reads back as written.
 */
#include <criterion/criterion.h>
#include <memoryapi.h>
#include <pthread.h>
#include <stdint.h>

#include "helpers.h"

#define NTHREADS 8
#define NPAGES   8192          /* 32 MiB */
#define WORDS    (4096 / 8)

static uint8_t *region;
static pthread_barrier_t start_line;

static uint64_t pattern(size_t page, size_t word)
{
    uint64_t x = (page + 1) * 0x9E3779B97F4A7C15ull ^ (word * 0xBF58476D1CE4E5B9ull);
    return x ^ (x >> 31);
}

/* Each thread owns the pages i with i % NTHREADS == id and fills them whole,
 * in an order that interleaves with the others so faults cluster across
 * owners. */
static void *fill_own(void *arg)
{
    size_t id = (size_t)(uintptr_t)arg;
    pthread_barrier_wait(&start_line);
    for (size_t i = id; i < NPAGES; i += NTHREADS) {
        uint64_t *w = (uint64_t *)(region + i * 4096);
        for (size_t k = 0; k < WORDS; k++)
            w[k] = pattern(i, k);
    }
    return NULL;
}

/* Every thread writes its own 8-byte slot of every page, all starting on
 * the same pages at the same time: many faults race on each page. */
static void *fill_slot(void *arg)
{
    size_t id = (size_t)(uintptr_t)arg;
    pthread_barrier_wait(&start_line);
    for (size_t i = 0; i < NPAGES; i++) {
        volatile uint64_t *w = (volatile uint64_t *)(region + i * 4096);
        w[id * 7] = pattern(i, id);
    }
    return NULL;
}

static void run(void *(*fn)(void *))
{
    pthread_t t[NTHREADS];
    pthread_barrier_init(&start_line, NULL, NTHREADS);
    for (size_t i = 0; i < NTHREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, fn, (void *)(uintptr_t)i), 0);
    for (size_t i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start_line);
}

Test(threads, eight_threads_fill_whole_pages)
{
    region = alloc_committed(NPAGES * 4096, PAGE_READWRITE);
    run(fill_own);
    for (size_t i = 0; i < NPAGES; i++) {
        const uint64_t *w = (const uint64_t *)(region + i * 4096);
        for (size_t k = 0; k < WORDS; k++)
            if (w[k] != pattern(i, k))
                cr_assert_fail("page %zu word %zu: %#llx, expected %#llx", i, k,
                         (unsigned long long)w[k], (unsigned long long)pattern(i, k));
    }
    cr_assert(VirtualFree(region, 0, MEM_RELEASE));
}

Test(threads, eight_threads_race_on_every_page)
{
    region = alloc_committed(NPAGES * 4096, PAGE_READWRITE);
    run(fill_slot);
    for (size_t i = 0; i < NPAGES; i++) {
        const uint64_t *w = (const uint64_t *)(region + i * 4096);
        for (size_t k = 0; k < WORDS; k++) {
            uint64_t want = (k % 7 == 0 && k / 7 < NTHREADS) ? pattern(i, k / 7) : 0;
            if (w[k] != want)
                cr_assert_fail("page %zu word %zu: %#llx, expected %#llx (a lost write or "
                         "a page installed twice)", i, k, (unsigned long long)w[k],
                         (unsigned long long)want);
        }
    }
    cr_assert(VirtualFree(region, 0, MEM_RELEASE));
}

/* Readers and writers of separate halves while another thread commits and
 * decommits a third range of the same reservation. */
static void *churn(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start_line);
    uint8_t *third = region + (NPAGES - 256) * 4096;
    for (int round = 0; round < 200; round++) {
        cr_assert_not_null(VirtualAlloc(third, 256 * 4096, MEM_COMMIT, PAGE_READWRITE));
        for (int i = 0; i < 256; i += 17) {
            cr_assert_eq(third[i * 4096 + 5], 0, "recommitted page not zero");
            third[i * 4096 + 5] = 0xAB;
        }
        cr_assert(VirtualFree(third, 256 * 4096, MEM_DECOMMIT));
    }
    return NULL;
}

static void *writer_low(void *arg)
{
    size_t id = (size_t)(uintptr_t)arg;
    pthread_barrier_wait(&start_line);
    for (size_t i = id; i < NPAGES - 256; i += NTHREADS - 1) {
        uint64_t *w = (uint64_t *)(region + i * 4096);
        w[0] = pattern(i, 0);
        w[WORDS - 1] = pattern(i, WORDS - 1);
    }
    return NULL;
}

static void *mixed(void *arg)
{
    size_t id = (size_t)(uintptr_t)arg;
    return id == NTHREADS - 1 ? churn(arg) : writer_low(arg);
}

Test(threads, faults_while_another_thread_decommits)
{
    region = alloc_committed(NPAGES * 4096, PAGE_READWRITE);
    run(mixed);
    for (size_t i = 0; i < NPAGES - 256; i++) {
        const uint64_t *w = (const uint64_t *)(region + i * 4096);
        cr_assert_eq(w[0], pattern(i, 0), "page %zu", i);
        cr_assert_eq(w[WORDS - 1], pattern(i, WORDS - 1), "page %zu", i);
    }
}
