/*
 * Replacement and prefetch policies on hand-checked reference strings, as
 * the simulator drives them: a reference to a resident page is a touch, a
 * miss evicts a victim when the frames are full and admits the page.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy/policy.h"

/* Faults of `ops` on refs with `frames` frames; pages dense below 64. */
static unsigned faults(const char *name, const uint64_t *refs, size_t n, size_t frames)
{
    const struct policy_ops *ops = policy_find(name);
    cr_assert_not_null(ops, "no policy %s", name);
    struct policy *p = ops->create(frames, 64, 1);
    cr_assert_not_null(p);
    int resident[64] = { 0 };
    unsigned f = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t pg = refs[i];
        if (resident[pg]) {
            ops->touch(p, pg);
            continue;
        }
        f++;
        if (ops->size(p) == frames) {
            uint64_t v;
            cr_assert_eq(ops->victim(p, &v), 0);
            cr_assert(resident[v], "%s evicted page %llu, which is not resident", name,
                      (unsigned long long)v);
            resident[v] = 0;
        }
        ops->admit(p, pg, 0);
        resident[pg] = 1;
        cr_assert_leq(ops->size(p), frames);
    }
    ops->destroy(p);
    return f;
}

/* The textbook string (Silberschatz et al.). */
static const uint64_t book[] = { 7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1 };
#define NBOOK (sizeof(book) / sizeof(book[0]))

Test(policy, fifo_textbook)
{
    cr_assert_eq(faults("fifo", book, NBOOK, 3), 15);
}

Test(policy, lru_textbook)
{
    cr_assert_eq(faults("lru", book, NBOOK, 3), 12);
}

/* CLOCK on the textbook string, 3 frames; a new page enters with its bit
 * set, just behind the hand (* = bit set, hand at the left):
 *  7 0 1 miss [7* 0* 1*]; 2 miss: clears all, evicts 7 [0 1 2*];
 *  0 hit [0* 1 2*]; 3 miss: evicts 1 [2* 0 3*]; 0 hit [2* 0* 3*];
 *  4 miss: evicts 2 [0 3 4*]; 2 miss: evicts 0 [3 4* 2*]; 3 hit;
 *  0 miss: evicts 3 [4 2 0*]; 3 miss: evicts 4 [2 0* 3*]; 2 hit;
 *  1 miss: evicts 2 [0 3 1*]; 2 miss: evicts 0 [3 1* 2*];
 *  0 miss: evicts 3 [1* 2* 0*]; 1 hit; 7 miss: evicts 1 [2 0 7*];
 *  0 hit; 1 miss: evicts 2 [0* 7* 1*]: 14 faults. */
Test(policy, clock_textbook)
{
    cr_assert_eq(faults("clock", book, NBOOK, 3), 14);
}

/* Belady's anomaly: FIFO takes more faults with more frames. */
Test(policy, fifo_belady_anomaly)
{
    static const uint64_t s[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
    cr_assert_eq(faults("fifo", s, 12, 3), 9);
    cr_assert_eq(faults("fifo", s, 12, 4), 10);
}

/* LRU is a stack algorithm: more frames never cost more faults. */
Test(policy, lru_stack_property)
{
    uint64_t refs[4000];
    uint64_t x = 12345;
    for (size_t i = 0; i < 4000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        refs[i] = (x % 5 == 0) ? x % 48 : x % 12; /* a hot dozen, a cold rest */
    }
    unsigned prev = ~0u;
    for (size_t fr = 1; fr <= 48; fr++) {
        unsigned f = faults("lru", refs, 4000, fr);
        cr_assert_leq(f, prev, "LRU: %u faults with %zu frames, %u with one fewer", f, fr, prev);
        prev = f;
    }
    cr_assert_eq(prev, 48, "with every page resident only cold misses remain");
}

/* Sparse page numbers (the live runtime's) go through the hash table. */
Test(policy, sparse_pages_and_forget)
{
    for (size_t k = 0; policy_list[k]; k++) {
        const struct policy_ops *ops = policy_list[k];
        struct policy *p = ops->create(100, 0, 1);
        cr_assert_not_null(p);
        for (uint64_t i = 0; i < 5000; i++)
            ops->admit(p, 0x7f0000000ull + i * 977, 0);
        cr_assert_eq(ops->size(p), 5000, "%s", ops->name);
        for (uint64_t i = 0; i < 5000; i += 2)
            ops->forget(p, 0x7f0000000ull + i * 977);
        ops->forget(p, 42); /* unknown: ignored */
        cr_assert_eq(ops->size(p), 2500, "%s", ops->name);
        uint64_t v;
        for (int i = 0; i < 2500; i++) {
            cr_assert_eq(ops->victim(p, &v), 0);
            cr_assert_eq((v - 0x7f0000000ull) / 977 % 2, 1, "%s: a forgotten page came back",
                         ops->name);
        }
        cr_assert_eq(ops->victim(p, &v), -1);
        ops->destroy(p);
    }
}

Test(policy, names)
{
    cr_assert_str_eq(policy_find(NULL)->name, "clock");
    cr_assert_null(policy_find("belady"));
    cr_assert_str_eq(prefetch_find(NULL)->name, "adaptive");
    cr_assert_null(prefetch_find("psychic"));
}

Test(prefetch, cluster_is_the_aligned_block)
{
    const struct prefetch_ops *o = prefetch_find("cluster");
    struct prefetcher *p = o->create(8);
    unsigned b, a;
    o->window(p, 17, &b, &a);
    cr_assert_eq(b, 1);
    cr_assert_eq(a, 6); /* 16..23 */
    o->window(p, 24, &b, &a);
    cr_assert_eq(b, 0);
    cr_assert_eq(a, 7);
    o->destroy(p);
}

Test(prefetch, adaptive_follows_runs_and_ignores_random)
{
    const struct prefetch_ops *o = prefetch_find("adaptive");
    struct prefetcher *p = o->create(16);
    unsigned b, a;
    o->window(p, 1000, &b, &a); /* a first miss: its page alone */
    cr_assert_eq(a + b, 0);
    unsigned last = 0;
    for (uint64_t pg = 1001; pg < 1100; pg += last + 1) {
        o->window(p, pg, &b, &a);
        cr_assert_eq(b, 0, "an ascending run reads ahead");
        cr_assert_geq(a, last, "the window does not shrink along a run");
        last = a;
    }
    cr_assert_eq(last, 15, "the window grows to N - 1 pages ahead");
    o->window(p, 500, &b, &a); /* far away: a new stream */
    cr_assert_eq(a + b, 0);
    o->window(p, 498, &b, &a); /* descending */
    cr_assert_gt(b, 0);
    cr_assert_eq(a, 0);
    o->destroy(p);
}
