/*
 * replacement.h -- the live runtime's replacement policy: one instance of a
 * policy from lib/policy/, fed with what faults show and asked for victims
 * by the working-set manager.
 */
#ifndef VMEM_REPLACEMENT_H
#define VMEM_REPLACEMENT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct region;

/* Starts the policy named `name` (NULL: the default) for a cap of `frames`
 * pages, and tells it every page resident now.  0, or EINVAL with a message
 * listing the valid names.  as_lock exclusive. */
int replacement_start(const char *name, size_t frames, char *err, size_t errlen);
void replacement_stop(void);
int replacement_active(void);

/* Pages [first, first + n) of r became resident (flags: POLICY_PREFETCHED),
 * were written (touch), or left residency other than as victims (forget).
 * Any as_lock mode; cheap when no policy runs. */
void replacement_admit(const struct region *r, size_t first, size_t n, unsigned flags);
void replacement_touch(const struct region *r, size_t i);
void replacement_forget(const struct region *r, size_t i);

/* Up to n victims, as virtual page numbers (address >> 12), in ascending
 * order so that neighbours form runs.  The policy no longer tracks them:
 * the caller gives back with replacement_readmit those that stay resident.
 * as_lock shared or exclusive. */
size_t replacement_victims(uint64_t *vpn, size_t n);
void replacement_readmit(uint64_t vpn);

/* The working-set manager's upkeep, each round (never in a signal handler,
 * no lock held): refills the policy's stock, and if an admission failed for
 * want of memory, admits every resident page again so that none stays
 * unknown to the policy (which would never choose it). */
void replacement_maintain(void);

/* The pages the policy tracks as resident, and the allocations it asked
 * for that its stock could not serve (each left a page untracked or a
 * list unsorted), since the process started.  For tests and statistics. */
void replacement_counts(size_t *tracked, uint64_t *misses);

/* Its lock, for the fork handlers only (fork_paging.c: the order). */
pthread_mutex_t *replacement_fork_lock(void);

#endif
