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
 *   - the store's frames serve fewer faults than the working set's:
 *     hits per store frame below hard faults per working-set frame
 *     (H / C < F / (cap - C), H and F the hits and hard faults of the last
 *     windows, each window weighing half the one after it, C the store's
 *     pages now): the share halves as well, and does not grow again for a
 *     hold-off that doubles each time this happens (up to MAX_HOLD
 *     windows), so a store that keeps not paying stops trying.  Checked
 *     only once the store holds MIN_JUDGED pages: too small a store has too
 *     few hits to judge.
 *   - otherwise, pages compress and the store pays (or has not been judged
 *     yet): the share doubles, from a quarter of the maximum when it was 0,
 *     up to VMEM_COMPRESS_MAX.
 *
 * A hard fault costs a page-file read, a hit a decompression (5-10 times
 * less): counting them one for one leans towards the working set, which is
 * the safe side (the store off is what the program had without it).
 *
 * When the share falls below what the store holds, the page writer moves
 * the store's oldest pages out to the page file (store_wants_eviction),
 * giving their frames back to the working set.
 *
 * Only the page writer thread decides: the window's counts are its own;
 * the limit is read by any thread (atomic).
 */
#include "compress/share.h"
#include "compress/store.h"
#include "core/stats.h"

#define WINDOW        256u /* pages compressed between two decisions */
#define SAMPLE_WINDOW 32u  /* samples, while the share is 0 */
#define MIN_JUDGED    16u  /* store pages below which hits are not judged */
#define MAX_HOLD      64u  /* windows without growth at most */

static uint64_t max_share;
static uint64_t limit;              /* atomic: bytes the store may hold */
static uint64_t shrinks, grows;     /* atomic */

/* the page writer's */
static unsigned offered, compressed, sample_tick, hold, hold_next;
static uint64_t hits0, faults0;     /* counters at the window's start */
static uint64_t hits_w, faults_w;   /* decayed over the last windows */

void share_init(uint64_t max_bytes)
{
    max_share = max_bytes;
    __atomic_store_n(&limit, max_bytes, __ATOMIC_RELEASE);
    __atomic_store_n(&shrinks, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&grows, 0, __ATOMIC_RELAXED);
    offered = compressed = sample_tick = hold = 0;
    hold_next = 1;
    hits0 = __atomic_load_n(&vmem_ctr.compress_hits, __ATOMIC_RELAXED);
    faults0 = __atomic_load_n(&vmem_ctr.hard_faults, __ATOMIC_RELAXED);
    hits_w = faults_w = 0;
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

static void set_limit(uint64_t v, uint64_t *count)
{
    __atomic_store_n(&limit, v, __ATOMIC_RELEASE);
    __atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
}

static void shrink(int to_zero)
{
    uint64_t v = share_limit() / 2;
    if (to_zero || v < max_share / 4)
        v = 0;
    if (v != share_limit())
        set_limit(v, &shrinks);
}

static void decide(uint64_t cap_pages)
{
    uint64_t h = __atomic_load_n(&vmem_ctr.compress_hits, __ATOMIC_RELAXED);
    uint64_t f = __atomic_load_n(&vmem_ctr.hard_faults, __ATOMIC_RELAXED);
    hits_w = hits_w / 2 + (h - hits0);
    faults_w = faults_w / 2 + (f - faults0);
    hits0 = h;
    faults0 = f;
    uint64_t c = store_charged_pages(), cur = share_limit();
    if (hold)
        hold--;
    if (compressed * 2 < offered) {
        shrink(compressed * 4 < offered); /* mostly rejects */
        return;
    }
    if (c >= MIN_JUDGED && c < cap_pages && hits_w * (cap_pages - c) < faults_w * c) {
        /* its frames would serve more faults in the working set */
        shrink(0);
        hold = hold_next;
        hold_next = hold_next * 2 > MAX_HOLD ? MAX_HOLD : hold_next * 2;
        return;
    }
    if (c >= MIN_JUDGED)
        hold_next = 1; /* it paid: a later failure holds off briefly again */
    if (hold || cur >= max_share)
        return;
    uint64_t v = cur ? cur * 2 : max_share / 4;
    set_limit(v > max_share ? max_share : v, &grows);
}

void share_offered(int ok, uint64_t cap_pages)
{
    offered++;
    compressed += ok != 0;
    if (offered < (share_limit() ? WINDOW : SAMPLE_WINDOW))
        return;
    decide(cap_pages);
    offered = compressed = 0;
}
