/*
 * The simulator's compressed tier (sim_set_store, tools/sim.c): with room
 * in the frames and the store together for every page, each miss after a
 * page's first is served by the store, prefetching or not; a page read
 * ahead while in the store leaves it (never in both at once).
 */
#include "policy/policy.h"
#include "sim.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#define PAGES 1000
#define REFS 20000

/* Pages of a random string, half the references to an eighth of them. */
static void make_trace(struct sim_trace *st)
{
    struct trace t = { 0 };
    uint64_t seed = 11;
    for (size_t i = 0; i < REFS; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t r = seed >> 33;
        cr_assert_eq(trace_push(&t, r & 1 ? (r >> 1) % (PAGES / 8) : (r >> 1) % PAGES), 0);
    }
    cr_assert_eq(sim_prepare(st, &t), 0);
    trace_free(&t);
}

static void every_miss_from_the_store(const char *prefetch, unsigned n)
{
    struct sim_trace st;
    make_trace(&st);
    /* 200 frames for pages, 800 pages in 200 frames of store */
    sim_set_store(800, 4);
    const struct prefetch_ops *pf = prefetch ? prefetch_find(prefetch) : NULL;
    for (size_t i = 0; policy_list[i]; i++) {
        struct sim_result r;
        cr_assert_eq(sim_run(&st, policy_list[i], pf, n, 400, 1, &r), 0);
        cr_assert_eq(r.store_frames, 200);
        cr_assert_eq(r.faults - r.store_hits, st.distinct,
                     "%s%s%s: %llu misses left to disk, %zu distinct pages",
                     policy_list[i]->name, prefetch ? ", prefetch " : "",
                     prefetch ? prefetch : "",
                     (unsigned long long)(r.faults - r.store_hits), st.distinct);
    }
    sim_set_store(0, 1);
    sim_trace_free(&st);
}

Test(sim_store, room_for_all_serves_every_miss)
{
    every_miss_from_the_store(NULL, 0);
}

Test(sim_store, room_for_all_serves_every_miss_prefetching)
{
    every_miss_from_the_store("cluster", 4);
}

Test(sim_store, frames_of_a_store)
{
    cr_assert_eq(sim_store_frames(0, 2), 0);
    cr_assert_eq(sim_store_frames(800, 4), 200);
    cr_assert_eq(sim_store_frames(801, 4), 201);
    cr_assert_eq(sim_store_frames(5, 2.5), 2);
    size_t m;
    double r;
    cr_assert_eq(sim_parse_store("512", &m, &r), 0);
    cr_assert(m == 512 && r == 2.0);
    cr_assert_eq(sim_parse_store("512:1.5", &m, &r), 0);
    cr_assert(m == 512 && r == 1.5);
    const char *bad[] = { "", "x", "-1", "512:", "512:0.5", "512:65", "512:2x", " 5" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(sim_parse_store(bad[i], &m, &r), -1, "'%s' accepted", bad[i]);
}
