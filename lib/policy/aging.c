/*
 * aging.c -- LRU approximated by aging, as Windows' working-set manager
 * ages pages: each page has an 8-bit age register; a reference sets its
 * referenced bit; an aging scan shifts every register right and moves the
 * bit in at the top (age = age >> 1 | ref << 7, then ref = 0); the victim is
 * the page with the smallest register (the oldest).  A page admitted by a
 * reference starts at 0x80 (as if just scanned with its bit set), a
 * prefetched one at 0.
 *
 * Resident pages sit in slots; registers and bits are per-slot byte arrays,
 * so a scan is a sequential pass.  A scan runs every quarter of the
 * resident set's worth of victims, and also sorts the slots by register
 * (counting sort): victims are then taken in that order, ties by slot.  A
 * page referenced since the last scan is passed over (its register is out
 * of date and would only grow), and pages admitted since the last scan
 * wait in a queue of their own, competing by their starting register.
 * Simulated, every reference sets the bit; live only faults and
 * write-protect faults.
 */
#include "policy/policies.h"

#include "policy/alloc.h"
#include "policy/nodepool.h"

#include <string.h>

#define AGE_TOP 0x80u

struct candidate {
    uint32_t slot, node; /* stale once the slot holds another node */
};

struct aging {
    struct nodepool np; /* node aux: the page's slot */
    struct policy_alloc mem; /* where all of it comes from */
    size_t cap;         /* slots allocated */
    size_t used;        /* slots ever filled */
    uint32_t *face;     /* slot -> node, PNODE_NIL if empty */
    uint8_t *age;       /* slot -> age register */
    uint8_t *ref;       /* slot -> referenced since the last scan */
    uint32_t *free;     /* empty slots */
    size_t nfree;
    struct candidate *order; /* slots by register at the last scan */
    size_t norder, cursor;
    struct candidate *young; /* admitted since the last scan: a ring */
    size_t yhead, ytail;     /* positions modulo cap */
    size_t resident;
    size_t since_scan; /* victims since the last scan */
};

static void free_arrays(struct aging *a)
{
    if (!a->face)
        return;
    pmem_free(&a->mem, a->face, a->cap * sizeof *a->face);
    pmem_free(&a->mem, a->age, a->cap);
    pmem_free(&a->mem, a->ref, a->cap);
    pmem_free(&a->mem, a->free, a->cap * sizeof *a->free);
    pmem_free(&a->mem, a->order, a->cap * sizeof *a->order);
    pmem_free(&a->mem, a->young, a->cap * sizeof *a->young);
}

/* (Re)allocates the slot arrays for cap slots, keeping their contents. */
static int alloc_arrays(struct aging *a, size_t cap)
{
    struct aging n = *a;
    n.cap = cap;
    n.face = pmem_alloc(&a->mem, cap * sizeof *n.face);
    n.age = pmem_alloc(&a->mem, cap);
    n.ref = pmem_alloc(&a->mem, cap);
    n.free = pmem_alloc(&a->mem, cap * sizeof *n.free);
    n.order = pmem_alloc(&a->mem, cap * sizeof *n.order);
    n.young = pmem_alloc(&a->mem, cap * sizeof *n.young);
    if (!n.face || !n.age || !n.ref || !n.free || !n.order || !n.young) {
        pmem_free(&a->mem, n.face, cap * sizeof *n.face);
        pmem_free(&a->mem, n.age, cap);
        pmem_free(&a->mem, n.ref, cap);
        pmem_free(&a->mem, n.free, cap * sizeof *n.free);
        pmem_free(&a->mem, n.order, cap * sizeof *n.order);
        pmem_free(&a->mem, n.young, cap * sizeof *n.young);
        return -1;
    }
    if (a->face) {
        memcpy(n.face, a->face, a->used * sizeof *n.face);
        memcpy(n.age, a->age, a->used);
        memcpy(n.ref, a->ref, a->used);
        memcpy(n.free, a->free, a->nfree * sizeof *n.free);
        memcpy(n.order, a->order, a->norder * sizeof *n.order);
        n.yhead = 0;
        n.ytail = 0;
        for (size_t pos = a->yhead; pos != a->ytail; pos++)
            n.young[n.ytail++] = a->young[pos % a->cap];
        free_arrays(a);
    }
    *a = n;
    return 0;
}

static struct policy *aging_create(size_t frames, size_t universe, uint64_t seed,
                                    const struct policy_alloc *mem)
{
    (void)seed;
    struct aging *a = pmem_alloc(mem, sizeof *a);
    if (!a)
        return NULL;
    a->mem = *mem;
    if (nodepool_init(&a->np, universe, frames + 1, mem) < 0) {
        pmem_free(mem, a, sizeof *a);
        return NULL;
    }
    if (alloc_arrays(a, policy_start_size(frames + 1, universe)) < 0) {
        nodepool_fini(&a->np);
        pmem_free(mem, a, sizeof *a);
        return NULL;
    }
    a->since_scan = SIZE_MAX; /* the first victim search scans */
    return (struct policy *)a;
}

