/*
 * addrspace.c -- the native address-space operations: reserve, commit,
 * decommit, release, protect, query, lock, reset.
 *
 * Every operation validates first and changes nothing when it fails.  Those
 * that change state hold as_lock exclusive for their whole duration, so a
 * fault (as_lock shared) sees a range either before or after the change.
 * Within them the kernel mapping is changed before the software page table
 * where a failure is possible (mprotect may fail for want of VMAs), and
 * restored from the page table if it does.
 */
#include "api/addrspace.h"
#include "api/init.h"
#include "compress/store.h"
#include "paging/cap.h"
#include "paging/release.h"
#include "fault/fork_paging.h"
#include "paging/replacement.h"
#include "fault/fault.h"
#include "core/internal_alloc.h"
#include "os/uffd.h"
#include "pagefile/pagefile.h"
#include "os/time.h"
#include "os/vm.h"
#include "core/prot.h"
#include "core/runtime.h"
#include "fault/sigchain.h"
#include "section/view.h"
#include "core/stats.h"
#include "core/vmem_internal.h"
#include <vmem.h>

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int addrspace_range(const void *addr, size_t size, struct region **rp,
                    size_t *first, size_t *end)
{
    if (size == 0)
        return EINVAL;
    uintptr_t a = (uintptr_t)addr;
    if (a + size < a)
        return EFAULT;
    uintptr_t s = round_down(a, PAGE_SZ), e = round_up(a + size, PAGE_SZ);
    struct region *r = region_find(s);
    if (!r || e > r->base + r->size || e < s)
        return EFAULT;
    *rp = r;
    *first = region_page(r, s);
    *end = region_page(r, e);
    return 0;
}

int addrspace_all_committed(const struct region *r, size_t first, size_t end)
{
    for (size_t i = first; i < end; i++) {
        const struct pte *p = pte_get(&r->ptes, i);
        if (!p) /* a missing leaf is all reserved */
            return 0;
        if (pte_load_state(p) == PTE_RESERVED) /* may run under the shared lock */
            return 0;
    }
    return 1;
}

static int page_posix_prot(const struct region *r, size_t i)
{
    const struct pte *p = pte_get(&r->ptes, i);
    return p && p->state != PTE_RESERVED ? prot_to_posix(p->prot) : PROT_NONE;
}

/* Re-applies the page table's protections to the kernel over [first, end),
 * one mprotect per run: undoes a partly failed change. */
static void reapply_prot(struct region *r, size_t first, size_t end)
{
    size_t i = first;
    while (i < end) {
        int prot = page_posix_prot(r, i);
        size_t j = i + 1;
        while (j < end && page_posix_prot(r, j) == prot)
            j++;
        vm_protect(region_addr(r, i), (j - i) * PAGE_SZ, prot);
        i = j;
    }
}

/* Counts pages per state over [first, end), skipping absent leaves. */
static void count_states(const struct region *r, size_t first, size_t end,
                         size_t *committed, size_t *resident, size_t *locked)
{
    *committed = *resident = *locked = 0;
    for (size_t i = pte_next_present(&r->ptes, first, end); i < end;) {
        const struct pte *p = pte_get(&r->ptes, i);
        if (!p) {
            i = pte_next_present(&r->ptes, i, end);
            continue;
        }
        *committed += p->state != PTE_RESERVED;
        *resident += p->state == PTE_RESIDENT;
        *locked += (p->flags & PTE_F_LOCKED) != 0;
        i++;
    }
}

/* Takes as_lock exclusive at a moment when no hard fault is reading for the
 * reservation holding addr with the lock released (see fault.c), so pages
 * being paged in are never decommitted or released under it.  While one is,
 * it waits holding nothing: that fault needs the lock back (shared) to
 * finish, and a writer taking the lock again and again would keep it out,
 * the rwlock preferring writers. */
