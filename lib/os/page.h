/*
 * os/page.h -- the page geometry the kernel gives and Windows' allocation
 * granularity, with the rounding helpers.  Every layer uses these (through
 * core/vmem_internal.h above lib/os/).
 */
#ifndef VMEM_OS_PAGE_H
#define VMEM_OS_PAGE_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SZ    ((size_t)1 << PAGE_SHIFT)
#define GRAN_SZ    ((size_t)65536)

static inline uintptr_t round_down(uintptr_t x, size_t a) { return x & ~(uintptr_t)(a - 1); }
static inline uintptr_t round_up(uintptr_t x, size_t a) { return (x + a - 1) & ~(uintptr_t)(a - 1); }
static inline int is_aligned(uintptr_t x, size_t a) { return (x & (a - 1)) == 0; }

#endif
