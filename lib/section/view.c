/*
 * section/view.c -- views (section/view.h): a reservation like any other
 * in the region table, flagged REGION_VIEW, whose pages are a MAP_SHARED
 * (or, copy-on-write, MAP_PRIVATE) mapping of the section's memory.  The
 * page table holds each page's state (committed, or reserved in a
 * SEC_RESERVE view) and protection, so VirtualQuery and VirtualProtect
 * work on views unchanged; api/addrspace.c asks view_allows before a
 * protection change or a commit, and refuses to decommit or release them.
 */
#include "section/view.h"
#include "core/internal_alloc.h"
#include "core/prot.h"
#include "core/runtime.h"
#include "os/mapview.h"
#include "os/vm.h"

#include <errno.h>
#include <sys/mman.h>

#define VIEW_BIG_ALIGN ((size_t)2 << 20)

/* What a protection grants, as Windows weighs a view's protections: read,
 * write, copy-on-write, execute.  PAGE_WRITECOPY grants no more than
 * PAGE_READONLY, PAGE_EXECUTE as much as PAGE_EXECUTE_READ, and
 * PAGE_EXECUTE_READWRITE copy-on-write too (Wine's tests of Windows). */
#define R 1u
#define W 2u
#define C 4u
#define X 8u

static unsigned rights(uint32_t p)
{
    switch (p & 0xFFu) {
    case WPROT_READONLY:
    case WPROT_WRITECOPY:         return R;
    case WPROT_READWRITE:         return R | W;
    case WPROT_EXECUTE:
    case WPROT_EXECUTE_READ:      return R | X;
    case WPROT_EXECUTE_READWRITE: return R | W | C | X;
    case WPROT_EXECUTE_WRITECOPY: return R | C | X;
    default:                      return 0;
    }
}

uint32_t view_prot_check(uint32_t p)
{
    uint32_t base = p & 0xFFu;
    if (base == WPROT_WRITECOPY || base == WPROT_EXECUTE_WRITECOPY) {
        uint32_t as = (p & ~0xFFu) |
                      (base == WPROT_WRITECOPY ? WPROT_READWRITE : WPROT_EXECUTE_READWRITE);
        return prot_check(as) ? (prot_check(as) & ~0xFFu) | base : 0;
    }
    return prot_check(p);
}

int view_allows(const struct region *r, uint32_t p)
{
    const struct view *v = r->owner;
    uint32_t base = p & 0xFFu;
    /* a page of a shared mapping cannot become copy-on-write alone
     * (docs/api.md, "Differences from Windows") */
    if (!v->private && (base == WPROT_WRITECOPY || base == WPROT_EXECUTE_WRITECOPY))
        return 0;
    /* Windows: the view's own protection again, or one within both the
     * view's and the section's */
    unsigned want = rights(p), view = rights(v->max_protect), sec = rights(v->sec->protect);
    if (want == view)
        return 1;
    return view && (want & view) == want && (want & sec) == want;
}

static int bit(const uint8_t *map, uint64_t page)
{
    return (map[page / 8] >> (page % 8)) & 1;
}

/* A new view of a SEC_RESERVE section: the pages already committed in
 * the section are committed in it.  as_lock exclusive. */
static int commit_known(struct region *r, const struct section *s)
{
    const struct view *v = r->owner;
    uint64_t first = v->offset / PAGE_SZ;
    for (size_t i = 0; i < r->npages; i++) {
        if (!bit(s->committed, first + i))
            continue;
        size_t j = i + 1;
        while (j < r->npages && bit(s->committed, first + j))
            j++;
        int err = pte_alloc_range(&r->ptes, i, j);
        if (!err)
            err = vm_protect(region_addr(r, i), (j - i) * PAGE_SZ,
                             prot_to_posix(r->alloc_protect));
        if (err)
            return err;
        for (size_t k = i; k < j; k++) {
            struct pte *p = pte_get(&r->ptes, k);
            p->state = PTE_COMMITTED;
            p->prot = (uint16_t)r->alloc_protect;
        }
        i = j;
    }
    return 0;
}

