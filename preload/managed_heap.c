/*
 * managed_heap.c -- the heap on libvmem reservations (see managed_heap.h).
 */
#include "managed_heap.h"
#include "ranges.h"
#include "sys.h"
#include "thread_cache.h"

#include <vmem.h>

#include <errno.h>
#include <sys/mman.h>

/* Address space only: a reservation costs no memory and no commit. */
#define HEAP_SIZE ((size_t)64 << 30)
#define PAGE      ((size_t)4096)

struct span_heap managed_heap;
int managed_heap_is_ready;

static int commit_rw(uintptr_t addr, size_t len)
{
    return vmem_commit((void *)addr, len, VMEM_PAGE_READWRITE);
}

int managed_heap_start(void)
{
    void *base;
    int err = vmem_reserve(NULL, HEAP_SIZE, 0, VMEM_PAGE_READWRITE, &base);
    if (err)
        return err;
    uint8_t *map = preload_sys_mmap(NULL, HEAP_SIZE >> CHUNK_SHIFT, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        vmem_release(base);
        return ENOMEM;
    }
    span_heap_init(&managed_heap, (uintptr_t)base, HEAP_SIZE, map, commit_rw);
    struct range r = { .base = (uintptr_t)base, .reserved = HEAP_SIZE, .lo = (uintptr_t)base,
                       .hi = (uintptr_t)base + HEAP_SIZE, .kind = RANGE_HEAP };
    if ((err = ranges_add(&r)) != 0 || (err = tcache_setup(&managed_heap)) != 0)
        return err;
    __atomic_store_n(&managed_heap_is_ready, 1, __ATOMIC_RELEASE);
    return 0;
}

static size_t page_round(size_t n)
{
    return (n + PAGE - 1) & ~(PAGE - 1);
}

void *large_alloc(size_t align, size_t size)
{
    size_t len = page_round(size);
    /* Twice the size in address space, so a growing realloc stays put. */
    size_t res = 2 * len + (align > VMEM_GRANULARITY ? align : 0);
    if (len < size || res / 2 < len) {
        errno = ENOMEM;
        return NULL;
    }
    void *base;
    int err = vmem_reserve(NULL, res, 0, VMEM_PAGE_READWRITE, &base);
    if (err) {
        errno = ENOMEM;
        return NULL;
    }
    uintptr_t user = ((uintptr_t)base + align - 1) & ~(uintptr_t)(align - 1);
    struct range r = { .base = (uintptr_t)base, .reserved = res, .lo = user, .hi = user + len,
                       .kind = RANGE_LARGE };
    if ((err = vmem_commit((void *)user, len, VMEM_PAGE_READWRITE)) != 0 ||
        (err = ranges_add(&r)) != 0) {
        vmem_release(base);
        errno = ENOMEM;
        return NULL;
    }
    return (void *)user;
}

void large_free(void *p)
{
    struct range r;
    if (!ranges_find((uintptr_t)p, &r) || r.kind != RANGE_LARGE)
        return;
    ranges_remove(r.base);
    vmem_release((void *)r.base);
}

int large_resize(void *p, size_t size)
{
    struct range r;
    if (!ranges_find((uintptr_t)p, &r) || r.kind != RANGE_LARGE)
        return 0;
    size_t len = page_round(size);
    if (len < size || len > r.base + r.reserved - r.lo)
        return 0;
    uintptr_t hi = r.lo + len;
    if (hi > r.hi) {
        if (vmem_commit((void *)r.hi, hi - r.hi, VMEM_PAGE_READWRITE) != 0)
            return 0;
    } else if (r.hi - hi >= VMEM_GRANULARITY) {
        /* Give back a shrunk tail of at least 64 KiB. */
        vmem_decommit((void *)hi, r.hi - hi);
    } else {
        hi = r.hi;
    }
    ranges_set_bounds(r.base, r.lo, hi);
    return 1;
}

size_t large_usable(void *p)
{
    struct range r;
    if (!ranges_find((uintptr_t)p, &r) || r.kind != RANGE_LARGE)
        return 0;
    return r.hi - r.lo;
}
