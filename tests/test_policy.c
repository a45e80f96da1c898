/*
 * test_policy.c -- replacement policies, OPT and prefetchers, on small
 * traces whose fault counts are known by hand, and on random traces
 * against properties every correct implementation has.
 */
#include "policy/pagemap.h"
#include "policy/policy.h"
#include "sim.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static const uint64_t textbook[] = {7, 0, 1, 2, 0, 3, 0, 4, 2, 3,
                                    0, 3, 2, 1, 2, 0, 1, 7, 0, 1};
static const uint64_t belady[] = {1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5};
#define LEN(a) (sizeof(a) / sizeof(a)[0])

static void make_sim(struct sim_trace *st, const uint64_t *pages, size_t n)
{
    struct trace t = {0};
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(trace_push(&t, pages[i]), 0);
    cr_assert_eq(sim_prepare(st, &t), 0);
    trace_free(&t);
}

static uint64_t faults_of(const char *policy, const uint64_t *pages, size_t n,
                          size_t frames)
{
    struct sim_trace st;
    struct sim_result r;
    make_sim(&st, pages, n);
    if (!strcmp(policy, "opt")) {
        cr_assert_eq(sim_opt(&st, frames, &r), 0);
    } else {
        const struct policy_ops *ops = policy_find(policy);
        cr_assert_not_null(ops, "policy %s", policy);
        cr_assert_eq(sim_run(&st, ops, NULL, 0, frames, 1, &r), 0);
    }
    cr_assert_eq(r.refs, n);
    sim_trace_free(&st);
    return r.faults;
}

static uint64_t *random_trace(size_t n, uint64_t pages, uint64_t seed, int skewed)
{
    uint64_t *t = malloc(n * sizeof *t);
    cr_assert_not_null(t);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t r = seed >> 33;
        /* skewed: half the references go to an eighth of the pages */
        t[i] = skewed && (r & 1) ? (r >> 1) % (pages / 8 + 1) : (r >> 1) % pages;
    }
    return t;
}

Test(textbook, fifo_lru_opt_counts)
{
    cr_expect_eq(faults_of("fifo", textbook, LEN(textbook), 3), 15);
    cr_expect_eq(faults_of("lru", textbook, LEN(textbook), 3), 12);
    cr_expect_eq(faults_of("opt", textbook, LEN(textbook), 3), 9);
}

/* Hand-checked.  CLOCK: admitted pages start referenced, so the hand
 * clears a full turn before the first eviction (7); then 1, 2, 0, 3, 4, 2,
 * 0, 3, 1, 2 go, 14 faults in all.  SIEVE: new pages start unvisited and
 * the hand stays where it evicted: 7, 1, 2, 3, 4, 2, 3, 2 are evicted, 11
 * faults.  AGING (3 frames: every victim search scans; admitted pages
 * start at 0x80): 7, 1, 2, 3, 4, 0, 1, 3, 0, 2 are evicted, 13 faults.
 * S3-FIFO (small queue of 1): 7, 1, 2 leave S as ghosts, 0 moves to M;
 * 2 and 3 come back from the ghosts into M; later 2 and 3 leave M once
 * their counts are spent: 11 faults. */
Test(textbook, clock_sieve_aging_counts)
{
    cr_expect_eq(faults_of("clock", textbook, LEN(textbook), 3), 14);
    cr_expect_eq(faults_of("sieve", textbook, LEN(textbook), 3), 11);
    cr_expect_eq(faults_of("aging", textbook, LEN(textbook), 3), 13);
    cr_expect_eq(faults_of("s3fifo", textbook, LEN(textbook), 3), 11);
}

Test(textbook, every_policy_faults_once_per_page_with_room)
{
    for (size_t i = 0; policy_list[i]; i++)
        cr_expect_eq(faults_of(policy_list[i]->name, textbook, LEN(textbook), 6), 6,
                     "%s", policy_list[i]->name);
}

