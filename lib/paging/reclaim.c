/*
 * reclaim.c -- direct reclaim: a fault that finds no room under the cap
 * makes it on its own thread instead of passing the cap.
 *
 * The working-set manager keeps RAM between the water marks, but a
 * starved or busy manager cannot keep up with faults on every CPU.  A fault
 * short of room waits a little (up to 1 ms of naps) while the manager is
 * at work, and otherwise, or then, does a round's work itself:
 *
 *   1. frees the oldest clean standby frames (their page-file copy valid):
 *      room at once, no I/O (release.c); with them up to a batch more
 *      towards the low-water mark, which the manager would free anyway;
 *   2. else trims what is missing from the working set (trim.c): pages that
 *      read as zeros, or are clean with the standby list off, leave RAM at
 *      once; the others go to standby frames for the page writer.  Once
 *      per page-writer pass: trimming more while the writer saves frames
 *      would only empty the working set;
 *   3. else, while the page writer saves frames, waits for it (its frames
 *      are room on its way);
 *   4. else nothing can leave RAM (every page locked or pinned, no frame,
 *      the page file full or failing): after a short wait for the manager
 *      (which can grow the standby frames), one page over the cap, counted
 *      in cap_overruns.  Until something leaves RAM again, later faults
 *      stop waiting.  While the page writer's writes fail (a full file
 *      system, I/O errors), a trim is no progress (its dirty victims stay
 *      in RAM), so it does not make later faults wait again.
 *
 * Trims ask how many pages are needed with as_lock held exclusive
 * (trim_working_set), so a fault and the manager, or two faults, never trim
 * twice for the same room.  A look at the standby list (step 1) takes
 * as_lock exclusive too; one that freed nothing is not made again, by any
 * fault, until something that can make a clean frame happened (a
 * page-writer pass, a trim, room made): many faults short of room, each
 * looking after every nap, held as_lock exclusive for most of the time and
 * stopped every other fault (bench/RESULTS.md, "Many threads").
 *
 * Locks: none of its own; release.c and trim.c take as_lock exclusive.
 */
#include "paging/reclaim.h"
#include "os/time.h"
#include "paging/cap.h"
#include "paging/fault_cost.h"
#include "paging/page_writer.h"
#include "paging/release.h"
#include "paging/trim.h"
#include "paging/wsmanager.h"
#include "core/stats.h"

/* Naps (50 us each) with nothing leaving RAM and the page writer idle
 * before the cap is passed. */
#define STALL_NAPS 40
/* Stall naps after which a fault trims again though its last trim found
 * nothing to trim (a victim pinned for a moment may be free by then). */
#define TRIM_AGAIN_NAPS 8
/* Naps a fault waits for a manager at work before it makes room itself. */
#define TRIMMER_NAPS 20

/* The progress count (+1) when a fault last passed the cap (0: never):
 * while it has not moved, a fault short of room does not wait again. */
static uint64_t stalled_at;

/* standby_news() + 1 at the last look at the standby list that freed
 * nothing (0: none since the news moved). */
static uint64_t fruitless_at;

/* Moves whenever a clean standby frame may have appeared since. */
static uint64_t standby_news(void)
{
    return page_writer_passes() + cap_progress_count() +
           __atomic_load_n(&vmem_ctr.trimmed_pages, __ATOMIC_RELAXED);
}

/* Frees clean standby frames towards `n` unless a look since the last
 * news found none. */
static size_t release_if_news(size_t n, int *dirty)
{
    *dirty = 0;
    uint64_t news = standby_news();
    if (__atomic_load_n(&fruitless_at, __ATOMIC_ACQUIRE) == news + 1)
        return 0;
    size_t freed = release_standby(n, dirty);
    if (!freed)
        __atomic_store_n(&fruitless_at, news + 1, __ATOMIC_RELEASE);
    return freed;
}

static size_t excess(size_t want)
{
    return (size_t)cap_excess(want);
}

/* Clean frames freed beyond the need: what the manager would free anyway
 * on its way to the low-water mark, up to a batch, so that the faults
 * after this one find room without taking as_lock exclusive again. */
static size_t toward_low_water(void)
{
    uint64_t h = cap_held() + cap_taken(), low = cap_low_water();
    uint64_t n = h > low ? h - low : 0;
    return n < TRIM_BATCH ? (size_t)n : TRIM_BATCH;
}

/* The page writer saves nothing because its writes fail. */
static int writes_failing(void)
{
    return page_writer_stuck() && page_writer_failing();
}