static void lock_exclusive_quiesced(const void *addr)
{
    uintptr_t a = round_down((uintptr_t)addr, PAGE_SZ);
    for (;;) {
        as_lock_exclusive();
        struct region *r = region_find(a);
        if (!r || __atomic_load_n(&r->inflight, __ATOMIC_ACQUIRE) == 0)
            return;
        as_unlock();
        for (int busy = 1; busy;) {
            os_nap_ns(20 * 1000);
            as_lock_shared();
            r = region_find(a);
            busy = r && __atomic_load_n(&r->inflight, __ATOMIC_ACQUIRE) != 0;
            as_unlock();
        }
    }
}

/* ---- reserve / release ----------------------------------------------- */

static int map_space(uintptr_t addr, size_t span, uint32_t flags, uintptr_t *base)
{
    if (addr) {
        if (!is_aligned(addr, GRAN_SZ) || addr < GRAN_SZ || addr + span < addr ||
            addr + span > VM_USER_MAX + 1)
            return EFAULT;
        int err = vm_reserve(addr, span, GRAN_SZ, 1, base);
        return err == EEXIST ? EFAULT : err;
    }
    if (flags & VMEM_RESERVE_TOP_DOWN) {
        /* Another thread may map into the gap between finding and mapping
         * it: look again a few times before settling for any address. */
        for (int tries = 0; tries < 4; tries++) {
            uintptr_t at;
            if (vm_find_top_gap(span, GRAN_SZ, &at))
                break;
            if (vm_reserve(at, span, GRAN_SZ, 1, base) == 0)
                return 0;
        }
    }
    return vm_reserve(0, span, GRAN_SZ, 0, base);
}

VMEM_API int vmem_reserve(void *addr, size_t size, uint32_t flags, uint32_t protect,
                          void **base_out)
{
    int err = runtime_ensure();
    if (err)
        return err;
    if (size == 0 || (flags & ~(VMEM_RESERVE_TOP_DOWN | VMEM_RESERVE_WRITE_WATCH |
                                VMEM_RESERVE_FIXED)) || !prot_check(protect) || !base_out)
        return EINVAL;
    if ((flags & VMEM_RESERVE_FIXED) && !addr)
        return EINVAL;
    if (size > VM_USER_MAX)
        return ENOMEM;
    size_t psize = round_up(size, PAGE_SZ), span = round_up(size, GRAN_SZ);

    struct region *r = ialloc_pages(sizeof(*r));
    if (!r)
        return ENOMEM;
    r->size = psize;
    r->span = span;
    r->npages = psize / PAGE_SZ;
    static uint64_t next_id;
    r->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    r->alloc_protect = prot_check(protect);
    r->flags = (flags & VMEM_RESERVE_WRITE_WATCH) ? REGION_WRITE_WATCH : 0;
    if ((err = pte_table_init(&r->ptes, r->npages)) != 0)
        goto fail_free;

    uintptr_t base;
    as_lock_exclusive();
    if ((err = map_space((uintptr_t)addr, span, flags, &base)) != 0)
        goto fail_unlock;
    r->base = base;
    if (uses_uffd()) {
        /* Write-protect faults serve write watch and dirty tracking for
         * paging, so every region gets them when the kernel has them. */
        int have_wp = (vmem_rt.uffd_have & UFFD_HAVE_WP) != 0;
        err = (r->flags & REGION_WRITE_WATCH) && !have_wp
                  ? ENOTSUP : uffd_register(vmem_rt.uffd, base, r->size, have_wp);
        if (err) {
            vm_unmap(base, span);
            goto fail_unlock;
        }
    }
    if ((err = region_insert(r)) != 0) {
        vm_unmap(base, span);
        goto fail_unlock;
    }
    ctr_add(&vmem_ctr.reserved_pages, r->npages);
    ctr_add(&vmem_ctr.regions, 1);
    as_unlock();
    *base_out = (void *)base;
    return 0;

fail_unlock:
    as_unlock();
    pte_table_destroy(&r->ptes);
fail_free:
    ifree_pages(r, sizeof(*r));
    return err;
}

/* Frees the standby frames and page-file slots of [first, end), each run
 * of consecutive slots in one call (one hole punched, not one per page). */