Test(belady, fifo_anomaly)
{
    cr_expect_eq(faults_of("fifo", belady, LEN(belady), 3), 9);
    cr_expect_eq(faults_of("fifo", belady, LEN(belady), 4), 10);
    /* LRU is a stack algorithm: no anomaly */
    cr_expect_eq(faults_of("lru", belady, LEN(belady), 3), 10);
    cr_expect_eq(faults_of("lru", belady, LEN(belady), 4), 8);
}

/* LRU's stack property: at every point of a random trace, the resident set
 * with n frames is a subset of the one with n+1 frames, so faults do not
 * grow with frames. */
Test(lru, stack_property)
{
    enum { PAGES = 40, REFS = 3000, MAXF = PAGES + 1 };
    uint64_t *t = random_trace(REFS, PAGES, 42, 1);
    const struct policy_ops *lru = policy_find("lru");
    struct policy *p[MAXF + 1];
    static uint8_t resident[MAXF + 1][PAGES];
    uint64_t faults[MAXF + 1] = {0};
    memset(resident, 0, sizeof resident);
    for (size_t f = 1; f <= MAXF; f++)
        cr_assert_not_null(p[f] = lru->create(f, PAGES, 0, &sim_alloc));
    for (size_t i = 0; i < REFS; i++) {
        for (size_t f = 1; f <= MAXF; f++) {
            uint64_t x = t[i];
            if (resident[f][x]) {
                lru->touch(p[f], x);
                continue;
            }
            faults[f]++;
            if (lru->size(p[f]) == f) {
                policy_page v;
                cr_assert_eq(lru->victim(p[f], &v), 0);
                cr_assert(resident[f][v]);
                resident[f][v] = 0;
            }
            lru->admit(p[f], x, 0);
            resident[f][x] = 1;
            cr_assert_leq(lru->size(p[f]), f);
        }
        for (size_t f = 1; f < MAXF; f++)
            for (size_t x = 0; x < PAGES; x++)
                cr_assert(!resident[f][x] || resident[f + 1][x],
                          "ref %zu: page %zu resident with %zu frames, not %zu", i, x, f,
                          f + 1);
    }
    for (size_t f = 1; f < MAXF; f++)
        cr_expect_geq(faults[f], faults[f + 1], "faults at %zu frames", f);
    cr_expect_eq(faults[MAXF], PAGES);
    for (size_t f = 1; f <= MAXF; f++)
        lru->destroy(p[f]);
    free(t);
}

Test(opt, never_above_any_policy)
{
    static const size_t frames[] = {1, 2, 5, 10, 25, 60, 100};
    for (int skewed = 0; skewed <= 1; skewed++) {
        uint64_t *t = random_trace(5000, 120, 7 + (uint64_t)skewed, skewed);
        struct sim_trace st;
        make_sim(&st, t, 5000);
        for (size_t k = 0; k < LEN(frames); k++) {
            struct sim_result opt, r;
            cr_assert_eq(sim_opt(&st, frames[k], &opt), 0);
            for (size_t i = 0; policy_list[i]; i++) {
                cr_assert_eq(sim_run(&st, policy_list[i], NULL, 0, frames[k], 3, &r), 0);
                cr_expect_leq(opt.faults, r.faults, "opt %llu > %s %llu at %zu frames",
                              (unsigned long long)opt.faults, policy_list[i]->name,
                              (unsigned long long)r.faults, frames[k]);
            }
        }
        sim_trace_free(&st);
        free(t);
    }
}

/* Driving a policy by hand, dense or through the page map, must choose the
 * same victims: the sparse pages are the dense ones spread far apart. */
