/*
 * fork_paging.h -- a forked child and the parent's paged-out memory.
 */
#ifndef VMEM_FORK_PAGING_H
#define VMEM_FORK_PAGING_H

#include "fault/sigchain.h"

#include <pthread.h>
#include <stddef.h>

struct region;

/* pthread_atfork handlers' part: prepare takes every lock of the library
 * below init_lock (docs/architecture.md has the order), the parent's and the
 * child's handler release them (in the child, as_lock is made afresh by the
 * caller afterwards). */
void fork_paging_prepare(void);
void fork_paging_parent(void);
void fork_paging_child(void);

/* Test hook: when set, called by the forking thread between the prepare
 * handler and fork() itself (the window in which the child is not yet
 * registered), with everything prepare takes held. */
extern void (*fork_paging_window_hook)(void);

/* Test hook: when set, called by prepare just before it takes each mutex
 * (not as_lock), with that mutex. */
extern void (*fork_paging_lock_hook)(pthread_mutex_t *m);

/* Parent: ends the page-file hold once every child that may read it has
 * exec'd or exited.  Run by the working-set manager thread, which the
 * first fork under paging asks to (paging_set_periodic). */
void fork_paging_reap(void);

/* Child: 1 if it inherited paged memory it serves itself. */
int fork_child_serves(void);

/* Child: keeps pages of [first, end) whose content is not in memory
 * inaccessible after a protection change (as_lock exclusive). */
void fork_child_reprotect(struct region *r, size_t first, size_t end);

/* Child, SIGSEGV: brings in a page that was trimmed in the parent. */
enum sigchain_verdict fork_child_claim(int sig, siginfo_t *si, void *uctx);

#endif