int view_map(struct section *s, uint64_t offset, size_t size, uint32_t protect, int private,
             uintptr_t addr, uintptr_t *base)
{
    size_t psize = round_up(size, PAGE_SZ), span = round_up(size, GRAN_SZ);
    if (psize < size || span < size)
        return ENOMEM;
    uintptr_t b;
    struct view *v = NULL;
    struct region *r = NULL;
    /* The address first: the bookkeeping below maps memory of its own,
     * which must not land where the caller asked for the view. */
    /* A large view anywhere starts on 2 MiB, as the kernel places a large
     * file mapping, so it can map the page cache's large folios whole
     * (bench_section: reads twice as fast as on 64 KiB alone). */
    size_t align = !addr && span >= VIEW_BIG_ALIGN ? VIEW_BIG_ALIGN : GRAN_SZ;
    as_lock_exclusive();
    int err = vm_reserve(addr, span, align, addr != 0, &b);
    if (err) {
        as_unlock();
        return err;
    }
    err = ENOMEM;
    if (!(v = ialloc_pages(sizeof(*v))) || !(r = ialloc_pages(sizeof(*r))))
        goto fail;
    v->sec = s;
    v->offset = offset;
    v->max_protect = protect;
    v->private = private;
    static uint64_t next_id;
    r->base = b;
    r->size = psize;
    r->span = span;
    r->npages = psize / PAGE_SZ;
    /* ids of views stay apart from those of api/addrspace.c's reservations */
    r->id = (1ull << 63) | __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    r->alloc_protect = protect;
    r->flags = REGION_VIEW;
    r->owner = v;
    if ((err = pte_table_init(&r->ptes, r->npages)) != 0)
        goto fail;
    int committed = !s->reserve;
    if (committed) {
        if ((err = pte_alloc_range(&r->ptes, 0, r->npages)) != 0)
            goto fail_table;
        for (size_t i = 0; i < r->npages; i++) {
            struct pte *p = pte_get(&r->ptes, i);
            p->state = PTE_COMMITTED;
            p->prot = (uint16_t)protect;
        }
    }
    /* A SEC_RESERVE view is mapped inaccessible: a commit (vmem_commit)
     * then only changes the protection.  A paged section's view stays
     * inaccessible until it is registered (or pinned): a read through the
     * shared mapping unregistered would put a zero page into the
     * section's memory where a page is out, for every process (a thread
     * may hold a pointer into an earlier view at the same address). */
    int paged = s->vt.hdr != NULL;
    if ((err = os_map_file_at(b, psize, committed && !paged ? prot_to_posix(protect) : PROT_NONE,
                              s->fd, (off_t)(s->data_off + offset), private)) != 0 ||
        (!committed && !paged && (err = commit_known(r, s)) != 0) ||
        (err = region_insert(r)) != 0)
        goto fail_table;
    as_unlock();
    /* registered (or pinned) with no lock held: vpage_lock is never taken
     * under as_lock; then the access the view gives */
    if (paged && (err = vpage_attach(s, offset, b, r->npages, private, &v->vp)) == 0) {
        as_lock_exclusive();
        err = committed ? vm_protect(b, psize, prot_to_posix(protect)) : commit_known(r, s);
        as_unlock();
        if (err) {
            vpage_detach(v->vp);
            v->vp = NULL;
        }
    }
    if (err) {
        as_lock_exclusive();
        vm_unmap(b, span);
        region_remove(r);
        as_unlock();
        pte_table_destroy(&r->ptes);
        ifree_pages(r, sizeof(*r));
        ifree_pages(v, sizeof(*v));
        return err;
    }
    *base = b;
    return 0;

fail_table:
    pte_table_destroy(&r->ptes);
fail:
    vm_unmap(b, span);
    as_unlock();
    if (r)
        ifree_pages(r, sizeof(*r));
    if (v)
        ifree_pages(v, sizeof(*v));
    return err;
}