static void replay_victims(const struct policy_ops *ops, const uint64_t *t, size_t n,
                           size_t frames, size_t universe, uint64_t scale, uint64_t *victims,
                           size_t *nvictims)
{
    struct policy *p = ops->create(frames, universe, 5, &sim_alloc);
    cr_assert_not_null(p);
    uint8_t resident[256] = {0};
    *nvictims = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = t[i];
        if (resident[x]) {
            ops->touch(p, x * scale);
            continue;
        }
        if (ops->size(p) == frames) {
            policy_page v;
            cr_assert_eq(ops->victim(p, &v), 0);
            cr_assert_eq(v % scale, 0);
            v /= scale;
            cr_assert(v < 256 && resident[v], "%s evicted %llu, not resident", ops->name,
                      (unsigned long long)v);
            resident[v] = 0;
            victims[(*nvictims)++] = v;
        }
        ops->admit(p, x * scale, 0);
        resident[x] = 1;
        size_t count = 0;
        for (int k = 0; k < 256; k++)
            count += resident[k];
        cr_assert_eq(ops->size(p), count, "%s size", ops->name);
    }
    ops->destroy(p);
}

Test(policies, sparse_pages_behave_as_dense)
{
    enum { N = 4000 };
    uint64_t *t = random_trace(N, 200, 99, 1);
    static uint64_t vd[N], vs[N];
    for (size_t i = 0; policy_list[i]; i++) {
        size_t nd, ns;
        replay_victims(policy_list[i], t, N, 37, 200, 1, vd, &nd);
        replay_victims(policy_list[i], t, N, 37, 0, 0x10000001ull, vs, &ns);
        cr_assert_eq(nd, ns, "%s", policy_list[i]->name);
        cr_assert_arr_eq(vd, vs, nd * sizeof *vd, "%s", policy_list[i]->name);
    }
    free(t);
}

Test(policies, forget_and_empty)
{
    for (size_t i = 0; policy_list[i]; i++) {
        const struct policy_ops *ops = policy_list[i];
        for (int dense = 0; dense <= 1; dense++) {
            struct policy *p = ops->create(4, dense ? 16 : 0, 1, &sim_alloc);
            policy_page v;
            cr_assert_eq(ops->victim(p, &v), -1, "%s empty", ops->name);
            ops->admit(p, 1, 0);
            ops->admit(p, 2, 0);
            ops->admit(p, 3, POLICY_PREFETCHED);
            ops->forget(p, 2);
            ops->forget(p, 9); /* unknown: ignored */
            cr_assert_eq(ops->size(p), 2, "%s", ops->name);
            int seen1 = 0, seen3 = 0;
            while (ops->victim(p, &v) == 0) {
                cr_assert(v == 1 || v == 3, "%s evicted %llu", ops->name,
                          (unsigned long long)v);
                seen1 += v == 1;
                seen3 += v == 3;
            }
            cr_assert(seen1 == 1 && seen3 == 1, "%s", ops->name);
            cr_assert_eq(ops->size(p), 0);
            ops->destroy(p);
        }
    }
}

/* Readmitting evicted pages: ARC finds them as ghosts (B1, then B2 after a
 * hit), and every policy must take them back as new residents. */
Test(policies, readmit_evicted_pages)
{
    for (size_t i = 0; policy_list[i]; i++) {
        const struct policy_ops *ops = policy_list[i];
        struct policy *p = ops->create(3, 0, 1, &sim_alloc);
        for (policy_page x = 0; x < 3; x++)
            ops->admit(p, x, 0);
        ops->touch(p, 0);
        policy_page v[3];
        for (int k = 0; k < 3; k++)
            cr_assert_eq(ops->victim(p, &v[k]), 0);
        for (int k = 0; k < 3; k++)
            ops->admit(p, v[k], 0);
        cr_assert_eq(ops->size(p), 3, "%s", ops->name);
        int got[3] = {0};
        for (int k = 0; k < 3; k++) {
            policy_page w;
            cr_assert_eq(ops->victim(p, &w), 0, "%s", ops->name);
            cr_assert(w < 3 && !got[w], "%s: %llu twice or unknown", ops->name,
                      (unsigned long long)w);
            got[w] = 1;
        }
        ops->destroy(p);
    }
}

