/* alloc.h -- a policy's calls into the caller's allocator (policy.h). */
#ifndef VMEM_POLICY_ALLOC_H
#define VMEM_POLICY_ALLOC_H

#include "policy/policy.h"

#include <stddef.h>

static inline void *pmem_alloc(const struct policy_alloc *m, size_t bytes)
{
    return m->alloc(m->ctx, bytes);
}

/* p may be NULL */
static inline void pmem_free(const struct policy_alloc *m, void *p, size_t bytes)
{
    if (p)
        m->free(m->ctx, p, bytes);
}

#endif
