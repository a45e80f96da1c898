/*
 * sim_opt.c -- Belady's OPT.  A backward pass gives each reference the
 * time of the same page's next reference (next[]); the resident pages sit
 * in a max-heap keyed by their next reference, so the victim (farthest
 * next use, or never) is the root.  A hit only moves the page's key later:
 * a sift towards the root.  O(n log frames).
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NEVER UINT32_MAX /* no further reference: farther than any */

struct opt_heap {
    uint32_t *key;  /* next use of the page in each heap slot */
    uint32_t *page; /* the page in each heap slot */
    int32_t *pos;   /* page -> heap slot, -1 if not resident */
    size_t n;
};

static void place(struct opt_heap *h, size_t slot, uint32_t page, uint32_t key)
{
    h->key[slot] = key;
    h->page[slot] = page;
    h->pos[page] = (int32_t)slot;
}

static void sift_up(struct opt_heap *h, size_t slot)
{
    uint32_t key = h->key[slot], page = h->page[slot];
    while (slot > 0) {
        size_t parent = (slot - 1) / 2;
        if (h->key[parent] >= key)
            break;
        place(h, slot, h->page[parent], h->key[parent]);
        slot = parent;
    }
    place(h, slot, page, key);
}

static void sift_down(struct opt_heap *h, size_t slot)
{
    uint32_t key = h->key[slot], page = h->page[slot];
    for (;;) {
        size_t child = 2 * slot + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->key[child + 1] > h->key[child])
            child++;
        if (h->key[child] <= key)
            break;
        place(h, slot, h->page[child], h->key[child]);
        slot = child;
    }
    place(h, slot, page, key);
}

int sim_opt(const struct sim_trace *st, size_t frames, struct sim_result *res)
{
    memset(res, 0, sizeof *res);
    res->policy = "opt";
    res->frames = frames;
    res->refs = st->n;
    if (!frames)
        frames = 1;
    if (st->n >= NEVER) {
        errno = EOVERFLOW;
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    size_t cap = frames < st->universe ? frames : st->universe;
    uint32_t *next = malloc((st->n ? st->n : 1) * sizeof *next);
    uint32_t *last = malloc((st->universe ? st->universe : 1) * sizeof *last);
    struct opt_heap h = {
        .key = malloc((cap ? cap : 1) * sizeof *h.key),
        .page = malloc((cap ? cap : 1) * sizeof *h.page),
        .pos = malloc((st->universe ? st->universe : 1) * sizeof *h.pos),
    };
    int rc = -1;
    if (!next || !last || !h.key || !h.page || !h.pos) {
        errno = ENOMEM;
        goto out;
    }
    memset(last, 0xff, st->universe * sizeof *last); /* NEVER */
    memset(h.pos, 0xff, st->universe * sizeof *h.pos); /* -1 */
    for (size_t i = st->n; i-- > 0;) {
        uint32_t x = st->ref[i];
        next[i] = last[x];
        last[x] = (uint32_t)i;
    }
    uint64_t faults = 0;
    for (size_t i = 0; i < st->n; i++) {
        uint32_t x = st->ref[i];
        int32_t slot = h.pos[x];
        if (slot >= 0) {
            h.key[slot] = next[i];
            sift_up(&h, (size_t)slot);
            continue;
        }
        faults++;
        if (h.n < cap) {
            place(&h, h.n, x, next[i]);
            sift_up(&h, h.n++);
        } else {
            h.pos[h.page[0]] = -1;
            place(&h, 0, x, next[i]);
            sift_down(&h, 0);
        }
    }
    res->faults = faults;
    rc = 0;
out:
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    free(next);
    free(last);
    free(h.key);
    free(h.page);
    free(h.pos);
    return rc;
}