static void forget_pages(struct region *r, size_t first, size_t end)
{
    uint32_t run = 0;
    size_t len = 0;
    for (size_t i = pte_next_present(&r->ptes, first, end); i < end;
         i = pte_next_present(&r->ptes, i + 1, end)) {
        if (pte_get(&r->ptes, i)->state == PTE_RESIDENT)
            replacement_forget(r, i);
        uint32_t s = paging_forget(pte_get(&r->ptes, i));
        if (!s)
            continue;
        if (len && s == run + len) {
            len++;
            continue;
        }
        if (len)
            pagefile_free(run, len);
        run = s;
        len = 1;
    }
    if (len)
        pagefile_free(run, len);
}

void addrspace_drop_region(struct region *r)
{
    if (r->flags & REGION_VIEW) {
        /* at shutdown: a view counts in none of the counters below; its
         * record and its section's reference stay (section_lock is never
         * taken under as_lock) */
        vm_unmap(r->base, r->span);
        region_remove(r);
        pte_table_destroy(&r->ptes);
        ifree_pages(r, sizeof(*r));
        return;
    }
    size_t committed, resident, locked;
    count_states(r, 0, r->npages, &committed, &resident, &locked);
    forget_pages(r, 0, r->npages);
    vm_unmap(r->base, r->span);
    region_remove(r);
    ctr_sub(&vmem_ctr.commit_charge, committed);
    ctr_sub(&vmem_ctr.working_set, resident);
    ctr_sub(&vmem_ctr.reserved_pages, r->npages);
    ctr_sub(&vmem_ctr.regions, 1);
    pte_table_destroy(&r->ptes);
    ifree_pages(r, sizeof(*r));
}

VMEM_API int vmem_release(void *base)
{
    int err = runtime_ensure();
    if (err)
        return err;
    lock_exclusive_quiesced(base);
    struct region *r = region_find((uintptr_t)base);
    if (!r || r->base != (uintptr_t)base) {
        as_unlock();
        return EFAULT;
    }
    if (r->flags & REGION_VIEW) {
        as_unlock();
        return EINVAL; /* a view goes with UnmapViewOfFile, as on Windows */
    }
    addrspace_drop_region(r);
    as_unlock();
    return 0;
}

/* ---- commit / decommit ------------------------------------------------ */

VMEM_API int vmem_commit(void *addr, size_t size, uint32_t protect)
{
    int err = runtime_ensure();
    if (err)
        return err;
    /* the copy-on-write forms pass only to be refused the way Windows
     * refuses them: by the view below, else as a bad protection */
    uint32_t prot = view_prot_check(protect);
    int copy_form = prot && !prot_check(protect);
    if (!prot)
        return EINVAL;
    struct region *r;
    size_t first, end;
    as_lock_exclusive();
    if ((err = addrspace_range(addr, size, &r, &first, &end)) != 0) {
        if (copy_form)
            err = EINVAL;
        goto out;
    }
    int view = (r->flags & REGION_VIEW) != 0;
    if (view && ((const struct view *)r->owner)->sec->file_backed) {
        /* Windows: a file's view is committed by the file; a page-file
         * view takes the commit as a protection change */
        err = EACCES;
        goto out;
    }
    if (copy_form || (view && !view_allows(r, prot))) {
        err = EINVAL; /* beyond the view's access */
        goto out;
    }
    if ((err = pte_alloc_range(&r->ptes, first, end)) != 0)
        goto out;
    /* Commit charge, as on Windows: every committed page must have a place
     * (RAM under the cap, or the page file), so a commit beyond that fails
     * now instead of a page being lost later.  A view's pages have theirs:
     * the section's memory. */
    size_t committed, resident, locked;
    count_states(r, first, end, &committed, &resident, &locked);
    uint64_t charge = __atomic_load_n(&vmem_ctr.commit_charge, __ATOMIC_RELAXED);
    if (!view && charge + (end - first - committed) > paging_commit_limit()) {
        err = ENOSPC;
        goto out;
    }
    if ((err = vm_protect(region_addr(r, first), (end - first) * PAGE_SZ,
                          prot_to_posix(prot))) != 0) {
        reapply_prot(r, first, end);
        err = ENOMEM;
        goto out;
    }
    size_t added = 0;
    for (size_t i = first; i < end; i++) {
        struct pte *p = pte_get(&r->ptes, i);
        if (p->state == PTE_RESERVED) {
            p->state = PTE_COMMITTED;
            added++;
        }
        p->prot = (uint16_t)prot;
    }
    fork_child_reprotect(r, first, end);
    if (!view)
        ctr_gauge_add(&vmem_ctr.commit_charge, &vmem_ctr.peak_commit_charge, added);
    else
        view_committed(r, first, end);
out:
    as_unlock();
    if (!err && (prot & WPROT_GUARD))
        sigchain_ensure(SIGSEGV);
    return err;
}

