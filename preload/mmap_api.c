/*
 * mmap_api.c -- mmap, munmap, mremap, madvise and mprotect, exported.
 *
 * An anonymous private mapping the application asks for (no fixed
 * address) becomes a libvmem reservation committed with the mapping's
 * protection (PROT_NONE: reserved only), so it is paged like the heap.
 * On those ranges:
 *  - munmap decommits; the reservation is released when nothing of it is
 *    mapped any more (a hole in the middle stays reserved, inaccessible);
 *  - mremap shrinks by decommitting the tail and grows (MREMAP_MAYMOVE
 *    only) by moving to a new reservation, copying the contents;
 *  - madvise(MADV_DONTNEED/MADV_FREE) decommits and recommits: the pages
 *    read zero afterwards, as Linux documents for private anonymous memory;
 *    other advice is accepted and ignored;
 *  - mprotect changes the protection (committing pages of a PROT_NONE
 *    mapping that become accessible).
 * madvise and mprotect work the same on malloc'ed memory.  Everything else
 * goes to the kernel unchanged.
 */
/* Both mmap and mmap64 are defined here (off_t is 64-bit on x86-64); with
 * _FILE_OFFSET_BITS=64 the header would rename mmap to mmap64. */
#undef _FILE_OFFSET_BITS
#include "managed_heap.h"
#include "ranges.h"
#include "sys.h"

#include <vmem.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define EXPORT __attribute__((visibility("default")))
#define PAGE ((size_t)4096)
#define MAX_OVERLAP 64

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static uint32_t page_prot(int prot)
{
    int x = prot & PROT_EXEC, w = prot & PROT_WRITE, r = prot & PROT_READ;
    if (x)
        return w ? VMEM_PAGE_EXECUTE_READWRITE : r ? VMEM_PAGE_EXECUTE_READ : VMEM_PAGE_EXECUTE;
    return w ? VMEM_PAGE_READWRITE : r ? VMEM_PAGE_READONLY : VMEM_PAGE_NOACCESS;
}

static void *fail(int err)
{
    errno = err;
    return MAP_FAILED;
}

static int served(int prot, int flags, int fd)
{
    const int unusual = MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_GROWSDOWN | MAP_HUGETLB |
                        MAP_LOCKED;
    (void)fd;
    return managed_heap_ready() && !preload_in_internal_thread &&
           (flags & MAP_ANONYMOUS) && (flags & MAP_TYPE) == MAP_PRIVATE &&
           !(flags & unusual) && !(prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC));
}

static void *map_managed(size_t len, int prot)
{
    if (len == 0)
        return fail(EINVAL);
    size_t plen = (len + PAGE - 1) & ~(PAGE - 1);
    if (plen < len)
        return fail(ENOMEM);
    void *base;
    if (vmem_reserve(NULL, plen, 0, VMEM_PAGE_READWRITE, &base) != 0)
        return fail(ENOMEM);
    if ((prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) &&
        vmem_commit(base, plen, page_prot(prot)) != 0) {
        vmem_release(base);
        return fail(ENOMEM);
    }
    struct range r = { .base = (uintptr_t)base, .reserved = plen, .lo = (uintptr_t)base,
                       .hi = (uintptr_t)base + plen, .kind = RANGE_MAP };
    if (ranges_add(&r) != 0) {
        vmem_release(base);
        return fail(ENOMEM);
    }
    return base;
}

/* Makes [a, b) of a managed range read zero, keeping protections. */
static int zero_pages(uintptr_t a, uintptr_t b)
{
    while (a < b) {
        struct vmem_region_info info;
        if (vmem_query((void *)a, &info) != 0)
            return ENOMEM;
        uintptr_t end = (uintptr_t)info.base + info.size;
        if (end > b)
            end = b;
        if (info.state == VMEM_STATE_COMMITTED) {
            if (vmem_decommit((void *)a, end - a) != 0 ||
                vmem_commit((void *)a, end - a, info.protect) != 0)
                return ENOMEM;
        }
        a = end;
    }
    return 0;
}

