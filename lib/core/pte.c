/*
 * pte.c -- the software page table of one reservation.
 * Callers hold the address-space lock (see pte.h for which mode).
 */
#include "core/pte.h"
#include "core/internal_alloc.h"
#include "core/vmem_internal.h"

#include <errno.h>

int pte_table_init(struct pte_table *t, size_t npages)
{
    t->nleaves = (npages + LEAF_PAGES - 1) >> LEAF_SHIFT;
    t->dir_bytes = t->nleaves * sizeof(struct pte *);
    t->dir = ialloc_pages(t->dir_bytes);
    return t->dir ? 0 : ENOMEM;
}

void pte_table_destroy(struct pte_table *t)
{
    if (!t->dir)
        return;
    for (size_t i = pte_next_present(t, 0, t->nleaves << LEAF_SHIFT) >> LEAF_SHIFT;
         i < t->nleaves; i++) {
        if (t->dir[i])
            ifree_block(t->dir[i]);
    }
    ifree_pages(t->dir, t->dir_bytes);
    t->dir = NULL;
}

struct pte *pte_get_alloc(struct pte_table *t, size_t idx)
{
    struct pte **slot = &t->dir[idx >> LEAF_SHIFT];
    if (!*slot) {
        _Static_assert(sizeof(struct pte) * LEAF_PAGES == 4096, "leaf is one block");
        *slot = ialloc_block();
        if (!*slot)
            return NULL;
    }
    return &(*slot)[idx & (LEAF_PAGES - 1)];
}

int pte_alloc_range(struct pte_table *t, size_t first, size_t end)
{
    for (size_t i = first; i < end; i = (i | (LEAF_PAGES - 1)) + 1)
        if (!pte_get_alloc(t, i))
            return ENOMEM;
    return 0;
}

size_t pte_next_present(const struct pte_table *t, size_t idx, size_t end)
{
    /* Skips absent leaves a word at a time; a directory page never touched
     * reads as zeros from the kernel's shared zero page, costing no RAM. */
    size_t li = idx >> LEAF_SHIFT, lend = (end + LEAF_PAGES - 1) >> LEAF_SHIFT;
    if (li < lend && t->dir[li])
        return idx;
    for (li++; li < lend; li++)
        if (t->dir[li])
            return li << LEAF_SHIFT < end ? li << LEAF_SHIFT : end;
    return end;
}
