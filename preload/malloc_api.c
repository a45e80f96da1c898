/*
 * malloc_api.c -- the malloc family, exported to replace glibc's.
 *
 * Where memory comes from:
 *  - the managed heap (thread caches over libvmem) for the application's
 *    threads once it is running;
 *  - the fallback allocator before that (the loader's and libc's first
 *    calls, our own start-up) and for libvmem's own threads, whose memory
 *    must never be managed.
 * free() finds the owner from the address: managed heap, fallback heap, or
 * the range table (large blocks).  A pointer none of them knows is ignored.
 */
#include "fallback_alloc.h"
#include "managed_heap.h"
#include "ranges.h"
#include "sys.h"
#include "thread_cache.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static inline int use_managed(void)
{
    return managed_heap_ready() && !preload_in_internal_thread;
}

/* The text of libc, set at start-up.  A block libc allocates for itself
 * comes from the fallback heap: stdio's buffers are written by libc's own
 * write, which the guarded calls do not cover, and in fault mode signal
 * the kernel fails that write with EFAULT on a page trimmed since the
 * buffer was filled -- stdio then drops the data without a word. */
uintptr_t preload_libc_lo, preload_libc_hi;

static inline int from_libc(const void *ra)
{
    uintptr_t a = (uintptr_t)ra;
    return a >= preload_libc_lo && a < preload_libc_hi;
}

static size_t pow2_at_least(size_t n)
{
    return n <= 1 ? 1 : (size_t)1 << (64 - __builtin_clzl(n - 1));
}

/* align: a power of two >= 16. */
static void *alloc_aligned(size_t align, size_t size)
{
    void *p;
    if (!use_managed()) {
        p = fallback_memalign(align, size);
    } else {
        size_t s = (size + align - 1) & ~(align - 1);
        if (s < size) {
            p = NULL;
        } else if (s <= SC_MAX_SIZE && align <= SC_MAX_SIZE) {
            unsigned c = sc_of(s);
            /* Objects sit at multiples of their size from a 64 KiB-aligned
             * span start: a size that is a multiple of align is aligned. */
            if (sc_size(c) & (align - 1))
                c = sc_of(pow2_at_least(s));
            p = tcache_alloc(c);
        } else {
            p = large_alloc(align < 4096 ? 4096 : align, size);
        }
    }
    if (!p)
        errno = ENOMEM;
    return p;
}

static void *malloc_for(size_t size, const void *ra)
{
    if (from_libc(ra)) {
        void *p = fallback_malloc(size);
        if (!p)
            errno = ENOMEM;
        return p;
    }
    if (use_managed() && size <= SC_MAX_SIZE) {
        void *p = tcache_alloc(sc_of(size));
        if (p)
            return p;
        errno = ENOMEM;
        return NULL;
    }
    return alloc_aligned(16, size);
}

EXPORT void *malloc(size_t size)
{
    return malloc_for(size, __builtin_return_address(0));
}

/* Usable size of a block, 0 if the pointer is not ours. */
static size_t usable(void *p)
{
    size_t n;
    if (span_heap_owns(&managed_heap, p))
        return sc_size(span_heap_class(&managed_heap, p));
    if (fallback_owns(p, &n))
        return n;
    struct range r;
    if (ranges_find((uintptr_t)p, &r) && (r.kind == RANGE_LARGE || r.kind == RANGE_RAW))
        return r.hi - r.lo;
    return 0;
}

EXPORT void free(void *p)
{
    if (!p)
        return;
    if (managed_heap_ready() && span_heap_owns(&managed_heap, p)) {
        unsigned c = span_heap_class(&managed_heap, p);
        if (preload_in_internal_thread)
            span_heap_give(&managed_heap, c, p, p);
        else
            tcache_free(c, p);
        return;
    }
    if (fallback_owns(p, NULL)) {
        fallback_free(p);
        return;
    }
    struct range r;
    if (!ranges_find((uintptr_t)p, &r))
        return;
    if (r.kind == RANGE_LARGE)
        large_free(p);
    else if (r.kind == RANGE_RAW)
        fallback_free(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    const void *ra = __builtin_return_address(0);
    void *p = malloc_for(total, ra);
    /* Large blocks are freshly committed pages: already zero. */
    if (p && (total <= SC_MAX_SIZE || from_libc(ra)))
        memset(p, 0, total);
    return p;
}

EXPORT void *realloc(void *p, size_t size)
{
    const void *ra = __builtin_return_address(0);
    if (!p)
        return malloc_for(size, ra);
    if (size == 0) {
        free(p);
        return NULL;
    }
    size_t old = usable(p);
    if (old == 0) {
        errno = ENOMEM; /* not a block of ours */
        return NULL;
    }
    struct range r;
    int is_large = old > SC_MAX_SIZE || (ranges_find((uintptr_t)p, &r) && r.kind == RANGE_LARGE);
    if (!is_large && size <= old && size > old / 2)
        return p;
    if (is_large && size > SC_MAX_SIZE && use_managed() && !from_libc(ra) &&
        large_resize(p, size))
        return p;
    void *n = malloc_for(size, ra);
    if (!n)
        return NULL;
    memcpy(n, p, old < size ? old : size);
    free(p);
    return n;
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    int saved = errno;
    void *p = alloc_aligned(align < 16 ? 16 : align, size);
    errno = saved;
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    return alloc_aligned(align < 16 ? 16 : align, size);
}

EXPORT void *memalign(size_t align, size_t size)
{
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    return alloc_aligned(align < 16 ? 16 : align, size);
}

EXPORT void *valloc(size_t size)
{
    return alloc_aligned(4096, size);
}

EXPORT void *pvalloc(size_t size)
{
    size_t s = (size + 4095) & ~(size_t)4095;
    if (s < size) {
        errno = ENOMEM;
        return NULL;
    }
    return alloc_aligned(4096, s ? s : 4096);
}

EXPORT size_t malloc_usable_size(void *p)
{
    return p ? usable(p) : 0;
}