int view_unmap(uintptr_t addr)
{
    /* a paged view goes first, with no lock held (vpage.h): its range
     * made inaccessible at once, then its counts; one thread only takes
     * that part */
    as_lock_shared();
    struct region *pr = region_find(round_down(addr, PAGE_SZ));
    struct vpage_view *vp = NULL;
    if (pr && (pr->flags & REGION_VIEW))
        vp = __atomic_exchange_n(&((struct view *)pr->owner)->vp, NULL, __ATOMIC_ACQ_REL);
    as_unlock();
    if (vp)
        vpage_detach(vp);
    as_lock_exclusive();
    struct region *r = region_find(round_down(addr, PAGE_SZ));
    if (!r || !(r->flags & REGION_VIEW)) {
        as_unlock();
        return EFAULT;
    }
    struct view *v = r->owner;
    vm_unmap(r->base, r->span);
    region_remove(r);
    as_unlock();
    pte_table_destroy(&r->ptes);
    ifree_pages(r, sizeof(*r));
    section_view_put(v->sec);
    ifree_pages(v, sizeof(*v));
    return 0;
}

int view_flush(uintptr_t addr, size_t len)
{
    uintptr_t a = round_down(addr, PAGE_SZ);
    as_lock_shared();
    struct region *r = region_find(a);
    if (!r || !(r->flags & REGION_VIEW)) {
        as_unlock();
        return EFAULT;
    }
    const struct view *v = r->owner;
    int file = v->sec->file_backed && !v->private;
    uintptr_t end = r->base + r->size;
    if (len && addr + len > addr && round_up(addr + len, PAGE_SZ) < end)
        end = round_up(addr + len, PAGE_SZ);
    as_unlock();
    /* The write-back waits for the disk: without the lock.  An unmap
     * racing it leaves msync nothing (ENOMEM), reported as EFAULT. */
    if (!file)
        return 0;
    int err = os_map_sync(a, end - a);
    return err == ENOMEM ? EFAULT : err;
}

void view_committed(const struct region *r, size_t first, size_t end)
{
    const struct view *v = r->owner;
    uint64_t lo = v->offset + (uint64_t)first * PAGE_SZ, hi = v->offset + (uint64_t)end * PAGE_SZ;
    if (!v->sec->committed)
        return;
    for (uint64_t pg = lo / PAGE_SZ; pg < hi / PAGE_SZ; pg++)
        v->sec->committed[pg / 8] |= (uint8_t)(1u << (pg % 8));
    for (struct region *o = region_next_above(0); o; o = region_next_above(o->base)) {
        const struct view *w = o->owner;
        if (o == r || !(o->flags & REGION_VIEW) || w->sec != v->sec)
            continue;
        uint64_t wlo = w->offset, whi = w->offset + o->size;
        uint64_t a = lo > wlo ? lo : wlo, b = hi < whi ? hi : whi;
        if (a >= b)
            continue;
        size_t i = (size_t)((a - wlo) / PAGE_SZ), j = (size_t)((b - wlo) / PAGE_SZ);
        if (pte_alloc_range(&o->ptes, i, j) != 0)
            continue; /* no memory for its entries: that view commits on its own */
        for (size_t k = i; k < j; k++) {
            struct pte *p = pte_get(&o->ptes, k);
            if (p->state != PTE_RESERVED)
                continue;
            /* the section's page is committed: in each view with the view's
             * own protection, as Windows shows it */
            if (vm_protect(region_addr(o, k), PAGE_SZ, prot_to_posix(o->alloc_protect)) != 0)
                continue;
            p->state = PTE_COMMITTED;
            p->prot = (uint16_t)o->alloc_protect;
        }
    }
}
