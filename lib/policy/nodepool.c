/* nodepool.c -- per-page policy records, dense or hashed (see nodepool.h). */
#include "policy/nodepool.h"

#include "policy/alloc.h"

#include <string.h>

int nodepool_init(struct nodepool *np, size_t universe, size_t hint,
                  const struct policy_alloc *mem)
{
    memset(np, 0, sizeof *np);
    np->mem = *mem;
    np->universe = universe;
    np->free_head = PNODE_NIL;
    hint = policy_start_size(hint, universe);
    np->cap = universe ? universe : (hint < 64 ? 64 : hint);
    np->nodes = pmem_alloc(&np->mem, np->cap * sizeof *np->nodes);
    if (!np->nodes)
        return -1;
    if (universe)
        return 0;
    np->pages = pmem_alloc(&np->mem, np->cap * sizeof *np->pages);
    if (!np->pages || pagemap_init(&np->map, np->cap, mem) < 0) {
        nodepool_fini(np);
        return -1;
    }
    return 0;
}

void nodepool_fini(struct nodepool *np)
{
    pmem_free(&np->mem, np->nodes, np->cap * sizeof *np->nodes);
    pmem_free(&np->mem, np->pages, np->cap * sizeof *np->pages);
    if (np->map.keys)
        pagemap_fini(&np->map);
    memset(np, 0, sizeof *np);
}

static int grow(struct nodepool *np)
{
    size_t cap = np->cap * 2;
    struct pnode *nodes = pmem_alloc(&np->mem, cap * sizeof *nodes);
    policy_page *pages = pmem_alloc(&np->mem, cap * sizeof *pages);
    if (!nodes || !pages) {
        pmem_free(&np->mem, nodes, cap * sizeof *nodes);
        pmem_free(&np->mem, pages, cap * sizeof *pages);
        return -1;
    }
    memcpy(nodes, np->nodes, np->cap * sizeof *nodes);
    memcpy(pages, np->pages, np->cap * sizeof *pages);
    pmem_free(&np->mem, np->nodes, np->cap * sizeof *np->nodes);
    pmem_free(&np->mem, np->pages, np->cap * sizeof *np->pages);
    np->nodes = nodes;
    np->pages = pages;
    np->cap = cap;
    return 0;
}

uint32_t nodepool_get(struct nodepool *np, policy_page page)
{
    uint32_t i = nodepool_find(np, page);
    if (i != PNODE_NIL)
        return i;
    if (np->universe) {
        if (page >= np->universe)
            return PNODE_NIL;
        i = (uint32_t)page;
    } else {
        if (np->free_head != PNODE_NIL) {
            i = np->free_head;
            np->free_head = np->nodes[i].next;
        } else {
            if (np->hwm == np->cap && grow(np) < 0)
                return PNODE_NIL;
            i = (uint32_t)np->hwm++;
        }
        if (pagemap_put(&np->map, page, i) < 0) {
            np->nodes[i].next = np->free_head;
            np->free_head = i;
            return PNODE_NIL;
        }
        np->pages[i] = page;
    }
    struct pnode *n = &np->nodes[i];
    memset(n, 0, sizeof *n);
    n->prev = n->next = PNODE_NIL;
    return i;
}

void nodepool_put(struct nodepool *np, uint32_t idx)
{
    np->nodes[idx].state = 0;
    if (np->universe)
        return;
    pagemap_del(&np->map, np->pages[idx]);
    np->nodes[idx].next = np->free_head;
    np->free_head = idx;
}