VMEM_API int vmem_decommit(void *addr, size_t size)
{
    int err = runtime_ensure();
    if (err)
        return err;
    struct region *r;
    size_t first, end;
    lock_exclusive_quiesced(addr);
    if ((err = addrspace_range(addr, size, &r, &first, &end)) != 0)
        goto out;
    if (r->flags & REGION_VIEW) {
        err = EINVAL; /* as on Windows: a view's pages are the section's */
        goto out;
    }
    uintptr_t a = region_addr(r, first);
    size_t len = (end - first) * PAGE_SZ;
    size_t committed, resident, locked;
    count_states(r, first, end, &committed, &resident, &locked);
    if (committed == 0)
        goto out; /* nothing to do: decommitting reserved pages is fine */
    /* DONTNEED refuses locked pages, and drops a range mapping by mapping:
     * one the application mlock()ed itself (unknown to the table) would
     * fail it after the pages before were dropped.  Decommit discards the
     * contents whatever the locks, as VirtualFree does. */
    if ((err = vm_unlock(a, len)) != 0)
        goto out;
    /* No access first, so nothing re-populates a page between the two.  If
     * the contents cannot be dropped, the pages stay committed: a recommit
     * must never show old data. */
    if ((err = vm_protect(a, len, PROT_NONE)) != 0 || (err = vm_discard(a, len)) != 0) {
        vmem_log("decommit of %zu bytes at %#lx failed: %s", len, (unsigned long)a,
                 strerror(err));
        reapply_prot(r, first, end);
        err = ENOMEM;
        goto out;
    }
    forget_pages(r, first, end);
    for (size_t i = pte_next_present(&r->ptes, first, end); i < end;
         i = pte_next_present(&r->ptes, i + 1, end)) {
        struct pte *p = pte_get(&r->ptes, i);
        p->state = PTE_RESERVED;
        p->flags = 0;
        p->prot = 0;
    }
    r->locked_pages -= locked;
    ctr_sub(&vmem_ctr.commit_charge, committed);
    ctr_sub(&vmem_ctr.working_set, resident);
out:
    as_unlock();
    return err;
}

/* ---- protect / query ---------------------------------------------------- */

VMEM_API int vmem_protect(void *addr, size_t size, uint32_t protect, uint32_t *old)
{
    int err = runtime_ensure();
    if (err)
        return err;
    uint32_t prot = view_prot_check(protect);
    int copy_form = prot && !prot_check(protect); /* copy-on-write: views only */
    if (!prot || !old)
        return EINVAL;
    struct region *r;
    size_t first, end;
    uint32_t was = 0;
    as_lock_exclusive();
    if ((err = addrspace_range(addr, size, &r, &first, &end)) != 0) {
        if (copy_form)
            err = EINVAL; /* an invalid protection outside views, whatever the range */
        goto out;
    }
    if ((r->flags & REGION_VIEW) ? !view_allows(r, prot) : copy_form) {
        err = EINVAL;
        goto out;
    }
    if (!addrspace_all_committed(r, first, end)) {
        err = EFAULT;
        goto out;
    }
    if ((err = vm_protect(region_addr(r, first), (end - first) * PAGE_SZ,
                          prot_to_posix(prot))) != 0) {
        reapply_prot(r, first, end);
        err = ENOMEM;
        goto out;
    }
    was = pte_get(&r->ptes, first)->prot;
    for (size_t i = first; i < end; i++)
        pte_get(&r->ptes, i)->prot = (uint16_t)prot;
    fork_child_reprotect(r, first, end);
out:
    as_unlock();
    if (!err)
        *old = was; /* caller memory: only with the lock released */
    if (!err && (prot & WPROT_GUARD))
        sigchain_ensure(SIGSEGV);
    return err;
}

