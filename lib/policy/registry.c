/* registry.c -- the lists of replacement policies and prefetchers. */
#include "policy/policies.h"

#include <string.h>

/* The first entry is the default. */
const struct policy_ops *const policy_list[] = {
    &policy_clock, &policy_fifo, &policy_lru,   &policy_aging,
    &policy_random, &policy_arc, &policy_sieve, &policy_s3fifo, NULL,
};

const struct prefetch_ops *const prefetch_list[] = {
    &prefetch_cluster, &prefetch_none, &prefetch_adaptive, NULL,
};

const struct policy_ops *policy_find(const char *name)
{
    if (!name)
        return policy_list[0];
    for (size_t i = 0; policy_list[i]; i++)
        if (!strcmp(policy_list[i]->name, name))
            return policy_list[i];
    return NULL;
}

/* Accepts "NAME" and "NAME:N" (the N is for the caller to parse). */
const struct prefetch_ops *prefetch_find(const char *name)
{
    if (!name)
        return prefetch_list[0];
    size_t len = strcspn(name, ":");
    for (size_t i = 0; prefetch_list[i]; i++)
        if (strlen(prefetch_list[i]->name) == len &&
            !strncmp(prefetch_list[i]->name, name, len))
            return prefetch_list[i];
    return NULL;
}
