/*
 * test_segv_race.c -- SIGSEGVs that libvmem claims, taken by several
 * threads at once on the same page: a guard page read by many threads, a
 * forked child's first touches of paged-out pages.  One thread does the
 * work; the others must simply retry their access, never see a spurious
 * signal, and never leave the process without libvmem's handler.
 */
#include <memoryapi.h>
#include <vmem.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <unistd.h>

#define THREADS 8
#define ROUNDS  48

static volatile int hits;
static void *volatile last_addr;

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
    last_addr = si->si_addr;
    if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) > 10 * ROUNDS)
        _exit(90); /* the access keeps faulting */
}

struct race {
    pthread_barrier_t start, done;
    volatile unsigned char *page[ROUNDS];
    unsigned sum[THREADS];
};

static struct race race;

static void *reader(void *arg)
{
    size_t me = (size_t)arg;
    for (int k = 0; k < ROUNDS; k++) {
        pthread_barrier_wait(&race.start);
        race.sum[me] += race.page[k][k];
        pthread_barrier_wait(&race.done);
    }
    return NULL;
}

static int guard_race_child(void *arg)
{
    (void)arg;
    unsigned char *p = VirtualAlloc(NULL, (ROUNDS + 1) * PG, MEM_RESERVE | MEM_COMMIT,
                                    PAGE_READWRITE);
    if (!p)
        return 2;
    for (int k = 0; k <= ROUNDS; k++)
        p[k * PG + k] = (unsigned char)(k + 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL))
        return 3;
    DWORD old;
    if (!VirtualProtect(p, (ROUNDS + 1) * PG, PAGE_READWRITE | PAGE_GUARD, &old))
        return 4;
    for (int k = 0; k < ROUNDS; k++)
        race.page[k] = p + k * PG;
    pthread_barrier_init(&race.start, NULL, THREADS + 1);
    pthread_barrier_init(&race.done, NULL, THREADS + 1);
    pthread_t t[THREADS];
    for (size_t i = 0; i < THREADS; i++)
        if (start_thread(&t[i], reader, (void *)i))
            return 5;
    for (int k = 0; k < ROUNDS; k++) {
        pthread_barrier_wait(&race.start);
        pthread_barrier_wait(&race.done);
        /* one signal per guard page, as Windows raises one
         * STATUS_GUARD_PAGE_VIOLATION: the other readers just read */
        int h = __atomic_load_n(&hits, __ATOMIC_SEQ_CST);
        if (h != k + 1) {
            fprintf(stderr, "guard page %d: %d signals in all, want %d\n", k, h, k + 1);
            return 6;
        }
    }
    for (size_t i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (size_t i = 0; i < THREADS; i++)
        if (race.sum[i] != ROUNDS * (ROUNDS + 1) / 2)
            return 7;
    /* libvmem still handles SIGSEGV: a later guard page is raised once
     * and lifted, and the process lives on */
    volatile unsigned char *last = p + ROUNDS * PG;
    unsigned char got = last[ROUNDS];
    if (hits != ROUNDS + 1 || last_addr != (void *)(p + ROUNDS * PG + ROUNDS) ||
        got != ROUNDS + 1) {
        fprintf(stderr, "last guard page: %d signals, value %d\n", hits, got);
        return 8;
    }
    MEMORY_BASIC_INFORMATION m;
    if (VirtualQuery(p + ROUNDS * PG, &m, sizeof m) != sizeof m || m.Protect != PAGE_READWRITE)
        return 9;
    return 0;
}

Test(segv_race, guard_page_read_by_many_threads)
{
    child_run(guard_race_child, NULL, "threads reading the same guard pages");
}

/* ---- a forked child's page-ins ------------------------------------------ */

static volatile uint64_t *fork_pages;
static size_t fork_npages;

static void *fork_reader(void *arg)
{
    size_t me = (size_t)arg;
    for (size_t k = 0; k < ROUNDS; k++) {
        pthread_barrier_wait(&race.start);
        race.sum[me] += (unsigned)(fork_pages[k * 512 + 7] == k * 31 + 5);
        pthread_barrier_wait(&race.done);
    }
    return NULL;
}

static int fork_race_child(void *arg)
{
    (void)arg;
    /* no SIGSEGV handler of the application: a spurious one is fatal */
    pthread_barrier_init(&race.start, NULL, THREADS + 1);
    pthread_barrier_init(&race.done, NULL, THREADS + 1);
    pthread_t t[THREADS];
    for (size_t i = 0; i < THREADS; i++)
        if (start_thread(&t[i], fork_reader, (void *)i))
            return 5;
    for (int k = 0; k < ROUNDS; k++) {
        pthread_barrier_wait(&race.start);
        pthread_barrier_wait(&race.done);
    }
    for (size_t i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (size_t i = 0; i < THREADS; i++)
        if (race.sum[i] != ROUNDS) {
            fprintf(stderr, "reader %zu saw %u of %d pages right\n", i, race.sum[i], ROUNDS);
            return 6;
        }
    /* later page-ins, one thread at a time, still work */
    for (size_t k = ROUNDS; k < fork_npages; k++)
        if (fork_pages[k * 512 + 7] != k * 31 + 5) {
            fprintf(stderr, "page %zu lost\n", k);
            return 7;
        }
    return 0;
}

Test(segv_race, forked_child_pages_in_from_many_threads)
{
    need_paging(MIB);
    fork_npages = 4 * MIB / PG;
    uint64_t *p = VirtualAlloc(NULL, fork_npages * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (size_t k = 0; k < fork_npages; k++)
        p[k * 512 + 7] = k * 31 + 5;
    /* start from the end: the first pages are the ones trimmed */
    fork_pages = p;
    struct vmem_stats s = stats();
    cr_assert_gt(s.trimmed_pages, ROUNDS, "too few pages were trimmed for the test");
    child_run(fork_race_child, NULL, "a forked child's threads paging in the same pages");
}