/* The state-and-protection key VirtualQuery groups pages by. */
static uint32_t query_key(const struct region *r, size_t i)
{
    const struct pte *p = pte_get(&r->ptes, i);
    if (!p || pte_load_state(p) == PTE_RESERVED) /* faults may change it */
        return 0;
    return 0x10000u | p->prot;
}

/* Describes memory that is not in a reservation, from /proc/self/maps;
 * `limit` (the next reservation's base, or 0) bounds the run.  A reservation
 * tail (the rest of its last granule) reads as free, as on Windows. */
static int query_foreign(uintptr_t a, uintptr_t limit, int in_tail,
                         struct vmem_region_info *info)
{
    struct vm_mapping m;
    uintptr_t next = 0;
    memset(info, 0, sizeof(*info));
    info->base = (void *)a;
    int err = in_tail ? ENOENT : vm_find_mapping(a, &m, &next);
    if (err == 0) {
        info->allocation_base = (void *)m.start;
        info->allocation_size = m.end - m.start;
        info->allocation_protect = prot_from_posix(m.prot);
        info->protect = info->allocation_protect;
        info->state = VMEM_STATE_COMMITTED;
        info->type = !m.file_backed ? VMEM_TYPE_PRIVATE
                     : (m.prot & PROT_EXEC) ? VMEM_TYPE_IMAGE : VMEM_TYPE_MAPPED;
        next = m.end;
    } else if (err == ENOENT) {
        info->state = VMEM_STATE_FREE;
        info->protect = WPROT_NOACCESS;
        if (in_tail)
            next = limit;
        else if (!next || next > VM_USER_MAX)
            next = VM_USER_MAX + 1;
    } else {
        return err;
    }
    if (limit && limit > a && next > limit)
        next = limit;
    info->size = next - a;
    return 0;
}

VMEM_API int vmem_query(const void *addr, struct vmem_region_info *info)
{
    int err = runtime_ensure();
    if (err)
        return err;
    if (!info)
        return EINVAL;
    uintptr_t a = round_down((uintptr_t)addr, PAGE_SZ);
    if (a > VM_USER_MAX)
        return EINVAL;
    as_lock_shared();
    struct region *r = region_find(a);
    if (!r) {
        struct region *tail = region_find_span(a);
        struct region *above = region_next_above(a);
        uintptr_t limit = tail ? tail->base + tail->span : above ? above->base : 0;
        as_unlock();
        return query_foreign(a, limit, tail != NULL, info);
    }
    size_t i = region_page(r, a), j = i + 1;
    uint32_t key = query_key(r, i);
    while (j < r->npages) {
        if (key == 0 && !r->ptes.dir[j >> LEAF_SHIFT]) {
            j = pte_next_present(&r->ptes, j, r->npages); /* all reserved */
            continue;
        }
        if (query_key(r, j) != key)
            break;
        j++;
    }
    /* filled in here and copied with the lock released: caller memory */
    struct vmem_region_info out = {
        .base = (void *)a,
        .size = (j - i) * PAGE_SZ,
        .allocation_base = (void *)r->base,
        .allocation_size = r->size,
        .allocation_protect = r->alloc_protect,
        .state = key ? VMEM_STATE_COMMITTED : VMEM_STATE_RESERVED,
        .type = (r->flags & REGION_VIEW) ? VMEM_TYPE_MAPPED : VMEM_TYPE_PRIVATE,
        .protect = key & 0xFFFFu,
        .managed = 1,
    };
    as_unlock();
    *info = out;
    return 0;
}

/* ---- lock / unlock --------------------------------------------------------- */