/* The protection of [a, b) of range r becomes prot. */
static int protect_pages(const struct range *r, uintptr_t a, uintptr_t b, int prot)
{
    uint32_t want = page_prot(prot);
    while (a < b) {
        struct vmem_region_info info;
        if (vmem_query((void *)a, &info) != 0)
            return ENOMEM;
        uintptr_t end = (uintptr_t)info.base + info.size;
        if (end > b)
            end = b;
        uint32_t old;
        if (info.state == VMEM_STATE_COMMITTED) {
            if (vmem_protect((void *)a, end - a, want, &old) != 0)
                return ENOMEM;
        } else if (r->kind != RANGE_MAP || a < r->lo || end > r->hi) {
            return ENOMEM; /* not mapped */
        } else if (want != VMEM_PAGE_NOACCESS && vmem_commit((void *)a, end - a, want) != 0) {
            return ENOMEM;
        }
        a = end;
    }
    return 0;
}

/* Unmaps [a, b) of map range r. */
static void unmap_pages(const struct range *r, uintptr_t a, uintptr_t b)
{
    vmem_decommit((void *)a, b - a);
    uintptr_t lo = r->lo, hi = r->hi;
    if (a <= lo && b >= hi) {
        ranges_remove(r->base);
        vmem_release((void *)r->base);
        return;
    }
    if (a <= lo)
        lo = b;
    else if (b >= hi)
        hi = a;
    ranges_set_bounds(r->base, lo, hi);
}

/* Applies op to each managed part of [addr, addr+len) and sys() to each
 * unmanaged gap.  Returns 0 or an errno. */
enum op { OP_UNMAP, OP_ZERO, OP_PROTECT, OP_IGNORE };

static int for_parts(uintptr_t addr, size_t len, enum op op, int prot,
                     int (*sys)(void *, size_t, int), int sys_arg)
{
    struct range rs[MAX_OVERLAP];
    uintptr_t end = addr + len;
    size_t n = ranges_overlapping(addr, len, rs, MAX_OVERLAP);
    if (n > MAX_OVERLAP)
        return EINVAL;
    if (op == OP_UNMAP)
        for (size_t i = 0; i < n; i++)
            if (rs[i].kind == RANGE_HEAP || rs[i].kind == RANGE_LARGE)
                return EINVAL; /* would pull memory from under malloc */
    uintptr_t at = addr;
    for (size_t i = 0; i <= n; i++) {
        uintptr_t gap_end = i < n ? (rs[i].base > end ? end : rs[i].base) : end;
        if (gap_end > at && sys(( void *)at, gap_end - at, sys_arg) != 0)
            return errno;
        if (i == n)
            break;
        uintptr_t a = rs[i].base > addr ? rs[i].base : addr;
        uintptr_t b = rs[i].base + rs[i].reserved < end ? rs[i].base + rs[i].reserved : end;
        int err = 0;
        if (rs[i].kind == RANGE_RAW) {
            if (sys((void *)a, b - a, sys_arg) != 0)
                err = errno;
        } else if (op == OP_UNMAP) {
            unmap_pages(&rs[i], a, b);
        } else if (op == OP_ZERO) {
            err = zero_pages(a, b);
        } else if (op == OP_PROTECT) {
            err = protect_pages(&rs[i], a, b, prot);
        }
        if (err)
            return err;
        at = rs[i].base + rs[i].reserved;
    }
    return 0;
}

static int sys_munmap(void *a, size_t l, int unused)
{
    (void)unused;
    return preload_sys_munmap(a, l);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (served(prot, flags, fd))
        return map_managed(len, prot);
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && managed_heap_ready() && len) {
        struct range rs[1];
        if (ranges_overlapping((uintptr_t)addr, len, rs, 1)) {
            /* A fixed anonymous mapping over one of our mappings replaces
             * its pages with zero-filled ones; anything else over managed
             * memory is refused. */
            uintptr_t a = (uintptr_t)addr, b = a + ((len + PAGE - 1) & ~(PAGE - 1));
            if ((flags & MAP_FIXED_NOREPLACE) || !(flags & MAP_ANONYMOUS) ||
                (flags & MAP_TYPE) != MAP_PRIVATE || rs[0].kind != RANGE_MAP ||
                a < rs[0].base || b > rs[0].base + rs[0].reserved)
                return fail((flags & MAP_FIXED_NOREPLACE) ? EEXIST : EINVAL);
            vmem_decommit(addr, b - a);
            if ((prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) &&
                vmem_commit(addr, b - a, page_prot(prot)) != 0)
                return fail(ENOMEM);
            ranges_set_bounds(rs[0].base, a < rs[0].lo ? a : rs[0].lo,
                              b > rs[0].hi ? b : rs[0].hi);
            return addr;
        }
    }
    return preload_sys_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));

