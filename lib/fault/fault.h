/*
 * fault.h -- resolving faults on managed memory, wherever they are taken:
 * in the fault thread (fault_thread.c) or in the faulting thread's SIGBUS
 * handler (signal mode).
 */
#ifndef VMEM_FAULT_H
#define VMEM_FAULT_H

#include "core/region.h"
#include "fault/sigchain.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Access kinds: a write-protect fault is known as such in thread mode;
 * in signal mode it is FAULT_WP_UNKNOWN and told apart by trying. */
enum { FAULT_MISSING = 0, FAULT_WP = 1, FAULT_WP_UNKNOWN = 2 };

/* Resolves a fault at addr (takes as_lock shared).  Returns 1 if the
 * address is managed (resolved, or the thread woken to retry and take its
 * SIGSEGV), 0 if not. */
int fault_resolve(uintptr_t addr, int write, int kind);

/* Installs zero-filled pages [first, end) of r that are PTE_COMMITTED, all
 * of one protection, write-protected for a write-watch region.  Caller
 * holds as_lock (either mode).  Returns 0 or errno. */
int fault_populate(struct region *r, size_t first, size_t end);

/* Test hook: the next hard fault that installs more than `pages` pages
 * installs only the first `pages` of them and fails with `err`, as
 * UFFDIO_COPY does part-way under a cgroup memory limit.  err 0: off.
 * Returns the error armed before (0 once a fault has used it). */
int fault_test_stop_install(size_t pages, int err);

/* Keeps pages [first, first + n) of r, claimed (INSTALLING) and read into
 * data, on the standby list as prefetched (FRAME_PREFETCHED and `flags`,
 * the first page also `mark`); pages without a frame go back to PAGEDOUT.  as_lock
 * shared.  Returns the pages kept.  (fault.c, for readahead.c) */
size_t fault_stash_prefetched(struct region *r, size_t first, size_t n, const uint8_t *data,
                              uint32_t flags, uint32_t mark);

/* SIGBUS claim for signal mode. */
enum sigchain_verdict fault_sigbus_claim(int sig, siginfo_t *si, void *uctx);

/* The section layer's test (async-signal-safe) of a view page lost to an
 * in-page error: its SIGBUS is reported as a private page's is. */
void fault_set_view_inpage(int (*lost)(uintptr_t addr));

/* The fault thread (thread mode). */
int fault_thread_start(void);
void fault_thread_stop(void);
void fault_thread_forget(void); /* in a forked child: it does not exist */

#endif
