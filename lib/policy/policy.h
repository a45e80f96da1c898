/*
 * policy.h -- the replacement- and prefetch-policy interface.
 *
 * One implementation of each policy (one file each in lib/policy/) is driven
 * by both the live runtime (paging/replacement.c, fault/fault.c) and the simulator (tools/):
 *
 *   simulator: every reference of the trace.  A reference to a resident
 *              page calls touch(); a miss calls admit() (after victim() if
 *              the frames are full).
 *   live:      only what faults show.  admit() when a fault makes a page
 *              resident (demand-zero, transition or hard fault, and pages
 *              prefetched by a hard fault, with POLICY_PREFETCHED); touch()
 *              when a resident page takes a write-protect fault (its first
 *              write since it was last saved or trimmed); victim() when the
 *              working-set manager trims; forget() when the application
 *              decommits or releases a resident page.  Reads of resident
 *              pages are invisible live: the kernel exposes no accessed bit
 *              to user space here.
 *
 * Pages are named by a 64-bit number: live, the virtual page number
 * (address >> 12); in the simulator, dense numbers 0..universe-1 (the
 * simulator renumbers the trace), which lets a policy index arrays instead
 * of hashing (see pagemap.h).
 *
 * Instances are not thread-safe: the live runtime serialises calls with one
 * mutex (a leaf lock, taken under the address-space lock, never the other
 * way round).
 *
 * Memory comes from the caller: create() takes an allocator, which the
 * instance keeps and uses for everything it allocates, at creation and as
 * it grows (admit() may grow it), and gives back at destroy().  This code
 * makes no system call of its own: the simulator passes malloc, the live
 * runtime a stock it fills outside its locks (paging/policy_stock.c).
 */
#ifndef VMEM_POLICY_H
#define VMEM_POLICY_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t policy_page;

#define POLICY_PREFETCHED 0x1 /* admitted by prefetch, not by a reference */

/* The caller's memory.  alloc: `bytes` of zeroed memory, or NULL (the
 * policy then carries on without what it wanted: an admitted page may go
 * untracked).  free: memory from alloc, with the byte count asked for. */
struct policy_alloc {
    void *(*alloc)(void *ctx, size_t bytes);
    void (*free)(void *ctx, void *p, size_t bytes);
    void *ctx;
};

struct policy; /* one instance's state, private to the policy's file */

struct policy_ops {
    const char *name;  /* as given to VMEM_POLICY and --policy */
    const char *about; /* one line: what it does, what it sees live */
    /* frames: how many pages the policy is asked to keep resident (sizes
     * ARC's or 2Q's lists; live, the cap in pages).  universe: 0, or the
     * number of distinct pages when they are numbered 0..universe-1.
     * seed: for randomised policies.  mem: where all its memory comes
     * from (copied: the struct need not outlive the call).  NULL if out of
     * memory. */
    struct policy *(*create)(size_t frames, size_t universe, uint64_t seed,
                             const struct policy_alloc *mem);
    void (*destroy)(struct policy *);
    /* page became resident; it is not resident in the policy already */
    void (*admit)(struct policy *, policy_page page, unsigned flags);
    /* a reference to a resident page */
    void (*touch)(struct policy *, policy_page page);
    /* chooses a resident page to evict and stops tracking it as resident
     * (a policy may remember it as a ghost).  0, or -1 if none is resident */
    int (*victim)(struct policy *, policy_page *page);
    /* page left residency by other means (freed); ignore unknown pages */
    void (*forget)(struct policy *, policy_page page);
    /* resident pages tracked */
    size_t (*size)(const struct policy *);
};

/* All replacement policies, NULL-terminated; policy_find(NULL) is the
 * default.  NULL for an unknown name. */
extern const struct policy_ops *const policy_list[];
const struct policy_ops *policy_find(const char *name);

/* ---- prefetch ---------------------------------------------------------------
 * On a hard fault (simulator: a miss) on `page`, window() says how many pages
 * before and after it to bring in as well.  Only pages that are out (paged
 * out live; seen before and not resident in the simulator) are brought in.
 * feedback() reports each prefetched page's fate: referenced before it was
 * evicted (used = 1) or evicted unreferenced (used = 0). */
struct prefetcher;

struct prefetch_ops {
    const char *name;  /* as given to VMEM_PREFETCH=NAME[:N] */
    const char *about;
    /* n: the N of NAME:N (0 = the policy's default); mem as for policies
     * (a prefetcher allocates only here) */
    struct prefetcher *(*create)(unsigned n, const struct policy_alloc *mem);
    void (*destroy)(struct prefetcher *);
    void (*window)(struct prefetcher *, policy_page page, unsigned *behind,
                   unsigned *ahead);
    void (*feedback)(struct prefetcher *, int used);
};

extern const struct prefetch_ops *const prefetch_list[];
const struct prefetch_ops *prefetch_find(const char *name);

/* ---- readahead gate ---------------------------------------------------------
 * How readahead treats a sequential stream, from what its recent windows
 * came to: `used` pages the stream reached, `wasted` pages read ahead and
 * dropped unreached (the caller decays both).  A stream is read ahead of
 * after `confirm` faults that continue it, at most `ahead` pages beyond its
 * latest fault.  Mostly used: as asked (ahead_max); a quarter to a half:
 * later and a quarter as far; less: later still and one window of win_min,
 * which keeps evidence coming should streams start to pay again. */
struct ra_gate {
    unsigned confirm;
    size_t ahead;
};

#define RA_GATE_EVIDENCE 256 /* pages judged before the gate closes at all */

struct ra_gate ra_gate(size_t ahead_max, size_t win_min, uint64_t used, uint64_t wasted);

#endif
