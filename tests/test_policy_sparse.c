/*
 * Every replacement policy with page numbers as the live runtime gives
 * them (sparse virtual page numbers, through the hash map): admissions,
 * forgetting, and victims that are only ever resident pages.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy/policy.h"
#include "sim.h"

/* Sparse page numbers (the live runtime's) go through the hash table. */
Test(policy, sparse_pages_and_forget)
{
    for (size_t k = 0; policy_list[k]; k++) {
        const struct policy_ops *ops = policy_list[k];
        struct policy *p = ops->create(100, 0, 1, &sim_alloc);
        cr_assert_not_null(p);
        for (uint64_t i = 0; i < 5000; i++)
            ops->admit(p, 0x7f0000000ull + i * 977, 0);
        cr_assert_eq(ops->size(p), 5000, "%s", ops->name);
        for (uint64_t i = 0; i < 5000; i += 2)
            ops->forget(p, 0x7f0000000ull + i * 977);
        ops->forget(p, 42); /* unknown: ignored */
        cr_assert_eq(ops->size(p), 2500, "%s", ops->name);
        uint64_t v;
        for (int i = 0; i < 2500; i++) {
            cr_assert_eq(ops->victim(p, &v), 0);
            cr_assert_eq((v - 0x7f0000000ull) / 977 % 2, 1, "%s: a forgotten page came back",
                         ops->name);
        }
        cr_assert_eq(ops->victim(p, &v), -1);
        ops->destroy(p);
    }
}

Test(policy, names)
{
    cr_assert_str_eq(policy_find(NULL)->name, "clock");
    cr_assert_null(policy_find("belady"));
    cr_assert_not_null(prefetch_find("adaptive"));
    cr_assert_null(prefetch_find("psychic"));
}

