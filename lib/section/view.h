/*
 * section/view.h -- views of sections: mapped into a reservation of the
 * address space (a region flagged REGION_VIEW, so VirtualQuery,
 * VirtualProtect, VirtualAlloc(MEM_COMMIT) and VirtualFree see it), the
 * kernel serving their pages from the section's memory.  A shared view
 * of a paged page-file section is paged by libvmem under the resident cap
 * (section/vpage.h); a file's views stay the kernel's page cache.
 */
#ifndef VMEM_SECTION_VIEW_H
#define VMEM_SECTION_VIEW_H

#include "core/region.h"
#include "section/section.h"
#include "section/vpage.h"

#include <stddef.h>
#include <stdint.h>

struct view {
    struct section *sec;
    uint64_t offset;      /* into the section */
    uint32_t max_protect; /* PAGE_READONLY, PAGE_READWRITE or PAGE_WRITECOPY
                             (or an execute form, or PAGE_NOACCESS): the
                             view's AllocationProtect and ceiling */
    int private;          /* FILE_MAP_COPY: MAP_PRIVATE */
    struct vpage_view *vp; /* paged (vpage.h), or NULL */
};

/* Maps `size` bytes (page-rounded) of s from `offset` with view protection
 * `protect` (private: copy-on-write) at `addr` (0: anywhere), 64 KiB
 * aligned.  On success the view keeps the reference to s the caller
 * holds; on failure the caller still has it.  0 and *base, or EEXIST
 * (addr in use), ENOMEM, or another errno value.  No lock held. */
int view_map(struct section *s, uint64_t offset, size_t size, uint32_t protect, int private,
             uintptr_t addr, uintptr_t *base);

/* Unmaps the view holding addr and drops its reference; EFAULT if addr is
 * not in a view.  No lock held. */
int view_unmap(uintptr_t addr);

/* Writes the modified pages of a file view's [addr, addr+len) (len 0: to
 * the view's end) to its file, and waits for them; nothing to do for a
 * page-file or copy-on-write view.  EFAULT: not a view.  No lock held. */
int view_flush(uintptr_t addr, size_t len);

/* The protection to store for a view page (the copy-on-write forms
 * allowed), or 0 if `p` is not valid. */
uint32_t view_prot_check(uint32_t p);

/* 1 if protection p (view_prot_check'ed) may be set on view region r's
 * pages, by Windows' rule: the view's own protection, or one within both
 * the view's and the section's rights; never a copy-on-write form on a
 * shared view (docs/api.md).  as_lock held. */
int view_allows(const struct region *r, uint32_t p);

/* After a commit of pages [first, end) of view region r: the same pages of
 * the section are committed in this process's other views of it, with each
 * view's own protection (a SEC_RESERVE section's pages are committed in
 * the section, not in one view).  as_lock exclusive. */
void view_committed(const struct region *r, size_t first, size_t end);

#endif
