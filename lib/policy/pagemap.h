/*
 * pagemap.h -- a small hash map from page number to a 32-bit index, for
 * policies driven live, where page numbers are sparse virtual page numbers.
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so lookups stay short after many deletions).  Memory comes
 * from the policy's allocator (policy.h): the map may grow in admit().
 */
#ifndef VMEM_POLICY_PAGEMAP_H
#define VMEM_POLICY_PAGEMAP_H

#include "policy/policy.h"

#include <stddef.h>
#include <stdint.h>

#define PAGEMAP_NONE UINT32_MAX

struct pagemap {
    uint64_t *keys; /* PAGEMAP_EMPTY_KEY marks a free slot */
    uint32_t *vals;
    size_t mask;    /* slots - 1; slots is a power of two */
    size_t used;
    struct policy_alloc mem;
};

/* 0, or -1 if out of memory.  hint: expected entries; mem: where the
 * slots come from. */
int pagemap_init(struct pagemap *m, size_t hint, const struct policy_alloc *mem);
void pagemap_fini(struct pagemap *m);
/* the value, or PAGEMAP_NONE */
uint32_t pagemap_get(const struct pagemap *m, uint64_t key);
/* inserts or replaces; 0, or -1 if out of memory.  key != UINT64_MAX. */
int pagemap_put(struct pagemap *m, uint64_t key, uint32_t val);
/* removes key if present */
void pagemap_del(struct pagemap *m, uint64_t key);

#endif
