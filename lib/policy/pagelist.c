/*
 * pagelist.c -- page records in linked lists, found by page number.
 * Memory comes from the library's own allocator (never malloc, so a policy
 * never lives in a managed heap).
 */
#include "pagelist.h"
#include "../internal_alloc.h"

#include <errno.h>
#include <string.h>

#define EMPTY UINT64_MAX

static uint64_t hash(uint64_t k) { return k * 0x9E3779B97F4A7C15ull; }

int pl_init(struct pagelist *pl, size_t universe)
{
    memset(pl, 0, sizeof(*pl));
    pl->universe = universe;
    pl->cap = 1024;
    pl->node = ialloc_pages(((size_t)pl->cap + 1) * sizeof(struct pl_node));
    if (!pl->node)
        return ENOMEM;
    if (universe) {
        pl->dense = ialloc_pages(universe * sizeof(uint32_t));
        if (!pl->dense)
            return pl_fini(pl), ENOMEM;
        return 0;
    }
    pl->hcap = 2048;
    pl->keys = ialloc_pages(pl->hcap * sizeof(uint64_t));
    pl->vals = ialloc_pages(pl->hcap * sizeof(uint32_t));
    if (!pl->keys || !pl->vals)
        return pl_fini(pl), ENOMEM;
    memset(pl->keys, 0xff, pl->hcap * sizeof(uint64_t));
    return 0;
}

void pl_fini(struct pagelist *pl)
{
    ifree_pages(pl->node, ((size_t)pl->cap + 1) * sizeof(struct pl_node));
    ifree_pages(pl->dense, pl->universe * sizeof(uint32_t));
    ifree_pages(pl->keys, pl->hcap * sizeof(uint64_t));
    ifree_pages(pl->vals, pl->hcap * sizeof(uint32_t));
    memset(pl, 0, sizeof(*pl));
}

uint32_t pl_find(const struct pagelist *pl, uint64_t page)
{
    if (pl->dense)
        return page < pl->universe ? pl->dense[page] : PL_NONE;
    size_t mask = pl->hcap - 1;
    for (size_t i = hash(page) & mask;; i = (i + 1) & mask) {
        if (pl->keys[i] == page)
            return pl->vals[i];
        if (pl->keys[i] == EMPTY)
            return PL_NONE;
    }
}

static void h_put(uint64_t *keys, uint32_t *vals, size_t cap, uint64_t k, uint32_t v)
{
    size_t mask = cap - 1, i = hash(k) & mask;
    while (keys[i] != EMPTY && keys[i] != k)
        i = (i + 1) & mask;
    keys[i] = k;
    vals[i] = v;
}

static int h_grow(struct pagelist *pl)
{
    size_t cap = pl->hcap * 2;
    uint64_t *keys = ialloc_pages(cap * sizeof(uint64_t));
    uint32_t *vals = ialloc_pages(cap * sizeof(uint32_t));
    if (!keys || !vals) {
        ifree_pages(keys, cap * sizeof(uint64_t));
        ifree_pages(vals, cap * sizeof(uint32_t));
        return ENOMEM;
    }
    memset(keys, 0xff, cap * sizeof(uint64_t));
    for (size_t i = 0; i < pl->hcap; i++)
        if (pl->keys[i] != EMPTY)
            h_put(keys, vals, cap, pl->keys[i], pl->vals[i]);
    ifree_pages(pl->keys, pl->hcap * sizeof(uint64_t));
    ifree_pages(pl->vals, pl->hcap * sizeof(uint32_t));
    pl->keys = keys;
    pl->vals = vals;
    pl->hcap = cap;
    return 0;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void h_del(struct pagelist *pl, uint64_t k)
{
    size_t mask = pl->hcap - 1, i = hash(k) & mask;
    while (pl->keys[i] != k) {
        if (pl->keys[i] == EMPTY)
            return;
        i = (i + 1) & mask;
    }
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (pl->keys[j] == EMPTY)
            break;
        size_t home = hash(pl->keys[j]) & mask;
        /* move j back to i unless its home lies cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            pl->keys[i] = pl->keys[j];
            pl->vals[i] = pl->vals[j];
            i = j;
        }
    }
    pl->keys[i] = EMPTY;
    pl->hcount--;
}

uint32_t pl_new(struct pagelist *pl, uint64_t page)
{
    if (pl->dense && page >= pl->universe)
        return PL_NONE;
    if (!pl->free_head && pl->used == pl->cap) {
        uint32_t cap = pl->cap * 2;
        struct pl_node *n = ialloc_pages(((size_t)cap + 1) * sizeof(*n));
        if (!n)
            return PL_NONE;
        memcpy(n, pl->node, ((size_t)pl->cap + 1) * sizeof(*n));
        ifree_pages(pl->node, ((size_t)pl->cap + 1) * sizeof(*n));
        pl->node = n;
        pl->cap = cap;
    }
    if (!pl->dense && (pl->hcount + 1) * 2 > pl->hcap && h_grow(pl) != 0)
        return PL_NONE;
    uint32_t id;
    if (pl->free_head) {
        id = pl->free_head;
        pl->free_head = pl->node[id].next;
    } else {
        id = ++pl->used;
    }
    pl->node[id] = (struct pl_node){ .page = page };
    if (pl->dense) {
        pl->dense[page] = id;
    } else {
        h_put(pl->keys, pl->vals, pl->hcap, page, id);
        pl->hcount++;
    }
    return id;
}

void pl_free(struct pagelist *pl, uint32_t n)
{
    if (pl->dense)
        pl->dense[pl->node[n].page] = PL_NONE;
    else
        h_del(pl, pl->node[n].page);
    pl->node[n].list = 0;
    pl->node[n].next = pl->free_head;
    pl->free_head = n;
}

void pl_push_tail(struct pagelist *pl, struct pl_list *l, uint32_t n, uint32_t list_id)
{
    struct pl_node *x = &pl->node[n];
    x->list = list_id;
    x->next = PL_NONE;
    x->prev = l->tail;
    if (l->tail)
        pl->node[l->tail].next = n;
    else
        l->head = n;
    l->tail = n;
    l->len++;
}

void pl_unlink(struct pagelist *pl, struct pl_list *l, uint32_t n)
{
    struct pl_node *x = &pl->node[n];
    if (x->prev)
        pl->node[x->prev].next = x->next;
    else
        l->head = x->next;
    if (x->next)
        pl->node[x->next].prev = x->prev;
    else
        l->tail = x->prev;
    x->prev = x->next = PL_NONE;
    x->list = 0;
    l->len--;
}
