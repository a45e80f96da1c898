/* pagemap.c -- page number -> index hash map (see pagemap.h). */
#include "policy/pagemap.h"

#include "policy/alloc.h"

#include <string.h>

#define PAGEMAP_EMPTY_KEY UINT64_MAX

static size_t slot_of(const struct pagemap *m, uint64_t key)
{
    /* Fibonacci hashing: neighbouring pages land far apart. */
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
}

static int alloc_slots(struct pagemap *m, size_t slots)
{
    uint64_t *keys = pmem_alloc(&m->mem, slots * sizeof *keys);
    uint32_t *vals = pmem_alloc(&m->mem, slots * sizeof *vals);
    if (!keys || !vals) {
        pmem_free(&m->mem, keys, slots * sizeof *keys);
        pmem_free(&m->mem, vals, slots * sizeof *vals);
        return -1;
    }
    memset(keys, 0xff, slots * sizeof *keys);
    m->keys = keys;
    m->vals = vals;
    m->mask = slots - 1;
    m->used = 0;
    return 0;
}

static void free_slots(const struct pagemap *m, uint64_t *keys, uint32_t *vals, size_t slots)
{
    pmem_free(&m->mem, keys, slots * sizeof *keys);
    pmem_free(&m->mem, vals, slots * sizeof *vals);
}

int pagemap_init(struct pagemap *m, size_t hint, const struct policy_alloc *mem)
{
    memset(m, 0, sizeof *m);
    m->mem = *mem;
    size_t slots = 64;
    while (slots < hint * 2)
        slots <<= 1;
    return alloc_slots(m, slots);
}

void pagemap_fini(struct pagemap *m)
{
    if (m->keys)
        free_slots(m, m->keys, m->vals, m->mask + 1);
    memset(m, 0, sizeof *m);
}

uint32_t pagemap_get(const struct pagemap *m, uint64_t key)
{
    for (size_t i = slot_of(m, key);; i = (i + 1) & m->mask) {
        if (m->keys[i] == key)
            return m->vals[i];
        if (m->keys[i] == PAGEMAP_EMPTY_KEY)
            return PAGEMAP_NONE;
    }
}

static void insert_new(struct pagemap *m, uint64_t key, uint32_t val)
{
    size_t i = slot_of(m, key);
    while (m->keys[i] != PAGEMAP_EMPTY_KEY)
        i = (i + 1) & m->mask;
    m->keys[i] = key;
    m->vals[i] = val;
    m->used++;
}

static int grow(struct pagemap *m)
{
    struct pagemap old = *m;
    if (alloc_slots(m, (old.mask + 1) * 2) < 0) {
        *m = old;
        return -1;
    }
    for (size_t i = 0; i <= old.mask; i++)
        if (old.keys[i] != PAGEMAP_EMPTY_KEY)
            insert_new(m, old.keys[i], old.vals[i]);
    free_slots(m, old.keys, old.vals, old.mask + 1);
    return 0;
}

int pagemap_put(struct pagemap *m, uint64_t key, uint32_t val)
{
    size_t i = slot_of(m, key);
    for (; m->keys[i] != PAGEMAP_EMPTY_KEY; i = (i + 1) & m->mask)
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return 0;
        }
    /* keep the load under 1/2 so probe runs stay short */
    if ((m->used + 1) * 2 > m->mask + 1) {
        if (grow(m) < 0)
            return -1;
    }
    insert_new(m, key, val);
    return 0;
}

void pagemap_del(struct pagemap *m, uint64_t key)
{
    size_t i = slot_of(m, key);
    while (m->keys[i] != key) {
        if (m->keys[i] == PAGEMAP_EMPTY_KEY)
            return;
        i = (i + 1) & m->mask;
    }
    /* Backward shift: pull later entries of the probe run into the hole
     * unless their home slot lies cyclically in (hole, j]. */
    size_t hole = i;
    for (size_t j = (i + 1) & m->mask; m->keys[j] != PAGEMAP_EMPTY_KEY;
         j = (j + 1) & m->mask) {
        size_t home = slot_of(m, m->keys[j]);
        int stays = hole <= j ? (hole < home && home <= j)
                              : (hole < home || home <= j);
        if (stays)
            continue;
        m->keys[hole] = m->keys[j];
        m->vals[hole] = m->vals[j];
        hole = j;
    }
    m->keys[hole] = PAGEMAP_EMPTY_KEY;
    m->used--;
}