/* VirtualLock of view pages [first, end) of r (as_lock exclusive, let go
 * here): locked first, so that trimming leaves them (a locked page refuses
 * MADV_DONTNEED), then faulted in with no lock held -- a view's faults are
 * served by the view fault thread, which may have to wait for the
 * working-set manager to make room, and the manager needs as_lock. */
static int lock_view(struct region *r, size_t first, size_t end, uintptr_t a, size_t len)
{
    if (vm_lock_on_fault(a, len) != 0) {
        as_unlock();
        return EDQUOT;
    }
    size_t newly = 0;
    for (size_t i = first; i < end; i++) {
        struct pte *p = pte_get(&r->ptes, i);
        if (!(p->flags & PTE_F_LOCKED)) {
            p->flags |= PTE_F_LOCKED;
            r->locked_pages++;
            newly++;
        }
    }
    as_unlock();
    if (vm_populate(a, len, 0) == 0)
        return 0;
    /* Not all in (the view unmapped meanwhile, or no memory): if this call
     * locked every page of the range and the view is still there, undo it,
     * as a failed VirtualLock locks nothing (pages locked before stay). */
    as_lock_exclusive();
    struct region *now;
    size_t f2, e2;
    if (newly == end - first && addrspace_range((void *)a, len, &now, &f2, &e2) == 0 &&
        now == r && (r->flags & REGION_VIEW)) {
        vm_unlock(a, len);
        for (size_t i = first; i < end; i++) {
            struct pte *p = pte_get(&r->ptes, i);
            if (p->flags & PTE_F_LOCKED) {
                p->flags &= (uint8_t)~PTE_F_LOCKED;
                r->locked_pages--;
            }
        }
    }
    as_unlock();
    return ENOMEM;
}

VMEM_API int vmem_lock(void *addr, size_t size)
{
    int err = runtime_ensure();
    if (err)
        return err;
    struct region *r;
    size_t first, end;
    as_lock_exclusive();
    if ((err = addrspace_range(addr, size, &r, &first, &end)) != 0)
        goto out;
    if (!addrspace_all_committed(r, first, end)) {
        err = EFAULT;
        goto out;
    }
    /* Page by page, as Windows probes them: a guard page is lifted (a
     * one-shot guard met by the lock) and the call fails with EAGAIN, so the
     * next call goes on; an inaccessible page fails it. */
    for (size_t i = first; i < end; i++) {
        struct pte *p = pte_get(&r->ptes, i);
        if (p->prot & WPROT_GUARD) {
            uint16_t prot = p->prot & (uint16_t)~WPROT_GUARD;
            err = vm_protect(region_addr(r, i), PAGE_SZ, prot_to_posix(prot)) ? ENOMEM : EAGAIN;
            if (err == EAGAIN) {
                p->prot = prot;
                fork_child_reprotect(r, i, i + 1);
            }
            goto out;
        }
        if ((p->prot & 0xFF) == WPROT_NOACCESS) {
            err = EACCES;
            goto out;
        }
    }
    uintptr_t a = region_addr(r, first);
    size_t len = (end - first) * PAGE_SZ;
    if (r->flags & REGION_VIEW)
        return lock_view(r, first, end, a, len); /* lets go of as_lock */
    /* Populate without the kernel faulting on managed memory under
     * as_lock (docs/architecture.md, "Locks"): install the pages
     * ourselves, then lock what is present. */
    if (uses_uffd())
        err = fault_populate(r, first, end);
    else
        err = vm_populate(a, len, 0);
    if (err) {
        err = ENOMEM;
        goto out;
    }
    if (vm_lock_on_fault(a, len) != 0) {
        err = EDQUOT;
        goto out;
    }
    for (size_t i = first; i < end; i++) {
        struct pte *p = pte_get(&r->ptes, i);
        if (!(p->flags & PTE_F_LOCKED)) {
            p->flags |= PTE_F_LOCKED;
            r->locked_pages++;
        }
    }
out:
    as_unlock();
    return err;
}

