/* policies.h -- the policy and prefetcher implementations, for registry.c
 * (everyone else goes through policy_find / prefetch_find). */
#ifndef VMEM_POLICY_POLICIES_H
#define VMEM_POLICY_POLICIES_H

#include "policy/policy.h"

extern const struct policy_ops policy_fifo;
extern const struct policy_ops policy_clock;
extern const struct policy_ops policy_aging;
extern const struct policy_ops policy_random;
extern const struct policy_ops policy_lru;
extern const struct policy_ops policy_arc;
extern const struct policy_ops policy_sieve;
extern const struct policy_ops policy_s3fifo;

extern const struct prefetch_ops prefetch_none;
extern const struct prefetch_ops prefetch_cluster;
extern const struct prefetch_ops prefetch_adaptive;

#endif
