/*
 * preload_threads.c -- 8 threads malloc, fill, check and free blocks of
 * every size class and some large ones, freeing part of them in another
 * thread; run under libvmem-preload.so.  Exit 0 if every byte was right.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
/* Each slot refilled about 20 times: the blocks alive at once, and so the
 * peak, are those of a longer run. */
#define ROUNDS  5000
#define SLOTS   256

static void *handoff[THREADS][SLOTS];
static int failures;

static size_t pick(unsigned *seed)
{
    unsigned r = rand_r(seed);
    return r % 100 == 0 ? 65536 + r % 300000 : 1 + r % 4096;
}

static void *worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg, seed = id * 7919u + 1;
    unsigned char *slot[SLOTS] = {0};
    size_t len[SLOTS] = {0};
    for (int i = 0; i < ROUNDS; i++) {
        unsigned k = rand_r(&seed) % SLOTS;
        if (slot[k]) {
            for (size_t j = 0; j < len[k]; j += 97)
                if (slot[k][j] != (unsigned char)(k ^ id))
                    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
            /* Every other block is freed by the next thread. */
            void *old = __atomic_exchange_n(&handoff[(id + 1) % THREADS][k], slot[k],
                                            __ATOMIC_ACQ_REL);
            free(old);
        }
        len[k] = pick(&seed);
        slot[k] = (i & 1) ? malloc(len[k]) : calloc(1, len[k]);
        if (!slot[k]) {
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
            break;
        }
        if (!(i & 1) && (slot[k][0] || slot[k][len[k] - 1]))
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
        if (i % 7 == 0) {
            unsigned char *r = realloc(slot[k], len[k] * 2);
            if (!r) {
                __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
                break;
            }
            slot[k] = r;
            len[k] *= 2;
        }
        memset(slot[k], (int)(k ^ id), len[k]);
    }
    for (unsigned k = 0; k < SLOTS; k++)
        free(slot[k]);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i)) {
            perror("pthread_create");
            return 1;
        }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < SLOTS; k++)
            free(handoff[i][k]);
    void *p = NULL;
    if (posix_memalign(&p, 4096, 100) || ((uintptr_t)p & 4095)) {
        fprintf(stderr, "posix_memalign\n");
        return 1;
    }
    free(p);
    p = aligned_alloc(1 << 20, 1 << 20);
    if (!p || ((uintptr_t)p & ((1 << 20) - 1))) {
        fprintf(stderr, "aligned_alloc\n");
        return 1;
    }
    free(p);
    if (failures) {
        fprintf(stderr, "%d wrong bytes or failed allocations\n", failures);
        return 1;
    }
    printf("threads ok\n");
    return 0;
}
