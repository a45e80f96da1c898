/* sim.c -- trace renumbering and the replay loop (see sim.h). */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The policies' memory in the simulator: the C heap. */
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

const struct policy_alloc sim_alloc = { .alloc = heap_alloc, .free = heap_free };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Page numbers below a few times the trace length: a direct table gives
 * ranks in order without sorting. */
static int prepare_small(struct sim_trace *st, const struct trace *t, uint64_t max)
{
    size_t span = (size_t)max + 1;
    uint32_t *rank = calloc(span, sizeof *rank);
    if (!rank)
        return -1;
    for (size_t i = 0; i < t->n; i++)
        rank[t->page[i]] = 1;
    size_t distinct = 0;
    for (size_t p = 0; p < span; p++)
        distinct += rank[p];
    st->distinct = distinct;
    if (span <= 2 * distinct + 1024) { /* dense enough: keep the numbers */
        st->universe = span;
        for (size_t i = 0; i < t->n; i++)
            st->ref[i] = (uint32_t)t->page[i];
        free(rank);
        return 0;
    }
    st->orig = malloc(distinct * sizeof *st->orig);
    if (!st->orig) {
        free(rank);
        return -1;
    }
    uint32_t r = 0;
    for (size_t p = 0; p < span; p++)
        if (rank[p]) {
            st->orig[r] = p;
            rank[p] = r++;
        }
    for (size_t i = 0; i < t->n; i++)
        st->ref[i] = rank[t->page[i]];
    st->universe = distinct;
    free(rank);
    return 0;
}

/* ---- ranks of sparse page numbers: open addressing, linear probing ------ */
#define RANK_NONE UINT32_MAX
#define EMPTY_KEY UINT64_MAX /* a page of its own (rank_get) */

struct rankmap {
    uint64_t *keys;
    uint32_t *vals;
    size_t mask; /* slots - 1; slots is a power of two */
    size_t used;
};

static size_t slot_of(const struct rankmap *m, uint64_t key)
{
    /* Fibonacci hashing: neighbouring pages land far apart. */
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
}

static int rankmap_init(struct rankmap *m, size_t slots)
{
    m->keys = malloc(slots * sizeof *m->keys);
    m->vals = malloc(slots * sizeof *m->vals);
    if (!m->keys || !m->vals) {
        free(m->keys);
        free(m->vals);
        return -1;
    }
    memset(m->keys, 0xff, slots * sizeof *m->keys);
    m->mask = slots - 1;
    m->used = 0;
    return 0;
}

