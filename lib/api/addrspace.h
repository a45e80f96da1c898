/*
 * addrspace.h -- internal helpers shared by the address-space operations
 * (addrspace.c) and write watch (writewatch.c).  The public operations are
 * declared in <vmem.h>.
 */
#ifndef VMEM_ADDRSPACE_H
#define VMEM_ADDRSPACE_H

#include "core/region.h"

#include <stddef.h>
#include <stdint.h>

/* Finds the reservation holding every page of [addr, addr+size) and the
 * page-index range; EFAULT if there is none, EINVAL for size 0.  Caller
 * holds as_lock. */
int addrspace_range(const void *addr, size_t size, struct region **r,
                    size_t *first, size_t *end);

/* 1 if every page of [first, end) is committed. */
int addrspace_all_committed(const struct region *r, size_t first, size_t end);

/* Unmaps r and frees its bookkeeping (as_lock exclusive). */
void addrspace_drop_region(struct region *r);

#endif