size_t paging_make_room(size_t want)
{
    paging_kick(); /* the manager brings RAM down to the low-water mark behind */
    size_t least = cap_least(want);
    /* A manager at work (on another CPU) makes the room in batches while
     * this thread waits; only a manager idle, starved or too slow leaves
     * the work to the fault. */
    uint64_t tm = fault_cost_now();
    for (int n = 0; n < TRIMMER_NAPS && wsmanager_busy(); n++) {
        size_t got = cap_take(want, least);
        if (got) {
            fault_cost_since(FC_ROOM_MANAGER, tm);
            return got;
        }
        os_nap_ns(50 * 1000);
    }
    fault_cost_since(FC_ROOM_MANAGER, tm);
    unsigned long passes = page_writer_passes();
    uint64_t seen = cap_progress_count();
    int trimmed = 0; /* trimmed, and nothing freed since nor written */
    unsigned idle = 0;
    for (;;) {
        size_t got = cap_take(want, least);
        if (got)
            return got;
        size_t need = excess(want);
        int dirty = 0;
        uint64_t t0 = fault_cost_now();
        size_t freed = need ? release_if_news(need + toward_low_water(), &dirty) : 0;
        if (need)
            fault_cost_since(FC_ROOM_RELEASE, t0);
        if (dirty)
            page_writer_kick();
        if (freed) {
            cap_progress(freed);
            trimmed = 0;
            idle = 0;
            continue;
        }
        unsigned long p = page_writer_passes();
        if (p != passes) {
            passes = p;
            trimmed = 0;
        }
        if (!trimmed && need) {
            t0 = fault_cost_now();
            size_t t = trim_working_set(need, excess, want);
            if (!t)
                t = cap_trim_views(need); /* views' pages (section/vpage.c) */
            fault_cost_since(FC_ROOM_TRIM, t0);
            /* once until the writer passes, room is made or a few naps
             * went by, also when none was trimmed (no frame free, every
             * victim locked or pinned for a moment): trying again after
             * every nap held as_lock for nothing, 300-700 us a time, with
             * the page file full */
            trimmed = 1;
            if (t) {
                page_writer_kick();
                /* While writes to the page file fail, dirty pages trimmed
                 * stay in RAM as standby frames: no room unless the look
                 * at the standby list finds clean ones, so the trim alone
                 * is no progress, and the faults after this one do not
                 * nap again for it (stalled_at). */
                if (!writes_failing()) {
                    cap_progress(t);
                    idle = 0;
                }
                continue;
            }
        }
        if (page_writer_busy() && !page_writer_stuck()) {
            t0 = fault_cost_now();
            os_nap_ns(50 * 1000); /* frames being saved: room on its way */
            fault_cost_since(FC_ROOM_WRITER, t0);
            continue;
        }
        uint64_t now = cap_progress_count();
        if (now != seen) {
            seen = now; /* the manager or another fault made room */
            idle = 0;
            continue;
        }
        if (__atomic_load_n(&stalled_at, __ATOMIC_ACQUIRE) == now + 1 || ++idle > STALL_NAPS)
            break;
        if (idle == 1) {
            page_writer_kick();
            paging_kick();
        }
        if (idle % TRIM_AGAIN_NAPS == 0)
            trimmed = 0;
        t0 = fault_cost_now();
        os_nap_ns(50 * 1000);
        fault_cost_since(FC_ROOM_STALL, t0);
    }
    __atomic_store_n(&stalled_at, cap_progress_count() + 1, __ATOMIC_RELEASE);
    /* what fits, else a page over the cap */
    size_t got = cap_take(want, 1);
    return got ? got : cap_take_over(1);
}

size_t paging_room_ahead(size_t want)
{
    size_t got = cap_take(want, 1);
    /* a batch a round, a bounded number of rounds; never a wait */
    for (size_t rounds = want / TRIM_BATCH + 2; got < want && rounds; rounds--) {
        size_t need = excess(want - got);
        if (!need)
            break; /* the room is frames in flight: not waited for */
        int dirty = 0;
        size_t done = release_standby(need, &dirty);
        if (!done && (done = trim_working_set(need < TRIM_BATCH ? need : TRIM_BATCH, excess,
                                              want - got)) != 0)
            dirty = 1; /* trimmed to standby: freed next round, or written */
        if (dirty)
            page_writer_kick();
        if (!done)
            break; /* nothing can leave RAM now: readahead does without */
        cap_progress(done);
        got += cap_take(want - got, 1);
    }
    return got;
}