static void rankmap_fini(struct rankmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static uint32_t rankmap_get(const struct rankmap *m, uint64_t key)
{
    for (size_t i = slot_of(m, key);; i = (i + 1) & m->mask) {
        if (m->keys[i] == key)
            return m->vals[i];
        if (m->keys[i] == EMPTY_KEY)
            return RANK_NONE;
    }
}

/* inserts or replaces; 0, or -1 if out of memory */
static int rankmap_put(struct rankmap *m, uint64_t key, uint32_t val)
{
    size_t i = slot_of(m, key);
    for (; m->keys[i] != EMPTY_KEY; i = (i + 1) & m->mask)
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return 0;
        }
    /* keep the load under 1/2 so probe runs stay short */
    if ((m->used + 1) * 2 > m->mask + 1) {
        struct rankmap old = *m;
        if (rankmap_init(m, (old.mask + 1) * 2) < 0) {
            *m = old;
            return -1;
        }
        for (size_t j = 0; j <= old.mask; j++)
            if (old.keys[j] != EMPTY_KEY) {
                size_t k = slot_of(m, old.keys[j]);
                while (m->keys[k] != EMPTY_KEY)
                    k = (k + 1) & m->mask;
                m->keys[k] = old.keys[j];
                m->vals[k] = old.vals[j];
                m->used++;
            }
        rankmap_fini(&old);
        i = slot_of(m, key);
        while (m->keys[i] != EMPTY_KEY)
            i = (i + 1) & m->mask;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->used++;
    return 0;
}

/* The map cannot hold UINT64_MAX (its empty-slot marker): that page gets a
 * variable of its own. */
static uint32_t rank_get(const struct rankmap *map, uint32_t max_rank, uint64_t page)
{
    return page == UINT64_MAX ? max_rank : rankmap_get(map, page);
}

/* Sparse page numbers (virtual addresses): hash, sort the distinct pages,
 * rank them. */
static int prepare_sparse(struct sim_trace *st, const struct trace *t)
{
    struct rankmap map;
    if (rankmap_init(&map, 2048) < 0)
        return -1;
    size_t distinct = 0, cap = 1024;
    uint64_t *pages = malloc(cap * sizeof *pages);
    uint32_t max_rank = RANK_NONE;
    int rc = -1;
    if (!pages)
        goto out;
    for (size_t i = 0; i < t->n; i++) {
        if (rank_get(&map, max_rank, t->page[i]) != RANK_NONE)
            continue;
        if (distinct == UINT32_MAX - 1)
            goto out;
        if (distinct == cap) {
            uint64_t *p = realloc(pages, 2 * cap * sizeof *p);
            if (!p)
                goto out;
            pages = p;
            cap *= 2;
        }
        if (t->page[i] == UINT64_MAX)
            max_rank = 0;
        else if (rankmap_put(&map, t->page[i], 0) < 0)
            goto out;
        pages[distinct++] = t->page[i];
    }
    qsort(pages, distinct, sizeof *pages, cmp_u64);
    for (size_t r = 0; r < distinct; r++) {
        if (pages[r] == UINT64_MAX)
            max_rank = (uint32_t)r;
        else
            rankmap_put(&map, pages[r], (uint32_t)r); /* replaces: no allocation */
    }
    for (size_t i = 0; i < t->n; i++)
        st->ref[i] = rank_get(&map, max_rank, t->page[i]);
    st->orig = pages;
    pages = NULL;
    st->universe = st->distinct = distinct;
    rc = 0;
out:
    free(pages);
    rankmap_fini(&map);
    return rc;
}

int sim_prepare(struct sim_trace *st, const struct trace *t)
{
    memset(st, 0, sizeof *st);
    st->n = t->n;
    st->ref = malloc((t->n ? t->n : 1) * sizeof *st->ref);
    if (!st->ref)
        return -1;
    uint64_t max = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->page[i] > max)
            max = t->page[i];
    int rc = max < UINT32_MAX - 1 && max <= 4 * (uint64_t)t->n + 65536
                 ? prepare_small(st, t, max)
                 : prepare_sparse(st, t);
    if (rc < 0)
        sim_trace_free(st);
    return rc;
}

void sim_trace_free(struct sim_trace *st)
{
    free(st->ref);
    free(st->orig);
    memset(st, 0, sizeof *st);
}

enum { RESIDENT = 1, SEEN = 2, PREFETCHED = 4, STORED = 8 };

/* The compressed tier (sim_set_store): a FIFO of pages, linked by rank. */
static size_t store_pages;
static double store_ratio = 1;

void sim_set_store(size_t pages, double ratio)
{
    store_pages = pages;
    store_ratio = ratio > 0 ? ratio : 1;
}

size_t sim_store_frames(size_t pages, double ratio)
{
    return pages ? (size_t)((double)pages / (ratio > 0 ? ratio : 1) + 0.999999) : 0;
}

int sim_parse_store(const char *spec, size_t *pages, double *ratio)
{
    char *end;
    errno = 0;
    unsigned long long m = strtoull(spec, &end, 10);
    double r = 2.0;
    if (!errno && *end == ':') {
        char *e2;
        r = strtod(end + 1, &e2);
        end = r >= 1 && r <= 64 ? e2 : end;
    }
    if (errno || *end || *spec < '0' || *spec > '9' || m > SIZE_MAX) {
        errno = EINVAL;
        return -1;
    }
    *pages = (size_t)m;
    *ratio = r;
    return 0;
}

struct store_fifo {
    uint32_t *prev, *next; /* by rank; universe = none */
    uint32_t head, tail;   /* oldest, newest */
    size_t count;
};

struct replay {
    const struct sim_trace *st;
    const struct policy_ops *ops;
    struct policy *pol;
    const struct prefetch_ops *pf;
    struct prefetcher *pfr;
    uint8_t *state;
    size_t frames;
    struct sim_result *res;
    struct store_fifo sf;
};

