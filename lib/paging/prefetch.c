/*
 * prefetch.c -- the live runtime's side of the prefetch policy.
 *
 * One instance of the chosen prefetcher (lib/policy/) is asked, on each
 * hard fault, for the window of pages around it to read as well; fault.c
 * then reads the paged-out pages of that window whose slots follow the
 * faulting page's, in one read.  It hears whether prefetched pages were
 * used only with VMEM_PREFETCH_INSTALL=standby (a touch is then a
 * transition fault); installed pages' reads are invisible.
 *
 * The readahead gate's evidence lives here too: pages read ahead that were
 * reached and that were not, from readahead's windows (fault/readahead.c:
 * installed, or with VMEM_PREFETCH_INSTALL=standby each frame readahead
 * kept, at its touch or release); policy/readahead_gate.c judges it.
 *
 * Memory: a prefetcher allocates only when created (prefetch_start, no
 * lock held), from libvmem's own allocator.
 *
 * Lock: prefetch_lock serialises calls into the prefetcher; a leaf lock.
 * The gate's evidence is one atomic word, so it can be fed under any lock.
 */
#include "paging/prefetch.h"
#include "policy/policy.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t prefetch_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *prefetch_fork_lock(void) { return &prefetch_lock; }
static const struct prefetch_ops *ops;
static struct prefetcher *pf;
static int reads_ahead; /* atomic: the policy is not "none" */
/* atomic: pages read ahead and reached (high half) and not (low half),
 * both halved whenever together they pass GATE_SPAN: the recent past */
static uint64_t gate;
#define GATE_SPAN 4096

static void lock(void) { mutex_take("prefetch_lock", &prefetch_lock); }
static void unlock(void) { mutex_give("prefetch_lock", &prefetch_lock); }

static void *mem_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    return ialloc_pages(bytes);
}

static void mem_free(void *ctx, void *p, size_t bytes)
{
    (void)ctx;
    ifree_pages(p, bytes);
}

static const struct policy_alloc mem = { .alloc = mem_alloc, .free = mem_free };

/* Splits "NAME[:N]"; returns the ops or NULL (message in err). */
static const struct prefetch_ops *parse(const char *spec, unsigned *n, char *err, size_t errlen)
{
    char name[32];
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    *n = 0;
    const struct prefetch_ops *o = NULL;
    if (len < sizeof(name)) {
        memcpy(name, spec, len);
        name[len] = 0;
        o = prefetch_find(name);
    }
    if (!o) {
        int k = snprintf(err, errlen, "unknown prefetch policy '%.*s'; valid:", (int)len, spec);
        for (size_t i = 0; prefetch_list[i] && k > 0 && (size_t)k < errlen; i++)
            k += snprintf(err + k, errlen - (size_t)k, " %s", prefetch_list[i]->name);
        return NULL;
    }
    if (colon) {
        char *end;
        unsigned long v = strtoul(colon + 1, &end, 10);
        if (!colon[1] || *end || v < 1 || v > 512) {
            snprintf(err, errlen, "prefetch window '%s' is not a page count from 1 to 512",
                     colon + 1);
            return NULL;
        }
        *n = (unsigned)v;
    }
    return o;
}

int prefetch_spec_valid(const char *spec, char *err, size_t errlen)
{
    unsigned n;
    return !spec || !*spec || parse(spec, &n, err, errlen) ? 0 : EINVAL;
}

int prefetch_start(const char *spec, unsigned cluster, char *err, size_t errlen)
{
    unsigned n = cluster;
    const struct prefetch_ops *o;
    if (spec && *spec)
        o = parse(spec, &n, err, errlen);
    else
        o = prefetch_find(cluster <= 1 ? "none" : "adaptive");
    if (!o)
        return EINVAL;
    if (spec && *spec && !strchr(spec, ':'))
        n = cluster > 1 ? cluster : 0; /* NAME alone: VMEM_CLUSTER's window */
    struct prefetcher *p = o->create(n, &mem);
    if (!p) {
        snprintf(err, errlen, "no memory for the prefetcher");
        return ENOMEM;
    }
    lock();
    ops = o;
    pf = p;
    unlock();
    __atomic_store_n(&gate, 0, __ATOMIC_RELAXED); /* a new start judges afresh */
    __atomic_store_n(&reads_ahead, strcmp(o->name, "none") != 0, __ATOMIC_RELEASE);
    return 0;
}

int prefetch_reads_ahead(void)
{
    return __atomic_load_n(&reads_ahead, __ATOMIC_ACQUIRE);
}

void prefetch_stop(void)
{
    __atomic_store_n(&reads_ahead, 0, __ATOMIC_RELEASE);
    lock();
    const struct prefetch_ops *o = ops;
    struct prefetcher *p = pf;
    pf = NULL;
    ops = NULL;
    unlock();
    if (p) /* unmaps: not under the lock */
        o->destroy(p);
}

void prefetch_window(uint64_t vpn, unsigned *behind, unsigned *ahead)
{
    *behind = *ahead = 0;
    lock();
    if (pf)
        ops->window(pf, vpn, behind, ahead);
    unlock();
}

void prefetch_outcome(size_t n, int used)
{
    if (n > GATE_SPAN)
        n = GATE_SPAN; /* the halves stay far from 32 bits */
    uint64_t old = __atomic_load_n(&gate, __ATOMIC_RELAXED), now;
    do {
        uint64_t u = (old >> 32) + (used ? n : 0), w = (old & 0xffffffffu) + (used ? 0 : n);
        while (u + w > GATE_SPAN) {
            u /= 2;
            w /= 2;
        }
        now = u << 32 | w;
    } while (!__atomic_compare_exchange_n(&gate, &old, now, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
}

struct ra_gate prefetch_gate(size_t ahead_max, size_t win_min)
{
    uint64_t g = __atomic_load_n(&gate, __ATOMIC_RELAXED);
    return ra_gate(ahead_max, win_min, g >> 32, g & 0xffffffffu);
}

void prefetch_feedback(int used)
{
    lock();
    if (pf)
        ops->feedback(pf, used);
    unlock();
}