VMEM_API int vmem_unlock(void *addr, size_t size)
{
    int err = runtime_ensure();
    if (err)
        return err;
    struct region *r;
    size_t first, end;
    as_lock_exclusive();
    if ((err = addrspace_range(addr, size, &r, &first, &end)) != 0)
        goto out;
    if (!addrspace_all_committed(r, first, end)) {
        err = EFAULT;
        goto out;
    }
    for (size_t i = first; i < end; i++) {
        if (!(pte_get(&r->ptes, i)->flags & PTE_F_LOCKED)) {
            err = ENOLCK;
            goto out;
        }
    }
    vm_unlock(region_addr(r, first), (end - first) * PAGE_SZ);
    for (size_t i = first; i < end; i++)
        pte_get(&r->ptes, i)->flags &= (uint8_t)~PTE_F_LOCKED;
    r->locked_pages -= end - first;
out:
    as_unlock();
    return err;
}

/* ---- MEM_RESET / MEM_RESET_UNDO ------------------------------------------- */

VMEM_API int vmem_reset(void *addr, size_t size)
{
    int err = runtime_ensure();
    if (err)
        return err;
    struct region *r;
    size_t first, end;
    as_lock_exclusive();
    /* Pages only reserved are skipped, as Windows does: nothing to reset. */
    if ((err = addrspace_range(addr, size, &r, &first, &end)) != 0)
        goto out;
    /* Without userfaultfd a dropped page could not be detected by the undo,
     * so the contents are simply kept (MEM_RESET promises nothing). */
    if (!uses_uffd() || (r->flags & REGION_VIEW)) /* a view's pages are the section's */
        goto out;
    /* a page in the compressed store: its content is not wanted, so its
     * entry and slot go now and it reads as zeros, lost to MEM_RESET_UNDO
     * as a page the kernel reclaimed; absent leaves are skipped whole */
    for (size_t k = pte_next_present(&r->ptes, first, end); k < end;) {
        struct pte *p = pte_get(&r->ptes, k);
        if (!p) {
            k = pte_next_present(&r->ptes, k + 1, end);
            continue;
        }
        if (p->state == PTE_COMPRESSED && !(p->flags & PTE_F_LOCKED)) {
            pagefile_free(store_release(p->slot), 1);
            p->slot = 0;
            p->flags = (uint8_t)((p->flags | PTE_F_RESET | PTE_F_RESET_LOST) & ~PTE_F_DIRTY);
            p->state = PTE_COMMITTED;
        }
        k++;
    }
    /* runs of eligible pages, and of the others; absent leaves (all
     * reserved) are skipped whole */
    size_t i = pte_next_present(&r->ptes, first, end);
    while (i < end) {
        struct pte *p = pte_get(&r->ptes, i);
        int eligible = p->state == PTE_RESIDENT && !(p->flags & PTE_F_LOCKED);
        size_t j = i + 1;
        for (; j < end; j++) {
            const struct pte *q = pte_get(&r->ptes, j);
            if (!q || (q->state == PTE_RESIDENT && !(q->flags & PTE_F_LOCKED)) != eligible)
                break;
        }
        if (eligible) {
            for (size_t k = i; k < j; k++) {
                struct pte *q = pte_get(&r->ptes, k);
                paging_unstore(q); /* the kernel may drop it: no copy kept */
                q->flags = (uint8_t)((q->flags | PTE_F_RESET) & ~PTE_F_RESET_LOST);
            }
            vm_lazy_free(region_addr(r, i), (j - i) * PAGE_SZ);
        }
        i = pte_next_present(&r->ptes, j, end);
    }
out:
    as_unlock();
    return err;
}

/* Makes a writable page written again, so the kernel keeps it: an atomic
 * add of 0 (no write of the application's can be lost).  If the kernel
 * reclaimed it, the fault this takes brings it back as zeros and marks it
 * PTE_F_RESET_LOST.  Without as_lock: the touch may fault. */
static void redirty(uintptr_t a)
{
    __atomic_fetch_add((volatile uint8_t *)a, 0, __ATOMIC_RELAXED);
}

