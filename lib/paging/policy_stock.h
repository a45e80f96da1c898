/*
 * policy_stock.h -- memory for the live replacement policy that is handed
 * out without a kernel call: a stock of blocks, filled beforehand.
 */
#ifndef VMEM_POLICY_STOCK_H
#define VMEM_POLICY_STOCK_H

#include "policy/policy.h"

#include <stddef.h>
#include <stdint.h>

#define STOCK_CLASSES 40 /* blocks of 4 KiB << k, k < STOCK_CLASSES */

struct stock_block;

/* Guarded by its user's lock (replacement.c: policy_lock), except `low`. */
struct policy_stock {
    struct stock_block *free[STOCK_CLASSES]; /* blocks on hand, by class */
    size_t have[STOCK_CLASSES];
    size_t out[STOCK_CLASSES];               /* blocks handed out */
    int direct;      /* 1: the allocator maps what the stock lacks (only
                        while creating, outside every lock) */
    int low;         /* atomic: changed since the last plan: refill */
    uint64_t misses; /* requests it could not serve */
    uint64_t served; /* requests it served */
};

/* A refill: planned under the user's lock, fetched (mapped and unmapped)
 * without it, taken in under it again. */
struct stock_order {
    size_t want[STOCK_CLASSES];              /* blocks to map */
    struct stock_block *got[STOCK_CLASSES];  /* blocks mapped */
    struct stock_block *surplus;             /* blocks to unmap */
};

/* The policy allocator over s (policy.h).  Its alloc and free make no
 * kernel call unless s->direct: they take and give back stock blocks,
 * so they are safe under a lock and in a signal handler. */
struct policy_alloc stock_allocator(struct policy_stock *s);

/* 1 if s changed since the last plan (any thread, no lock). */
int stock_low(const struct policy_stock *s);

/* Under the lock: what to map so that every block handed out can double
 * twice from the stock, and the blocks beyond that to unmap (taken out of
 * s).  1 if there is anything to fetch. */
int stock_plan(struct policy_stock *s, struct stock_order *o);

/* Under the lock: every block of s to unmap (s is then empty). */
void stock_drain(struct policy_stock *s, struct stock_order *o);

/* Without the lock (it maps and unmaps): carries the order out.  Never in
 * a signal handler. */
void stock_fetch(struct stock_order *o);

/* Under the lock: puts the blocks fetched into s. */
void stock_take(struct policy_stock *s, struct stock_order *o);

#endif
