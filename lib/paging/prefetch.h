/*
 * prefetch.h -- the live runtime's prefetch policy (VMEM_PREFETCH): how
 * many paged-out neighbours a hard fault reads with its page.
 */
#ifndef VMEM_PREFETCH_H
#define VMEM_PREFETCH_H

#include "policy/policy.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* spec: "NAME" or "NAME:N" (NULL or "": the default, with N = `cluster`;
 * cluster 0 or 1 and no spec: none).  0, or EINVAL with a message listing
 * the valid names. */
int prefetch_start(const char *spec, unsigned cluster, char *err, size_t errlen);
void prefetch_stop(void);

/* Checks a spec without starting anything (for option parsing). */
int prefetch_spec_valid(const char *spec, char *err, size_t errlen);

/* The window around virtual page vpn: pages [vpn - *behind, vpn + *ahead]. */
void prefetch_window(uint64_t vpn, unsigned *behind, unsigned *ahead);

/* 1 while a prefetch policy other than "none" is in force: readahead
 * (fault/readahead.c) follows streams only then.  Lock-free. */
int prefetch_reads_ahead(void);

/* A prefetched page was touched (1) or freed untouched (0). */
void prefetch_feedback(int used);

/* n pages read ahead were reached (used 1) or dropped unreached: evidence
 * for the readahead gate (lock-free). */
void prefetch_outcome(size_t n, int used);

/* How soon and how far readahead goes now (policy/readahead_gate.c). */
struct ra_gate prefetch_gate(size_t ahead_max, size_t win_min);

/* Its lock, for the fork handlers only (fork_paging.c: the order). */
pthread_mutex_t *prefetch_fork_lock(void);

#endif
