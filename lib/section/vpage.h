/*
 * section/vpage.h -- paging the views of page-file sections under the
 * resident cap (docs/sections.md, "How it works").
 *
 * A shared view of a paged section (section.h: vt.hdr set) is registered
 * with the views' own userfaultfd for missing and minor faults and served
 * by the view thread; the pages this process maps count in its working set
 * (paging/cap.h) and the working-set manager trims them through
 * vpage_trim.  A page no process maps any more goes to the section's slot
 * file and its RAM is punched out of the section's memory.  Where views
 * cannot be registered (VMEM_FAULT_MODE=kernel, a kernel without
 * UFFD_FEATURE_MINOR_SHMEM) and for copy-on-write views, the view is
 * "pinned": its pages are brought back into the memory at once and held
 * there while it exists.
 *
 * Locks: vpage_lock (vpage.c) guards the list of views, their maps of
 * pages and the trimming hand; it is taken with no other lock of libvmem
 * held (never under as_lock or section_lock, except across fork where the
 * order is section_lock, vpage_lock, then as_lock) and is held while one
 * entry lock of a section's table (vtable.h) is taken.
 */
#ifndef VMEM_SECTION_VPAGE_H
#define VMEM_SECTION_VPAGE_H

#include "section/section.h"

#include <stddef.h>
#include <stdint.h>

struct vpage_view;

/* A view of s (paged: s->vt.hdr != NULL) mapped at base, npages pages from
 * byte `offset` of the section's data; copy: a FILE_MAP_COPY view.  On
 * success *out is the handle for vpage_detach.  EIO/EBADMSG: a page could
 * not be read back (pinned views).  No lock held. */
int vpage_attach(struct section *s, uint64_t offset, uintptr_t base, size_t npages, int copy,
                 struct vpage_view **out);

/* Before a view is unmapped: its range becomes inaccessible reserved
 * space at once (mapping and registration gone, an access is SIGSEGV),
 * then its pages this process mapped are counted down.  The caller then
 * releases the range.  No lock held. */
void vpage_detach(struct vpage_view *v);

/* vmem_shutdown: every view made inaccessible and counted down as by
 * vpage_detach (their records stay for it), the view thread stopped.  A
 * normal exit does less (vpage.c, at_exit): views stay registered and
 * served until the process is gone. */
void vpage_shutdown(void);

/* fork: vpage_lock held across it (after section_lock).  Shared views are
 * MADV_DONTFORK (a child of the raw fork system call has none) but for
 * fork() itself; in the child they are registered afresh (or pinned)
 * before fork() returns. */
void vpage_fork_prepare(void);
void vpage_fork_parent(void);
void vpage_fork_child(void);

/* Tests only: called by the view thread between installing a faulted page
 * and recording it (its state and count), its faulting thread not woken
 * yet.  NULL: none. */
extern void (*vpage_test_installed)(void);
/* Tests only: called as a view of [base, base+len) is attached, before it
 * is registered or pinned.  NULL: none. */
extern void (*vpage_test_attaching)(uintptr_t base, size_t len);

#endif