Test(arc, ghost_hit_promotes_to_frequent)
{
    const struct policy_ops *arc = policy_find("arc");
    struct policy *p = arc->create(3, 0, 0, &sim_alloc);
    policy_page v;
    arc->admit(p, 1, 0);
    arc->admit(p, 2, 0);
    arc->admit(p, 3, 0);
    arc->touch(p, 3); /* T1 = [1, 2], T2 = [3] */
    cr_assert_eq(arc->victim(p, &v), 0);
    cr_assert_eq(v, 1); /* T1's least recent, now a B1 ghost */
    arc->admit(p, 1, 0);
    /* the ghost hit put 1 in T2 and raised p to 1, so |T1| = 1 is not
     * above target and T2 gives the next victims: 3, then 1; as a plain
     * new page in T1, 1 would have gone before 3 */
    cr_assert_eq(arc->victim(p, &v), 0);
    cr_assert_eq(v, 3);
    cr_assert_eq(arc->victim(p, &v), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(arc->victim(p, &v), 0);
    cr_assert_eq(v, 2);
    cr_assert_eq(arc->victim(p, &v), -1);
    arc->destroy(p);
}

/* A page referenced while in the small queue moves to the main queue;
 * pages referenced once leave first, even the newer ones. */
Test(s3fifo, one_hit_pages_leave_first)
{
    const struct policy_ops *s3 = policy_find("s3fifo");
    struct policy *p = s3->create(10, 0, 0, &sim_alloc); /* small queue: 1 page */
    policy_page v;
    for (policy_page x = 1; x <= 10; x++)
        s3->admit(p, x, 0);
    s3->touch(p, 1);
    s3->touch(p, 2);
    cr_assert_eq(s3->victim(p, &v), 0);
    cr_assert_eq(v, 3); /* 1 and 2 went to the main queue */
    s3->admit(p, 3, 0);  /* a ghost: straight to the main queue */
    for (policy_page want = 4; want <= 10; want++) {
        cr_assert_eq(s3->victim(p, &v), 0);
        cr_assert_eq(v, want);
    }
    cr_assert_eq(s3->size(p), 3);
    s3->destroy(p);
}

Test(aging, referenced_page_outlives_unreferenced)
{
    const struct policy_ops *aging = policy_find("aging");
    struct policy *p = aging->create(3, 0, 0, &sim_alloc);
    policy_page v;
    aging->admit(p, 10, 0);
    aging->admit(p, 11, 0);
    aging->admit(p, 12, 0);
    aging->touch(p, 10);
    cr_assert_eq(aging->victim(p, &v), 0);
    cr_assert_eq(v, 11);
    aging->admit(p, 13, POLICY_PREFETCHED); /* prefetched: oldest of all */
    cr_assert_eq(aging->victim(p, &v), 0);
    cr_assert_eq(v, 13);
    aging->destroy(p);
}

Test(random, seeded_and_repeatable)
{
    const struct policy_ops *rnd = policy_find("random");
    policy_page a[64], b[64], c[64];
    policy_page *out[3] = {a, b, c};
    uint64_t seeds[3] = {1, 1, 2};
    for (int r = 0; r < 3; r++) {
        struct policy *p = rnd->create(64, 64, seeds[r], &sim_alloc);
        for (policy_page x = 0; x < 64; x++)
            rnd->admit(p, x, 0);
        for (int k = 0; k < 64; k++)
            cr_assert_eq(rnd->victim(p, &out[r][k]), 0);
        rnd->destroy(p);
    }
    cr_assert_arr_eq(a, b, sizeof a);
    cr_assert(memcmp(a, c, sizeof a) != 0);
}

Test(registry, defaults_and_names)
{
    cr_assert_str_eq(policy_find(NULL)->name, "clock");
    cr_assert_str_eq(prefetch_find(NULL)->name, "cluster");
    cr_assert_null(policy_find("nope"));
    cr_assert_null(prefetch_find("nope"));
    cr_assert_str_eq(prefetch_find("adaptive:16")->name, "adaptive");
    static const char *const want[] = {"fifo",  "clock", "aging", "random",
                                       "lru",   "arc",   "sieve", "s3fifo"};
    for (size_t i = 0; i < LEN(want); i++)
        cr_assert_not_null(policy_find(want[i]), "%s", want[i]);
}

Test(pagemap, matches_a_plain_array)
{
    struct pagemap m;
    cr_assert_eq(pagemap_init(&m, 4, &sim_alloc), 0);
    enum { KEYS = 3000 };
    static uint32_t ref[KEYS];
    memset(ref, 0xff, sizeof ref);
    uint64_t s = 3;
    for (int i = 0; i < 200000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t k = (s >> 33) % KEYS;
        uint64_t key = k * 0x1000 + 0x7f0000000000ull; /* colliding-prone spacing */
        if ((s >> 20) & 1) {
            cr_assert_eq(pagemap_put(&m, key, (uint32_t)i), 0);
            ref[k] = (uint32_t)i;
        } else {
            pagemap_del(&m, key);
            ref[k] = PAGEMAP_NONE;
        }
        if (i % 997 == 0)
            for (uint64_t j = 0; j < KEYS; j++)
                cr_assert_eq(pagemap_get(&m, j * 0x1000 + 0x7f0000000000ull), ref[j]);
    }
    pagemap_fini(&m);
}

Test(prefetch, cluster_is_the_aligned_block)
{
    const struct prefetch_ops *c = prefetch_find("cluster");
    struct prefetcher *pf = c->create(0, &sim_alloc); /* default 8 */
    unsigned b, a;
    c->window(pf, 13, &b, &a);
    cr_expect(b == 5 && a == 2, "13: %u behind %u ahead", b, a);
    c->window(pf, 16, &b, &a);
    cr_expect(b == 0 && a == 7);
    c->destroy(pf);
    pf = c->create(16, &sim_alloc);
    c->window(pf, 0x12345, &b, &a);
    cr_expect(b == 5 && a == 10);
    c->destroy(pf);
}

Test(prefetch, adaptive_grows_on_a_run_and_shrinks_when_unused)
{
    const struct prefetch_ops *ad = prefetch_find("adaptive");
    struct prefetcher *pf = ad->create(32, &sim_alloc);
    unsigned b, a, prev = 0;
    policy_page page = 1000;
    ad->window(pf, page, &b, &a);
    cr_expect_eq(a, 0); /* one miss is no run */
    for (int k = 0; k < 6; k++) {
        page += a + 1; /* the next miss falls just past the window */
        ad->window(pf, page, &b, &a);
        cr_expect_eq(b, 0);
        cr_expect(a >= prev && a > 0, "step %d: ahead %u after %u", k, a, prev);
        prev = a;
    }
    cr_expect_eq(a, 32); /* capped at N */
    for (int k = 0; k < 64; k++)
        ad->feedback(pf, 0);
    page += a + 1;
    ad->window(pf, page, &b, &a);
    cr_expect_lt(a, 32, "unused prefetches shrink the window: %u", a);
    /* a backward run prefetches behind */
    ad->window(pf, 500, &b, &a);
    ad->window(pf, 499, &b, &a);
    cr_expect(b > 0 && a == 0, "backward: %u behind %u ahead", b, a);
    ad->destroy(pf);
}

Test(prefetch, adaptive_follows_a_stride)
{
    const struct prefetch_ops *ad = prefetch_find("adaptive");
    struct prefetcher *pf = ad->create(64, &sim_alloc);
    unsigned b, a;
    ad->window(pf, 100, &b, &a);
    ad->window(pf, 104, &b, &a);
    ad->window(pf, 108, &b, &a);
    cr_expect(a >= 4, "stride 4: ahead %u", a);
    ad->window(pf, 5000, &b, &a); /* a jump: no run */
    cr_expect(a == 0 && b == 0);
    ad->destroy(pf);
}

/* Pages 0..63 twice with 16 frames: the first pass has nothing seen to
 * prefetch; in the second, each aligned block of 8 faults once. */
Test(prefetch, simulator_brings_in_seen_pages)
{
    uint64_t t[128];
    for (int i = 0; i < 128; i++)
        t[i] = (uint64_t)(i % 64);
    struct sim_trace st;
    make_sim(&st, t, 128);
    struct sim_result r;
    cr_assert_eq(sim_run(&st, policy_find("fifo"), prefetch_find("cluster"), 8, 16, 1, &r), 0);
    cr_expect_eq(r.faults, 64 + 8);
    cr_expect_eq(r.prefetched, 56);
    cr_expect_eq(r.pf_used, 56);
    cr_expect_eq(r.pf_unused, 0);
    cr_assert_eq(sim_run(&st, policy_find("fifo"), NULL, 0, 16, 1, &r), 0);
    cr_expect_eq(r.faults, 128);
    sim_trace_free(&st);
}

/* Live, pages may be admitted past the frame count (the cap is soft while
 * the trimmer catches up) and forgotten at random: structures grow, and
 * every resident page is still evicted exactly once. */
Test(policies, grow_past_frames_and_forget)
{
    enum { PAGES = 3000 };
    for (size_t i = 0; policy_list[i]; i++) {
        const struct policy_ops *ops = policy_list[i];
        struct policy *p = ops->create(4, 0, 1, &sim_alloc);
        static uint8_t resident[PAGES];
        memset(resident, 0, sizeof resident);
        size_t n = 0;
        for (policy_page x = 0; x < PAGES; x++) {
            ops->admit(p, x * 7 + 0x100000, x % 5 ? 0 : POLICY_PREFETCHED);
            resident[x] = 1;
            n++;
            if (x % 3 == 0)
                ops->touch(p, (x / 2) * 7 + 0x100000);
            if (x % 11 == 10) {
                ops->forget(p, (x - 4) * 7 + 0x100000);
                n -= resident[x - 4];
                resident[x - 4] = 0;
            }
        }
        cr_assert_eq(ops->size(p), n, "%s: size %zu, want %zu", ops->name, ops->size(p), n);
        policy_page v;
        while (ops->victim(p, &v) == 0) {
            cr_assert_eq((v - 0x100000) % 7, 0, "%s", ops->name);
            policy_page x = (v - 0x100000) / 7;
            cr_assert(x < PAGES && resident[x], "%s evicted %llu twice or never admitted",
                      ops->name, (unsigned long long)x);
            resident[x] = 0;
            n--;
        }
        cr_assert_eq(n, 0, "%s kept %zu pages", ops->name, n);
        ops->destroy(p);
    }
}

/* The readahead gate: open without evidence or while most is used, then
 * later and shorter as the share used falls. */
Test(readahead_gate, follows_the_share_used)
{
    struct ra_gate g = ra_gate(1024, 32, 0, 200); /* too little to judge */
    cr_assert_eq(g.confirm, 2);
    cr_assert_eq(g.ahead, 1024);
    g = ra_gate(1024, 32, 300, 300); /* half used */
    cr_assert_eq(g.confirm, 2);
    cr_assert_eq(g.ahead, 1024);
    g = ra_gate(1024, 32, 100, 299); /* a quarter */
    cr_assert_eq(g.confirm, 4);
    cr_assert_eq(g.ahead, 256);
    g = ra_gate(1024, 32, 99, 301); /* under a quarter */
    cr_assert_eq(g.confirm, 8);
    cr_assert_eq(g.ahead, 32);
    g = ra_gate(100, 32, 0, 1000); /* a quarter of a small limit: one window */
    cr_assert_eq(g.ahead, 32);
    g = ra_gate(16, 32, 0, 1000); /* never beyond the limit */
    cr_assert_eq(g.ahead, 16);
    g = ra_gate(40, 32, 100, 300);
    cr_assert_eq(g.ahead, 32);
}