static void aging_destroy(struct policy *p)
{
    struct aging *a = (struct aging *)p;
    struct policy_alloc mem = a->mem; /* a itself goes last */
    nodepool_fini(&a->np);
    free_arrays(a);
    pmem_free(&mem, a, sizeof *a);
}

static void aging_admit(struct policy *p, policy_page page, unsigned flags)
{
    struct aging *a = (struct aging *)p;
    if (!a->nfree && a->used == a->cap && alloc_arrays(a, 2 * a->cap) < 0)
        return;
    uint32_t i = nodepool_get(&a->np, page);
    if (i == PNODE_NIL)
        return;
    struct pnode *n = pnode(&a->np, i);
    if (n->state) {
        a->ref[n->aux] = 1;
        return;
    }
    uint32_t slot = a->nfree ? a->free[--a->nfree] : (uint32_t)a->used++;
    n->state = 1;
    n->aux = slot;
    a->face[slot] = i;
    a->age[slot] = flags & POLICY_PREFETCHED ? 0 : AGE_TOP;
    a->ref[slot] = 0;
    if (a->ytail - a->yhead == a->cap) /* full: the oldest waits for a scan */
        a->yhead++;
    a->young[a->ytail++ % a->cap] = (struct candidate){slot, i};
    a->resident++;
}

static void aging_touch(struct policy *p, policy_page page)
{
    struct aging *a = (struct aging *)p;
    uint32_t i = nodepool_find(&a->np, page);
    if (i != PNODE_NIL)
        a->ref[pnode(&a->np, i)->aux] = 1;
}

/* Ages every resident page and sorts the slots by register. */
static void scan(struct aging *a)
{
    size_t count[257] = {0};
    for (size_t s = 0; s < a->used; s++) {
        if (a->face[s] == PNODE_NIL)
            continue;
        uint8_t age = (uint8_t)(a->age[s] >> 1 | (a->ref[s] ? AGE_TOP : 0));
        a->age[s] = age;
        a->ref[s] = 0;
        count[age + 1]++;
    }
    for (int b = 0; b < 256; b++)
        count[b + 1] += count[b];
    for (size_t s = 0; s < a->used; s++)
        if (a->face[s] != PNODE_NIL)
            a->order[count[a->age[s]]++] = (struct candidate){(uint32_t)s, a->face[s]};
    a->norder = a->resident;
    a->cursor = 0;
    a->yhead = a->ytail = 0;
    a->since_scan = 0;
}

/* still the page it was, and not referenced since the last scan */
static int usable(const struct aging *a, struct candidate c)
{
    return a->face[c.slot] == c.node && !a->ref[c.slot];
}

static void evict_slot(struct aging *a, uint32_t slot, policy_page *page)
{
    uint32_t i = a->face[slot];
    *page = nodepool_page(&a->np, i);
    nodepool_put(&a->np, i);
    a->face[slot] = PNODE_NIL;
    a->free[a->nfree++] = slot;
    a->resident--;
}

static int aging_victim(struct policy *p, policy_page *page)
{
    struct aging *a = (struct aging *)p;
    if (!a->resident)
        return -1;
    if (a->since_scan >= a->resident / 4)
        scan(a);
    for (;;) {
        while (a->cursor < a->norder && !usable(a, a->order[a->cursor]))
            a->cursor++;
        while (a->yhead != a->ytail && !usable(a, a->young[a->yhead % a->cap]))
            a->yhead++;
        int have_old = a->cursor < a->norder, have_young = a->yhead != a->ytail;
        if (!have_old && !have_young) {
            scan(a); /* every candidate referenced or gone: age them */
            continue;
        }
        uint32_t old = have_old ? a->order[a->cursor].slot : 0;
        uint32_t young = have_young ? a->young[a->yhead % a->cap].slot : 0;
        if (have_old && (!have_young || a->age[old] <= a->age[young])) {
            a->cursor++;
            evict_slot(a, old, page);
        } else {
            a->yhead++;
            evict_slot(a, young, page);
        }
        a->since_scan++;
        return 0;
    }
}

static void aging_forget(struct policy *p, policy_page page)
{
    struct aging *a = (struct aging *)p;
    uint32_t i = nodepool_find(&a->np, page);
    if (i == PNODE_NIL)
        return;
    policy_page ignored;
    evict_slot(a, pnode(&a->np, i)->aux, &ignored);
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
