/*
 * release.h -- freeing standby frames: to the page file (their page becomes
 * PAGEDOUT), or with their page when it leaves the address space.
 */
#ifndef VMEM_RELEASE_H
#define VMEM_RELEASE_H

#include "core/pte.h"

#include <stddef.h>
#include <stdint.h>

/* Frees standby frame f, whose content is in the page file: its page is
 * now PAGEDOUT.  as_lock exclusive. */
void paging_page_out(uint32_t f);

/* A page leaves the address space (decommit, release): frees its standby
 * frame and returns its page-file slot (0 if none) for the caller to free,
 * so that runs are freed (and punched) together.  as_lock exclusive. */
uint32_t paging_forget(struct pte *p);

/* A resident page's copy in the compressed store (its slot PTE_SLOT_STORE
 * | entry; else nothing is done) goes: the entry is freed, the page keeps
 * its page-file slot, and is PTE_F_DIRTY unless that slot holds its
 * content.  as_lock exclusive. */
void paging_unstore(struct pte *p);
/* The same for a page a fault has just made PTE_F_DIRTY (its write),
 * under as_lock shared: of several faults at once, one frees the entry. */
void paging_unstore_written(struct pte *p);

/* Frees up to n clean, idle frames from the oldest; *dirty says whether
 * dirty frames were passed over (the page writer's work).  Returns how
 * many were freed.  Takes as_lock exclusive. */
size_t release_standby(size_t n, int *dirty);
/* The same with as_lock exclusive held by the caller. */
size_t release_standby_locked(size_t n, int *dirty);

#endif
