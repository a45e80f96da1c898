/*
 * aging.c -- LRU approximated by aging, as Windows' working-set manager
 * ages pages: each page has an 8-bit age register; a reference sets its
 * referenced bit; an aging scan shifts every register right and moves the
 * bit in at the top (age = age >> 1 | ref << 7, then ref = 0); the victim is
 * the page with the smallest register (the oldest), ties in admission order.
 *
 * Pages sit in 256 buckets by register value, so a victim is found in
 * O(1).  A full scan costs O(resident) and runs every quarter of the
 * resident set's worth of victims (amortised: a few node moves per victim).
 * Between scans, a victim candidate whose bit is set is aged on its own
 * instead of evicted, so a page referenced since the last scan is never
 * taken for an unreferenced one.  Simulated, every reference sets the bit;
 * live only faults and write-protect faults.
 */
#include "policy/policies.h"

#include "internal_alloc.h"
#include "policy/nodepool.h"

#define AGE_BUCKETS 256
#define AGE_TOP 0x80u

struct aging {
    struct nodepool np;
    struct plist bucket[AGE_BUCKETS]; /* by age register (node aux) */
    uint64_t nonempty[AGE_BUCKETS / 64];
    size_t resident;
    size_t since_scan; /* victims since the last full scan */
};

static struct policy *aging_create(size_t frames, size_t universe, uint64_t seed)
{
    (void)seed;
    struct aging *a = ialloc_pages(sizeof *a);
    if (!a)
        return NULL;
    if (nodepool_init(&a->np, universe, frames + 1) < 0) {
        ifree_pages(a, sizeof *a);
        return NULL;
    }
    for (int b = 0; b < AGE_BUCKETS; b++)
        plist_init(&a->bucket[b]);
    a->since_scan = SIZE_MAX; /* the first victim search scans */
    return (struct policy *)a;
}

static void aging_destroy(struct policy *p)
{
    struct aging *a = (struct aging *)p;
    nodepool_fini(&a->np);
    ifree_pages(a, sizeof *a);
}

static void bucket_add(struct aging *a, uint32_t i, unsigned age)
{
    pnode(&a->np, i)->aux = age;
    plist_push_tail(&a->np, &a->bucket[age], i);
    a->nonempty[age / 64] |= 1ull << (age % 64);
}

static void bucket_del(struct aging *a, uint32_t i)
{
    unsigned age = pnode(&a->np, i)->aux;
    plist_remove(&a->np, &a->bucket[age], i);
    if (!a->bucket[age].len)
        a->nonempty[age / 64] &= ~(1ull << (age % 64));
}

static unsigned shifted(const struct pnode *n)
{
    return n->aux >> 1 | (n->ref ? AGE_TOP : 0);
}

static void aging_admit(struct policy *p, policy_page page, unsigned flags)
{
    struct aging *a = (struct aging *)p;
    uint32_t i = nodepool_get(&a->np, page);
    if (i == PNODE_NIL)
        return;
    struct pnode *n = pnode(&a->np, i);
    if (n->state) {
        n->ref = 1;
        return;
    }
    n->state = 1;
    n->ref = 0;
    /* admitted by a reference: as if just aged with the bit set */
    bucket_add(a, i, flags & POLICY_PREFETCHED ? 0 : AGE_TOP);
    a->resident++;
}

static void aging_touch(struct policy *p, policy_page page)
{
    struct aging *a = (struct aging *)p;
    uint32_t i = nodepool_find(&a->np, page);
    if (i != PNODE_NIL)
        pnode(&a->np, i)->ref = 1;
}

/* Ages every resident page.  Buckets are visited smallest register first
 * and each page goes to the tail of its new bucket, so pages of equal
 * registers keep their relative order. */
static void scan(struct aging *a)
{
    struct plist old[AGE_BUCKETS];
    for (int b = 0; b < AGE_BUCKETS; b++) {
        old[b] = a->bucket[b];
        plist_init(&a->bucket[b]);
    }
    for (int w = 0; w < AGE_BUCKETS / 64; w++)
        a->nonempty[w] = 0;
    for (int b = 0; b < AGE_BUCKETS; b++) {
        uint32_t i;
        while ((i = plist_pop_head(&a->np, &old[b])) != PNODE_NIL) {
            struct pnode *n = pnode(&a->np, i);
            unsigned age = shifted(n);
            n->ref = 0;
            bucket_add(a, i, age);
        }
    }
    a->since_scan = 0;
}

static int oldest_bucket(const struct aging *a)
{
    for (int w = 0; w < AGE_BUCKETS / 64; w++)
        if (a->nonempty[w])
            return w * 64 + __builtin_ctzll(a->nonempty[w]);
    return -1;
}

static int aging_victim(struct policy *p, policy_page *page)
{
    struct aging *a = (struct aging *)p;
    if (!a->resident)
        return -1;
    if (a->since_scan >= a->resident / 4)
        scan(a);
    a->since_scan++;
    for (;;) {
        int b = oldest_bucket(a);
        uint32_t i = a->bucket[b].head;
        struct pnode *n = pnode(&a->np, i);
        if (n->ref) { /* referenced since the last scan: age it now */
            unsigned age = shifted(n);
            n->ref = 0;
            bucket_del(a, i);
            bucket_add(a, i, age);
            continue;
        }
        bucket_del(a, i);
        *page = nodepool_page(&a->np, i);
        nodepool_put(&a->np, i);
        a->resident--;
        return 0;
    }
}

static void aging_forget(struct policy *p, policy_page page)
{
    struct aging *a = (struct aging *)p;
    uint32_t i = nodepool_find(&a->np, page);
    if (i == PNODE_NIL)
        return;
    bucket_del(a, i);
    nodepool_put(&a->np, i);
    a->resident--;
}

static size_t aging_size(const struct policy *p)
{
    return ((const struct aging *)p)->resident;
}

const struct policy_ops policy_aging = {
    .name = "aging",
    .about = "LRU approximation by 8-bit age registers shifted by periodic scans",
    .create = aging_create,
    .destroy = aging_destroy,
    .admit = aging_admit,
    .touch = aging_touch,
    .victim = aging_victim,
    .forget = aging_forget,
    .size = aging_size,
};
