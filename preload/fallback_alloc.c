/*
 * fallback_alloc.c -- unmanaged memory for early and internal allocations.
 */
#include "fallback_alloc.h"
#include "ranges.h"
#include "span_heap.h"
#include "sys.h"

#include <sys/mman.h>

#define FALLBACK_SIZE ((size_t)4 << 30)

static struct span_heap heap;
static int state; /* 0 none, 1 being set up, 2 ready, 3 failed */

static int ready(void)
{
    int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (s == 2)
        return 1;
    if (s == 3)
        return 0;
    int zero = 0;
    if (__atomic_compare_exchange_n(&state, &zero, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        int fl = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
        void *mem = preload_sys_mmap(NULL, FALLBACK_SIZE, PROT_READ | PROT_WRITE, fl, -1, 0);
        void *map = preload_sys_mmap(NULL, FALLBACK_SIZE >> CHUNK_SHIFT, PROT_READ | PROT_WRITE,
                                     fl, -1, 0);
        if (mem == MAP_FAILED || map == MAP_FAILED) {
            __atomic_store_n(&state, 3, __ATOMIC_RELEASE);
            return 0;
        }
        span_heap_init(&heap, (uintptr_t)mem, FALLBACK_SIZE, map, NULL);
        __atomic_store_n(&state, 2, __ATOMIC_RELEASE);
        return 1;
    }
    while ((s = __atomic_load_n(&state, __ATOMIC_ACQUIRE)) == 1)
        ; /* another thread is mapping: two system calls */
    return s == 2;
}

static void *large(size_t align, size_t size)
{
    size_t len = (size + 4095) & ~(size_t)4095;
    size_t span = len + (align > 4096 ? align : 0);
    if (len < size || span < len)
        return NULL;
    void *m = preload_sys_mmap(NULL, span, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uintptr_t user = ((uintptr_t)m + align - 1) & ~(uintptr_t)(align - 1);
    struct range r = { .base = (uintptr_t)m, .reserved = span, .lo = user,
                       .hi = user + len, .kind = RANGE_RAW };
    if (ranges_add(&r)) {
        preload_sys_munmap(m, span);
        return NULL;
    }
    return (void *)user;
}

void *fallback_memalign(size_t align, size_t size)
{
    if (!ready())
        return NULL;
    if (align < 16)
        align = 16;
    size_t s = (size + align - 1) & ~(align - 1);
    if (s < size)
        return NULL;
    if (s > SC_MAX_SIZE || align > SC_MAX_SIZE)
        return large(align, size);
    unsigned c = sc_of(s);
    if (sc_size(c) & (align - 1))
        c = sc_of((size_t)1 << (64 - __builtin_clzl(s - 1))); /* power-of-two class */
    void *p;
    return span_heap_take(&heap, c, 1, &p) ? p : NULL;
}

void *fallback_malloc(size_t size)
{
    return fallback_memalign(16, size);
}

int fallback_owns(const void *p, size_t *usable)
{
    if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != 2 || !span_heap_owns(&heap, p))
        return 0;
    if (usable)
        *usable = sc_size(span_heap_class(&heap, p));
    return 1;
}

void fallback_free(void *p)
{
    if (!p)
        return;
    if (fallback_owns(p, NULL)) {
        span_heap_give(&heap, span_heap_class(&heap, p), p, p);
        return;
    }
    struct range r;
    if (ranges_find((uintptr_t)p, &r) && r.kind == RANGE_RAW && r.lo == (uintptr_t)p) {
        ranges_remove(r.base);
        preload_sys_munmap((void *)r.base, r.reserved);
    }
}

void fallback_lock_all(void)
{
    if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) == 2)
        span_heap_lock_all(&heap);
}

void fallback_unlock_all(void)
{
    if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) == 2)
        span_heap_unlock_all(&heap);
}
