/*
 * registry.c -- the replacement and prefetch policies by name.  A policy is
 * added by writing its file and listing its ops here.
 */
#include "policy.h"

#include <string.h>

extern const struct policy_ops policy_clock, policy_fifo, policy_lru;
extern const struct prefetch_ops prefetch_none, prefetch_cluster, prefetch_adaptive;

const struct policy_ops *const policy_list[] = {
    &policy_clock, /* the default */
    &policy_fifo,
    &policy_lru,
    NULL,
};

const struct prefetch_ops *const prefetch_list[] = {
    &prefetch_adaptive, /* the default */
    &prefetch_cluster,
    &prefetch_none,
    NULL,
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

const struct prefetch_ops *prefetch_find(const char *name)
{
    if (!name)
        return prefetch_list[0];
    for (size_t i = 0; prefetch_list[i]; i++)
        if (!strcmp(prefetch_list[i]->name, name))
            return prefetch_list[i];
    return NULL;
}