static void store_unlink(struct replay *r, uint32_t x)
{
    struct store_fifo *f = &r->sf;
    uint32_t none = (uint32_t)r->st->universe;
    if (f->prev[x] != none)
        f->next[f->prev[x]] = f->next[x];
    else
        f->head = f->next[x];
    if (f->next[x] != none)
        f->prev[f->next[x]] = f->prev[x];
    else
        f->tail = f->prev[x];
    f->count--;
    r->state[x] &= (uint8_t)~STORED;
}

/* A page evicted from the frames enters the store; its oldest leaves. */
static void store_put_page(struct replay *r, uint32_t x)
{
    struct store_fifo *f = &r->sf;
    uint32_t none = (uint32_t)r->st->universe;
    if (!store_pages)
        return;
    if (f->count == store_pages)
        store_unlink(r, f->head);
    f->prev[x] = f->tail;
    f->next[x] = none;
    if (f->tail != none)
        f->next[f->tail] = x;
    else
        f->head = x;
    f->tail = x;
    f->count++;
    r->state[x] |= STORED;
}

static uint64_t orig_of(const struct sim_trace *st, size_t rank)
{
    return st->orig ? st->orig[rank] : rank;
}

/* Makes room for one page: evicts the policy's victim. */
static void make_room(struct replay *r)
{
    if (r->ops->size(r->pol) < r->frames)
        return;
    policy_page v;
    if (r->ops->victim(r->pol, &v) < 0)
        return;
    uint8_t s = r->state[v];
    if (s & PREFETCHED) {
        r->res->pf_unused++;
        r->pf->feedback(r->pfr, 0);
    }
    r->state[v] = (uint8_t)(s & ~(RESIDENT | PREFETCHED));
    store_put_page(r, (uint32_t)v);
}

static void bring_in(struct replay *r, size_t rank)
{
    if ((r->state[rank] & (SEEN | RESIDENT)) != SEEN)
        return;
    if (r->state[rank] & STORED)
        store_unlink(r, (uint32_t)rank); /* read ahead from the store */
    make_room(r);
    r->ops->admit(r->pol, rank, POLICY_PREFETCHED);
    r->state[rank] |= RESIDENT | PREFETCHED;
    r->res->prefetched++;
}

/* The window is in original page numbers; ranks are in the same order, so
 * the pages of the trace inside it are a run of ranks around the miss. */
static void prefetch_around(struct replay *r, size_t x)
{
    unsigned behind, ahead;
    uint64_t p = orig_of(r->st, x);
    r->pf->window(r->pfr, p, &behind, &ahead);
    size_t budget = r->frames > 1 ? r->frames - 1 : 0;
    for (size_t k = x; k-- > 0 && budget;) {
        if (p - orig_of(r->st, k) > behind)
            break;
        bring_in(r, k);
        budget--;
    }
    for (size_t k = x + 1; k < r->st->universe && budget; k++) {
        if (orig_of(r->st, k) - p > ahead)
            break;
        bring_in(r, k);
        budget--;
    }
}

