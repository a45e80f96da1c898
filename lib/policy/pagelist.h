/*
 * pagelist.h -- what most replacement policies are made of: a set of pages,
 * each with a small record, kept in one or more doubly linked lists, and
 * found by page number (an array when pages are dense, else a hash table).
 */
#ifndef VMEM_POLICY_PAGELIST_H
#define VMEM_POLICY_PAGELIST_H

#include <stddef.h>
#include <stdint.h>

#define PL_NONE 0u /* node 0 is never used: it means "none" */

struct pl_node {
    uint64_t page;
    uint32_t prev, next;
    uint32_t list;  /* which list it is on (policy's numbering); 0 = free */
    uint32_t bits;  /* the policy's own: reference bit, age, frequency ... */
};

struct pl_list {
    uint32_t head, tail;
    size_t len;
};

struct pagelist {
    struct pl_node *node;  /* node[1..cap] */
    uint32_t cap, used, free_head;
    /* page -> node: dense array, or open-addressing hash */
    size_t universe;
    uint32_t *dense;
    uint64_t *keys;
    uint32_t *vals;
    size_t hcap, hcount;
};

/* 0 or ENOMEM.  universe > 0: pages are 0..universe-1. */
int pl_init(struct pagelist *pl, size_t universe);
void pl_fini(struct pagelist *pl);

/* The node of page, or PL_NONE. */
uint32_t pl_find(const struct pagelist *pl, uint64_t page);
/* A new node for page (not present), on no list; PL_NONE if out of memory. */
uint32_t pl_new(struct pagelist *pl, uint64_t page);
/* Frees node n (taken off its list first). */
void pl_free(struct pagelist *pl, uint32_t n);

static inline struct pl_node *pl_at(const struct pagelist *pl, uint32_t n) { return &pl->node[n]; }

void pl_push_tail(struct pagelist *pl, struct pl_list *l, uint32_t n, uint32_t list_id);
void pl_unlink(struct pagelist *pl, struct pl_list *l, uint32_t n);
/* The head node, or PL_NONE. */
static inline uint32_t pl_head(const struct pl_list *l) { return l->head; }

#endif
