/*
 * nodepool.h -- per-page records for the replacement policies, and intrusive
 * doubly linked lists over them.
 *
 * A policy keeps one 16-byte node per page it tracks (resident, or a ghost).
 * With a dense universe (the simulator) the node of page p is nodes[p]: no
 * hashing on the hot path.  Otherwise (live) nodes come from a growable pool
 * and a pagemap finds them.  Lists link nodes by index, so the pool may move
 * when it grows: hold indices, not pointers, across nodepool_get().
 */
#ifndef VMEM_POLICY_NODEPOOL_H
#define VMEM_POLICY_NODEPOOL_H

#include "policy/pagemap.h"
#include "policy/policy.h"

#include <stddef.h>
#include <stdint.h>

#define PNODE_NIL UINT32_MAX

/* Live (sparse), a policy starts this small whatever its frame count and
 * grows by doubling as pages come: the frame count there is the working-set
 * cap, which may be far above what is ever resident, so nothing is sized
 * by it up front. */
#define POLICY_SPARSE_START 64

/* The entries to allocate at creation for `want` (the frame count): all of
 * them with a dense universe (the simulator), else POLICY_SPARSE_START at
 * most. */
static inline size_t policy_start_size(size_t want, size_t universe)
{
    return universe || want < POLICY_SPARSE_START ? want : POLICY_SPARSE_START;
}

struct pnode {
    uint32_t prev, next; /* list links, PNODE_NIL at the ends */
    uint32_t aux;        /* policy's own use (position, age ...) */
    uint8_t state;       /* 0: not tracked; otherwise the policy's own */
    uint8_t ref;         /* referenced bit */
    uint8_t flags;       /* policy's own use */
    uint8_t spare;
};

struct nodepool {
    struct pnode *nodes;
    size_t cap;          /* nodes allocated */
    size_t universe;     /* > 0: dense, node index == page */
    /* sparse mode only */
    struct pagemap map;  /* page -> node index */
    policy_page *pages;  /* node index -> page */
    uint32_t free_head;  /* free nodes, linked through next */
    size_t hwm;          /* nodes ever handed out */
    struct policy_alloc mem;
};

/* 0, or -1 if out of memory.  hint: nodes expected (sparse mode: at most
 * POLICY_SPARSE_START are allocated up front, the pool grows); mem: where
 * the nodes come from. */
int nodepool_init(struct nodepool *np, size_t universe, size_t hint,
                  const struct policy_alloc *mem);
void nodepool_fini(struct nodepool *np);

/* the node tracking page, or PNODE_NIL */
static inline uint32_t nodepool_find(const struct nodepool *np, policy_page page)
{
    if (np->universe) {
        if (page >= np->universe || !np->nodes[page].state)
            return PNODE_NIL;
        return (uint32_t)page;
    }
    return pagemap_get(&np->map, page);
}

/* the node of page, created (zeroed, unlinked, state 0) if untracked;
 * PNODE_NIL if out of memory or (dense) page is outside the universe.
 * The caller sets state != 0 on a new node. */
uint32_t nodepool_get(struct nodepool *np, policy_page page);
/* stops tracking the node's page; the node must be unlinked */
void nodepool_put(struct nodepool *np, uint32_t idx);

static inline policy_page nodepool_page(const struct nodepool *np, uint32_t idx)
{
    return np->universe ? idx : np->pages[idx];
}

static inline struct pnode *pnode(const struct nodepool *np, uint32_t idx)
{
    return &np->nodes[idx];
}

/* ---- lists: head is the oldest end, tail the newest ---------------------- */
struct plist {
    uint32_t head, tail;
    size_t len;
};

static inline void plist_init(struct plist *l)
{
    l->head = l->tail = PNODE_NIL;
    l->len = 0;
}

static inline void plist_push_tail(struct nodepool *np, struct plist *l, uint32_t i)
{
    struct pnode *n = pnode(np, i);
    n->prev = l->tail;
    n->next = PNODE_NIL;
    if (l->tail != PNODE_NIL)
        pnode(np, l->tail)->next = i;
    else
        l->head = i;
    l->tail = i;
    l->len++;
}

static inline void plist_remove(struct nodepool *np, struct plist *l, uint32_t i)
{
    struct pnode *n = pnode(np, i);
    if (n->prev != PNODE_NIL)
        pnode(np, n->prev)->next = n->next;
    else
        l->head = n->next;
    if (n->next != PNODE_NIL)
        pnode(np, n->next)->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = PNODE_NIL;
    l->len--;
}

/* the head (oldest) node, unlinked; PNODE_NIL if empty */
static inline uint32_t plist_pop_head(struct nodepool *np, struct plist *l)
{
    uint32_t i = l->head;
    if (i != PNODE_NIL)
        plist_remove(np, l, i);
    return i;
}

#endif