EXPORT int munmap(void *addr, size_t len)
{
    if (!managed_heap_ready())
        return preload_sys_munmap(addr, len);
    if (((uintptr_t)addr & (PAGE - 1)) || len == 0) {
        errno = EINVAL;
        return -1;
    }
    len = (len + PAGE - 1) & ~(PAGE - 1);
    int err = for_parts((uintptr_t)addr, len, OP_UNMAP, 0, sys_munmap, 0);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

EXPORT int madvise(void *addr, size_t len, int advice)
{
    if (!managed_heap_ready() || len == 0 || ((uintptr_t)addr & (PAGE - 1)))
        return preload_sys_madvise(addr, len, advice);
    len = (len + PAGE - 1) & ~(PAGE - 1);
    enum op op = advice == MADV_DONTNEED || advice == MADV_FREE ? OP_ZERO : OP_IGNORE;
    int err = for_parts((uintptr_t)addr, len, op, 0, preload_sys_madvise, advice);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
    if (!managed_heap_ready() || len == 0 || ((uintptr_t)addr & (PAGE - 1)))
        return preload_sys_mprotect(addr, len, prot);
    len = (len + PAGE - 1) & ~(PAGE - 1);
    int err = for_parts((uintptr_t)addr, len, OP_PROTECT, prot, preload_sys_mprotect, prot);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

/* The protection of the page at a (committed, managed). */
static int prot_at(uintptr_t a)
{
    struct vmem_region_info info;
    if (vmem_query((void *)a, &info) != 0 || info.state != VMEM_STATE_COMMITTED)
        return PROT_READ | PROT_WRITE;
    switch (info.protect & 0xff) {
    case VMEM_PAGE_NOACCESS: return PROT_NONE;
    case VMEM_PAGE_READONLY: return PROT_READ;
    case VMEM_PAGE_EXECUTE: return PROT_EXEC;
    case VMEM_PAGE_EXECUTE_READ: return PROT_READ | PROT_EXEC;
    case VMEM_PAGE_EXECUTE_READWRITE: return PROT_READ | PROT_WRITE | PROT_EXEC;
    default: return PROT_READ | PROT_WRITE;
    }
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *fixed = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        fixed = va_arg(ap, void *);
        va_end(ap);
    }
    struct range r;
    if (!managed_heap_ready() || !ranges_find((uintptr_t)old, &r) || r.kind == RANGE_RAW)
        return preload_sys_mremap(old, old_len, new_len, flags, fixed);
    uintptr_t a = (uintptr_t)old;
    old_len = (old_len + PAGE - 1) & ~(PAGE - 1);
    size_t nlen = (new_len + PAGE - 1) & ~(PAGE - 1);
    if (r.kind != RANGE_MAP || (a & (PAGE - 1)) || nlen == 0 || nlen < new_len ||
        (flags & ~MREMAP_MAYMOVE) || old_len == 0 || a + old_len > r.base + r.reserved)
        return fail(EINVAL); /* MREMAP_FIXED/DONTUNMAP on managed memory: not supported */
    if (nlen <= old_len) {
        if (nlen < old_len)
            munmap((void *)(a + nlen), old_len - nlen);
        return old;
    }
    if (!(flags & MREMAP_MAYMOVE))
        return fail(ENOMEM);
    int prot = prot_at(a);
    void *n = map_managed(nlen, PROT_READ | PROT_WRITE);
    if (n == MAP_FAILED)
        return n;
    memcpy(n, old, old_len);
    if (prot != (PROT_READ | PROT_WRITE))
        mprotect(n, nlen, prot);
    munmap(old, old_len);
    return n;
}
