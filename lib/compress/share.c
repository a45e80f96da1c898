/*
 * share.c -- the compressed store's adaptive share of the cap (share.h).
 *
 * The rule, decided again at the end of each window (WINDOW pages
 * compressed, or SAMPLE_WINDOW samples while the share is 0):
 *
 *   - most pages offered are rejects (fewer than half compress under the
 *     threshold): the share halves, and below a quarter of
 *     VMEM_COMPRESS_MAX it goes to 0; nearly all are (fewer than a quarter
 *     compress): it goes to 0 at once.  Sort's random-letter lines: 88% of
 *     the pages offered were rejects, yet the few that compressed filled
 *     the store's 25% and the working set shrank by as much.
 *   - the store's hits do not pay for its frames: without the store, its C
 *     frames would hold the C pages trimmed last, so a hit on a page
 *     trimmed less than C pages ago ("young") gains nothing, one on an older
 *     page ("old") saves a hard fault.  Against that, the rejects trimmed in
 *     the same span would have stayed resident too: a fraction r of the
 *     pages offered, faulted back about as often as the young pages that
 *     compressed, so the store costs about young * r / (1 - r) hard faults.
 *     When old < young * r / (1 - r) (hits of the last windows, each window
 *     weighing half the one after it; judged once there are MIN_JUDGED of
 *     them) the share halves and does not grow for HOLD windows.  The age
 *     of an entry is counted in puts; C pages trimmed are C * (1 - r) puts.
 *   - otherwise (pages compress and the store pays, or there is no
 *     evidence yet) the share doubles, from a quarter of the maximum when
 *     it was 0, up to VMEM_COMPRESS_MAX.
 *
 * When the share falls below what the store holds, the page writer moves
 * the store's oldest pages out to the page file (store_wants_eviction),
 * giving their frames back to the working set.
 *
 * Only the page writer thread decides: the window's counts are its own;
 * the limit, the accepted share and the hit counts are atomics.
 */
#include "compress/share.h"
#include "core/stats.h"

#define WINDOW        256u /* pages compressed between two decisions */
#define SAMPLE_WINDOW 32u  /* samples, while the share is 0 */
#define MIN_JUDGED    16u  /* decayed hits below which hits are not judged */
#define HOLD          4u   /* windows without growth after hits did not pay */

static uint64_t max_share;
static uint64_t limit;              /* atomic: bytes the store may hold */
static uint64_t shrinks, grows;     /* atomic */
static unsigned accept_pm = 1000;   /* atomic: per mille of the last window
                                       that compressed */
static uint64_t young, old;         /* atomic: hits since the last window */

/* the page writer's */
static unsigned offered, compressed, sample_tick, hold;
static uint64_t young_w, old_w;     /* decayed over the last windows */

/* The limit, and its published copy (vmem_get_stats, the reports). */
static void store_limit(uint64_t v)
{
    __atomic_store_n(&limit, v, __ATOMIC_RELEASE);
    __atomic_store_n(&vmem_ctr.compress_share, v, __ATOMIC_RELAXED);
}

void share_init(uint64_t max_bytes)
{
    max_share = max_bytes;
    store_limit(max_bytes);
    __atomic_store_n(&shrinks, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&grows, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&accept_pm, 1000, __ATOMIC_RELAXED);
    __atomic_store_n(&young, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&old, 0, __ATOMIC_RELAXED);
    offered = compressed = sample_tick = hold = 0;
    young_w = old_w = 0;
}

void share_stop(void)
{
    store_limit(0);
}

uint64_t share_limit(void) { return __atomic_load_n(&limit, __ATOMIC_ACQUIRE); }
uint64_t share_shrinks(void) { return __atomic_load_n(&shrinks, __ATOMIC_RELAXED); }
uint64_t share_grows(void) { return __atomic_load_n(&grows, __ATOMIC_RELAXED); }

int share_want_compress(void)
{
    if (share_limit())
        return 1;
    return sample_tick++ % SHARE_SAMPLE_EVERY == 0;
}

void share_hit(uint32_t age, uint64_t charged)
{
    /* C pages trimmed are C * accepted puts */
    uint64_t span = charged * __atomic_load_n(&accept_pm, __ATOMIC_RELAXED) / 1000;
    __atomic_fetch_add(age < span ? &young : &old, 1, __ATOMIC_RELAXED);
}

static void set_limit(uint64_t v, uint64_t *count, uint64_t *published)
{
    store_limit(v);
    __atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
    ctr_add(published, 1);
}

static void shrink(int to_zero)
{
    uint64_t v = share_limit() / 2;
    if (to_zero || v < max_share / 4)
        v = 0;
    if (v != share_limit())
        set_limit(v, &shrinks, &vmem_ctr.compress_share_shrinks);
}

static void decide(void)
{
    young_w = young_w / 2 + __atomic_exchange_n(&young, 0, __ATOMIC_RELAXED);
    old_w = old_w / 2 + __atomic_exchange_n(&old, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&accept_pm, compressed * 1000 / offered, __ATOMIC_RELAXED);
    if (hold)
        hold--;
    if (compressed * 2 < offered) {
        shrink(compressed * 4 < offered); /* mostly rejects */
        return;
    }
    /* old < young * r / (1 - r), r the rejects' share of the window */
    if (young_w + old_w >= MIN_JUDGED && old_w * compressed < young_w * (offered - compressed)) {
        shrink(0);
        hold = HOLD;
        return;
    }
    uint64_t cur = share_limit();
    if (hold || cur >= max_share)
        return;
    uint64_t v = cur ? cur * 2 : max_share / 4;
    set_limit(v > max_share ? max_share : v, &grows,
              &vmem_ctr.compress_share_grows);
}

void share_offered(int ok)
{
    offered++;
    compressed += ok != 0;
    if (offered < (share_limit() ? WINDOW : SAMPLE_WINDOW))
        return;
    decide();
    offered = compressed = 0;
}