/* A MEM_RESET page the application cannot write is kept by replacing it
 * with a copy of itself: read through /proc/self/mem (FOLL_FORCE, and a
 * reclaimed page fails the read instead of faulting), dropped, and
 * installed anew with UFFDIO_COPY -- write-protected, so dirty tracking and
 * write watch still see its next write.  A page reclaimed or unreadable
 * comes back as zeros and is marked lost (the undo then fails for it, as on
 * Windows).  Returns 0, or 1 if the page was left absent (the install
 * failed): it must stay PTE_F_RESET so its next touch installs zeros
 * instead of faulting forever.  as_lock exclusive. */
static int keep_unwritable(struct region *r, size_t i, int memfd, void *buf)
{
    struct pte *p = pte_get(&r->ptes, i);
    uintptr_t a = region_addr(r, i);
    size_t got = 0, done = 0;
    int lost = memfd < 0 || vm_read_forced(memfd, a, buf, PAGE_SZ, &got) != 0;
    int wp = (vmem_rt.uffd_have & UFFD_HAVE_WP) != 0;
    if (vm_discard(a, PAGE_SZ) == 0 &&
        uffd_copy(vmem_rt.uffd, a, lost ? vmem_rt.zero_buf : buf, PAGE_SZ, wp, &done) == 0) {
        if (lost)
            p->flags |= PTE_F_RESET_LOST | PTE_F_DIRTY;
        return 0;
    }
    if (done == PAGE_SZ)
        return 0;
    p->flags |= PTE_F_RESET_LOST | PTE_F_DIRTY;
    return 1;
}

VMEM_API int vmem_reset_undo(void *addr, size_t size)
{
    int err = runtime_ensure();
    if (err)
        return err;
    struct region *r;
    size_t first, end;
    as_lock_shared();
    err = addrspace_range(addr, size, &r, &first, &end);
    if (!err && !addrspace_all_committed(r, first, end))
        err = EFAULT;
    as_unlock();
    if (err || !uses_uffd())
        return err;

    /* Touch each writable reset page without holding as_lock: the touch
     * may fault, and the fault (which marks the page PTE_F_RESET_LOST if
     * the kernel dropped it) needs the lock. */
    int unwritable = 0;
    for (size_t i = first; i < end; i++) {
        as_lock_shared();
        r = region_find(round_down((uintptr_t)addr, PAGE_SZ));
        const struct pte *p = r && i < r->npages ? pte_get(&r->ptes, i) : NULL;
        int reset = p && (pte_load_flags(p) & PTE_F_RESET);
        int writable = p && prot_is_writable(p->prot) && !(p->prot & WPROT_GUARD);
        uintptr_t a = r ? region_addr(r, i) : 0;
        as_unlock();
        if (reset && writable)
            redirty(a);
        unwritable |= reset && !writable;
    }
    /* the others are copied under the lock, where nothing can fault them */
    int memfd = -1;
    uint8_t *buf = NULL;
    if (unwritable) {
        if (vm_self_open("mem", &memfd) != 0)
            memfd = -1;
        buf = ialloc_block();
    }

    as_lock_exclusive();
    if ((err = addrspace_range(addr, size, &r, &first, &end)) == 0) {
        for (size_t i = first; i < end; i++) {
            struct pte *p = pte_get(&r->ptes, i);
            if (!p)
                continue;
            int absent = 0;
            if ((p->flags & (PTE_F_RESET | PTE_F_RESET_LOST)) == PTE_F_RESET &&
                p->state == PTE_RESIDENT &&
                (!prot_is_writable(p->prot) || (p->prot & WPROT_GUARD)))
                absent = keep_unwritable(r, i, buf ? memfd : -1, buf);
            if (p->flags & PTE_F_RESET_LOST)
                err = EFAULT;
            p->flags &= (uint8_t)~(absent ? PTE_F_RESET_LOST : PTE_F_RESET | PTE_F_RESET_LOST);
        }
    }
    as_unlock();
    vm_self_close(memfd);
    if (buf)
        ifree_block(buf);
    return err;
}
