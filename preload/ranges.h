/*
 * ranges.h -- the address ranges this library hands out whole: large
 * malloc blocks and the application's anonymous mmaps (each a libvmem
 * reservation), the managed heap's reservation, and large blocks of the
 * fallback allocator (plain mmap).  A sorted array in plain anonymous
 * memory, under one mutex; copies go out, never pointers into it.
 */
#ifndef PRELOAD_RANGES_H
#define PRELOAD_RANGES_H

#include <stddef.h>
#include <stdint.h>

enum range_kind {
    RANGE_HEAP = 1,  /* the managed heap's reservation */
    RANGE_LARGE,     /* a large malloc block: libvmem reservation */
    RANGE_MAP,       /* an application mmap: libvmem reservation */
    RANGE_RAW,       /* a large fallback block: plain mmap */
};

struct range {
    uintptr_t base;  /* reservation (or mapping) start */
    size_t reserved; /* its length */
    uintptr_t lo, hi;/* LARGE/RAW: the user block [lo, lo+size) with hi the
                        end of its committed pages; MAP: the mapped part */
    int kind;
};

int ranges_add(const struct range *r);             /* 0 or ENOMEM */
int ranges_remove(uintptr_t base);                 /* 0 or ENOENT */
int ranges_set_bounds(uintptr_t base, uintptr_t lo, uintptr_t hi);
/* The range containing addr (in [base, base+reserved)): 1 and *out, or 0. */
int ranges_find(uintptr_t addr, struct range *out);
/* Ranges overlapping [addr, addr+len), in address order: up to max into
 * out; returns the number found (may exceed max). */
size_t ranges_overlapping(uintptr_t addr, size_t len, struct range *out, size_t max);

void ranges_lock(void);   /* fork */
void ranges_unlock(void);

#endif