int sim_run(const struct sim_trace *st, const struct policy_ops *ops,
            const struct prefetch_ops *pf, unsigned pf_n, size_t frames, uint64_t seed,
            struct sim_result *res)
{
    memset(res, 0, sizeof *res);
    res->policy = ops->name;
    res->frames = frames;
    res->refs = st->n;
    if (store_pages) {
        /* the store's RAM comes out of the frames */
        res->store_frames = sim_store_frames(store_pages, store_ratio);
        frames = frames > res->store_frames ? frames - res->store_frames : 1;
    }
    if (!frames)
        frames = 1;
    struct replay r = {.st = st, .ops = ops, .pf = pf, .frames = frames, .res = res};
    if (store_pages) {
        size_t u = st->universe ? st->universe : 1;
        r.sf.prev = malloc(u * sizeof(uint32_t));
        r.sf.next = malloc(u * sizeof(uint32_t));
        r.sf.head = r.sf.tail = (uint32_t)st->universe;
        if (!r.sf.prev || !r.sf.next) {
            free(r.sf.prev);
            free(r.sf.next);
            errno = ENOMEM;
            return -1;
        }
    }
    r.state = calloc(st->universe ? st->universe : 1, 1);
    /* more frames than pages: nothing is ever evicted, so the policy need
     * not size itself for them */
    size_t sized = frames < st->universe ? frames : (st->universe ? st->universe : 1);
    r.pol = ops->create(sized, st->universe, seed, &sim_alloc);
    if (pf)
        r.pfr = pf->create(pf_n, &sim_alloc);
    if (!r.state || !r.pol || (pf && !r.pfr)) {
        free(r.state);
        if (r.pol)
            ops->destroy(r.pol);
        if (r.pfr)
            pf->destroy(r.pfr);
        errno = ENOMEM;
        return -1;
    }
    double t0 = now();
    uint8_t *state = r.state;
    struct policy *pol = r.pol;
    void (*touch)(struct policy *, policy_page) = ops->touch;
    uint64_t faults = 0;
    for (size_t i = 0; i < st->n; i++) {
        uint32_t x = st->ref[i];
        uint8_t s = state[x];
        if (s & RESIDENT) {
            if (s & PREFETCHED) {
                state[x] = (uint8_t)(s & ~PREFETCHED);
                res->pf_used++;
                pf->feedback(r.pfr, 1);
            }
            touch(pol, x);
            continue;
        }
        faults++;
        if (s & STORED) {
            store_unlink(&r, x); /* served from the store: no disk */
            res->store_hits++;
        }
        make_room(&r);
        ops->admit(pol, x, 0);
        state[x] = RESIDENT | SEEN;
        if (pf)
            prefetch_around(&r, x);
    }
    res->faults = faults;
    res->seconds = now() - t0;
    free(r.sf.prev);
    free(r.sf.next);
    ops->destroy(r.pol);
    if (pf)
        pf->destroy(r.pfr);
    free(r.state);
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_size(const char *s, const char *end, size_t *v)
{
    if (s == end || *s < '0' || *s > '9')
        return -1;
    size_t x = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9' || x > (SIZE_MAX - 9) / 10)
            return -1;
        x = x * 10 + (size_t)(*s - '0');
    }
    *v = x;
    return 0;
}

size_t sim_parse_frames(const char *spec, size_t distinct, size_t **out, char *err,
                        size_t errlen)
{
    size_t cap = 32, n = 0;
    size_t *v = malloc(cap * sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    if (!strcmp(spec, "auto")) {
        size_t d = distinct ? distinct : 1;
        for (size_t i = 1; i <= 20; i++) {
            size_t f = (d * i + 19) / 20;
            v[n++] = f ? f : 1;
        }
    } else if (strchr(spec, ':')) {
        const char *a = strchr(spec, ':'), *b = strchr(a + 1, ':');
        size_t start, end, step;
        if (!b || parse_size(spec, a, &start) || parse_size(a + 1, b, &end) ||
            parse_size(b + 1, b + 1 + strlen(b + 1), &step) || !step || !start ||
            start > end || (end - start) / step >= 100000)
            goto bad;
        for (size_t f = start; f <= end; f += step) {
            if (n == cap) {
                size_t *p = realloc(v, 2 * cap * sizeof *p);
                if (!p)
                    goto bad;
                v = p;
                cap *= 2;
            }
            v[n++] = f;
            if (end - f < step)
                break;
        }
    } else {
        for (const char *s = spec;;) {
            const char *comma = strchr(s, ',');
            const char *e = comma ? comma : s + strlen(s);
            size_t f;
            if (parse_size(s, e, &f) || !f)
                goto bad;
            if (n == cap) {
                size_t *p = realloc(v, 2 * cap * sizeof *p);
                if (!p)
                    goto bad;
                v = p;
                cap *= 2;
            }
            v[n++] = f;
            if (!comma)
                break;
            s = comma + 1;
        }
    }
    qsort(v, n, sizeof *v, cmp_size);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || v[m - 1] != v[i])
            v[m++] = v[i];
    *out = v;
    return m;
bad:
    free(v);
    snprintf(err, errlen,
             "bad frame counts '%s' (N,N,..., START:END:STEP or auto; counts >= 1)", spec);
    return 0;
}
