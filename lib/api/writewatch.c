/*
 * writewatch.c -- GetWriteWatch/ResetWriteWatch over userfaultfd
 * write-protection.
 *
 * A write-watch region is registered for write-protect faults and its pages
 * are installed write-protected; the first write to a page faults, the
 * fault sets PTE_F_WRITTEN and opens the page (fault.c).  A reset re-arms:
 * write-protect first, then clear the flag, both under as_lock exclusive, so
 * a write racing with the reset either happened before it (and was
 * reported) or faults after it and waits for the lock to be recorded.
 */
#include "api/addrspace.h"
#include "api/init.h"
#include "core/internal_alloc.h"
#include "os/uffd.h"
#include "core/runtime.h"
#include "core/vmem_internal.h"
#include <vmem.h>

#include <errno.h>
#include <string.h>

static int watch_range(void *addr, size_t size, struct region **r, size_t *first,
                       size_t *end)
{
    int err = addrspace_range(addr, size, r, first, end);
    if (err)
        return EINVAL; /* Windows reports a bad range as a bad parameter */
    if (!((*r)->flags & REGION_WRITE_WATCH))
        return EINVAL;
    if (!uses_uffd())
        return ENOTSUP;
    return 0;
}

/* Write-protects page i again and forgets that it was written.  If the
 * protection cannot be set, the page stays marked written (reported again
 * rather than a later write missed). */
static void rearm(struct region *r, size_t i)
{
    struct pte *p = pte_get(&r->ptes, i);
    if (p->state == PTE_RESIDENT) {
        int e = uffd_writeprotect(vmem_rt.uffd, region_addr(r, i), PAGE_SZ, 1);
        if (e) {
            static int told;
            if (!told++)
                vmem_log("write watch: cannot write-protect a page again (%s); it stays "
                         "reported as written", strerror(e));
            return;
        }
    }
    p->flags &= (uint8_t)~PTE_F_WRITTEN;
}

/* The addresses are gathered into library memory under as_lock and copied
 * to the caller's arrays after it is released: those may be managed memory
 * whose fault needs the lock (docs/architecture.md, "Locks"). */
VMEM_API int vmem_write_watch(void *addr, size_t size, int reset, void **addrs,
                              size_t *count)
{
    int err = runtime_ensure();
    if (err)
        return err;
    if (!addrs || !count)
        return EINVAL;
    size_t want = *count, n = 0;
    /* never more than the pages of the range */
    uintptr_t lo = round_down((uintptr_t)addr, PAGE_SZ);
    size_t most = (round_up((uintptr_t)addr + size, PAGE_SZ) - lo) / PAGE_SZ;
    if (size == 0 || (uintptr_t)addr + size < (uintptr_t)addr)
        most = 0;
    if (want > most)
        want = most;
    size_t bytes = round_up((want ? want : 1) * sizeof(void *), PAGE_SZ);
    void **found = ialloc_pages(bytes);
    if (!found)
        return ENOMEM;
    struct region *r;
    size_t first, end;
    if (reset)
        as_lock_exclusive();
    else
        as_lock_shared();
    if ((err = watch_range(addr, size, &r, &first, &end)) != 0)
        goto out;
    for (size_t i = pte_next_present(&r->ptes, first, end); i < end && n < want;
         i = pte_next_present(&r->ptes, i + 1, end)) {
        struct pte *p = pte_get(&r->ptes, i);
        if (!(pte_load_flags(p) & PTE_F_WRITTEN))
            continue;
        found[n++] = (void *)region_addr(r, i);
        if (reset)
            rearm(r, i);
    }
out:
    as_unlock();
    if (!err) {
        memcpy(addrs, found, n * sizeof(void *));
        *count = n;
    }
    ifree_pages(found, bytes);
    return err;
}

VMEM_API int vmem_write_watch_reset(void *addr, size_t size)
{
    int err = runtime_ensure();
    if (err)
        return err;
    struct region *r;
    size_t first, end;
    as_lock_exclusive();
    if ((err = watch_range(addr, size, &r, &first, &end)) == 0) {
        for (size_t i = pte_next_present(&r->ptes, first, end); i < end;
             i = pte_next_present(&r->ptes, i + 1, end))
            if (pte_get(&r->ptes, i)->flags & PTE_F_WRITTEN)
                rearm(r, i);
    }
    as_unlock();
    return err;
}
