/*
 * region.c -- the table of reservations: an array sorted by base address,
 * searched by bisection.  Reservations are few and long-lived (an allocator
 * takes big ones), so inserting by moving the tail is cheap enough.
 */
#include "core/region.h"
#include "core/internal_alloc.h"

#include <errno.h>
#include <string.h>

static struct region **table;
static size_t count, capacity;

/* Index of the first region with base > addr. */
static size_t upper_bound(uintptr_t addr)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (table[mid]->base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct region *region_find(uintptr_t addr)
{
    size_t i = upper_bound(addr);
    if (i == 0)
        return NULL;
    struct region *r = table[i - 1];
    return addr - r->base < r->size ? r : NULL;
}

struct region *region_find_span(uintptr_t addr)
{
    size_t i = upper_bound(addr);
    if (i == 0)
        return NULL;
    struct region *r = table[i - 1];
    return addr - r->base < r->span ? r : NULL;
}

struct region *region_next_above(uintptr_t addr)
{
    size_t i = upper_bound(addr);
    return i < count ? table[i] : NULL;
}

int region_insert(struct region *r)
{
    if (count == capacity) {
        size_t ncap = capacity ? capacity * 2 : 512;
        struct region **nt = ialloc_pages(ncap * sizeof(*nt));
        if (!nt)
            return ENOMEM;
        if (table) {
            memcpy(nt, table, count * sizeof(*nt));
            ifree_pages(table, capacity * sizeof(*nt));
        }
        table = nt;
        capacity = ncap;
    }
    size_t i = upper_bound(r->base);
    memmove(&table[i + 1], &table[i], (count - i) * sizeof(*table));
    table[i] = r;
    count++;
    return 0;
}

void region_remove(struct region *r)
{
    size_t i = upper_bound(r->base);
    if (i == 0 || table[i - 1] != r)
        return;
    memmove(&table[i - 1], &table[i], (count - i) * sizeof(*table));
    count--;
}

void region_for_each(void (*fn)(struct region *r))
{
    /* fn may remove r: walk from the end */
    for (size_t i = count; i > 0; i--)
        fn(table[i - 1]);
}
