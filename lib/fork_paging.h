/*
 * fork_paging.h -- a forked child and the parent's paged-out memory.
 */
#ifndef VMEM_FORK_PAGING_H
#define VMEM_FORK_PAGING_H

#include "sigchain.h"

#include <stddef.h>

struct region;

/* pthread_atfork handlers' paging part; prepare and child run with as_lock
 * held exclusive (prepare) or freshly made (child). */
void fork_paging_prepare(void);
void fork_paging_parent(void);
void fork_paging_child(void);

/* Parent: ends the page-file hold once every child that may read it has
 * exec'd or exited.  Called by the working-set manager thread. */
void fork_paging_reap(void);

/* Child: 1 if it inherited paged memory it serves itself. */
int fork_child_serves(void);

/* Child: keeps pages of [first, end) whose content is not in memory
 * inaccessible after a protection change (as_lock exclusive). */
void fork_child_reprotect(struct region *r, size_t first, size_t end);

/* Child, SIGSEGV: brings in a page that was trimmed in the parent. */
enum sigchain_verdict fork_child_claim(int sig, siginfo_t *si, void *uctx);

#endif
