/*
 * wsmanager.c -- the working-set manager thread.
 *
 * When the pages in RAM (with the room faults have taken, cap.c) pass the
 * high-water mark, the thread works in rounds until they are down to the
 * low-water mark:
 *
 *   trim (working set -> standby): victims the replacement policy chooses
 *   move to standby frames (trim.c);
 *
 *   freeing (standby -> page file): the oldest clean standby frames (their
 *   page-file copy valid) are freed and their pages become PAGEDOUT, with
 *   no I/O (release.c).  Dirty frames are saved ahead of need by the
 *   modified page writer, a thread of its own (page_writer.c), which this
 *   thread wakes.
 *
 * A fault that finds no room under the cap does not wait for this thread:
 * it makes room itself (reclaim.c) and wakes the thread, which brings RAM
 * down to the low-water mark behind it.  Each trim asks how many pages are
 * still needed with as_lock exclusive, so the two never trim twice for the
 * same room.
 *
 * Locks: none of its own; trim.c and release.c take as_lock.  The thread
 * is woken through os/wake.h (async-signal-safe from a SIGBUS handler).
 */
#include "paging/wsmanager.h"
#include "paging/replacement.h"
#include "os/thread.h"
#include "os/wake.h"
#include "paging/cap.h"
#include "paging/page_writer.h"
#include "paging/release.h"
#include "paging/standby.h"
#include "paging/trim.h"
#include "core/runtime.h"
#include "core/stats.h"

#include <pthread.h>

static int kick_fd = -1;
static int stop_flag;            /* atomic */
static pthread_t thread;
static int running;
static void (*periodic)(void);   /* atomic */

static uint64_t ws(void) { return __atomic_load_n(&vmem_ctr.working_set, __ATOMIC_RELAXED); }

void paging_kick(void)
{
    os_wake_signal(kick_fd);
}

void paging_set_periodic(void (*fn)(void))
{
    __atomic_store_n(&periodic, fn, __ATOMIC_RELEASE);
}

static int test_held; /* atomic: a test holds the thread (wsmanager_test_hold) */
static int in_rounds;  /* atomic: working down to the low-water mark */

int wsmanager_busy(void)
{
    return __atomic_load_n(&in_rounds, __ATOMIC_ACQUIRE);
}

/* Work to do: over the mark (with the room faults have taken), or the
 * standby list more than half full. */
static int over(uint64_t mark)
{
    return cap_in_ram() + cap_taken() > mark || standby_count() > standby_capacity() / 2;
}

/* Pages to trim now, asked with as_lock exclusive (trim_working_set): down
 * to the low-water mark. */
static size_t trim_need(size_t unused)
{
    (void)unused;
    uint64_t h = cap_held() + cap_taken(), low = cap_low_water();
    return h > low ? (size_t)(h - low) : 0;
}

/* The standby pool could not grow: said once. */
static int grow_warned;
static void grow_failed(void)
{
    if (!grow_warned) {
        grow_warned = 1;
        vmem_log("paging: no memory to grow the standby list (%zu frames); trimming "
                 "with what it has", standby_usable());
    }
}

static int trim_round(void)
{
    size_t done = 0;
    /* down to the low-water mark.  With the standby list off a trimmed
     * page's frame goes once written, so only the working set and the
     * prefetched pages' frames count: frames already trimmed are room on
     * its way (cap_held). */
    size_t need = trim_need(0);
    size_t sb_room = standby_capacity() - standby_count();
    size_t n = need < TRIM_BATCH ? (size_t)need : TRIM_BATCH;
    if (n > sb_room)
        n = sb_room;
    /* frames for this round, and at least a batch free for hard faults'
     * neighbours (VMEM_PREFETCH_INSTALL=standby); without them (no memory)
     * it trims what the frames already there can take */
    if (standby_grow(n > TRIM_BATCH ? n : TRIM_BATCH) != 0)
        grow_failed();
    /* views' pages (section/vpage.c) take their share of the round */
    uint64_t vp = paging_view_pages(), all = ws();
    if (n && vp) {
        size_t vn = all > vp ? (size_t)((uint64_t)n * vp / all) : n;
        size_t got = cap_trim_views(vn ? vn : 1);
        done += got;
        n -= got < n ? got : n;
    }
    if (n && ws() > vp)
        done += trim_working_set(n, trim_need, 0);
    int dirty = 0;
    if (over(cap_low_water()))
        done += release_standby(TRIM_BATCH, &dirty);
    if (dirty)
        page_writer_kick();
    standby_empty_free();
    cap_progress(done);
    return done > 0;
}

static void *wsmanager_main(void *arg)
{
    (void)arg;
    as_lock_sigs_blocked = 1; /* started with every signal blocked */
    while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
        os_wake_wait(kick_fd, -1, 50);
        replacement_maintain();
        void (*work)(void) = __atomic_load_n(&periodic, __ATOMIC_ACQUIRE);
        if (work)
            work();
        if (os_wake_drain(kick_fd) != 0)
            break;
        if (__atomic_load_n(&test_held, __ATOMIC_ACQUIRE) || !over(cap_high_water()))
            continue;
        int idle_rounds = 0;
        __atomic_store_n(&in_rounds, 1, __ATOMIC_RELEASE);
        while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE) &&
               !__atomic_load_n(&test_held, __ATOMIC_ACQUIRE) && over(cap_low_water())) {
            if (trim_round()) {
                idle_rounds = 0;
            } else if (page_writer_busy() && !page_writer_stuck()) {
                /* frames are being saved: wait for the writer's kick */
                os_wake_wait(kick_fd, -1, 10);
                if (os_wake_drain(kick_fd) != 0)
                    break;
            } else if (++idle_rounds > 3) {
                break; /* nothing can go now: until the next wake-up */
            }
        }
        __atomic_store_n(&in_rounds, 0, __ATOMIC_RELEASE);
    }
    return NULL;
}

int wsmanager_open(void)
{
    return os_wake_open(&kick_fd);
}

int wsmanager_start(void)
{
    __atomic_store_n(&stop_flag, 0, __ATOMIC_RELEASE);
    int e = os_thread_start(&thread, wsmanager_main, NULL);
    if (!e)
        running = 1;
    return e;
}

void wsmanager_stop(void)
{
    if (running) {
        __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
        paging_kick();
        os_thread_join(thread);
        running = 0;
    }
}

void wsmanager_close(void)
{
    os_wake_close(kick_fd);
    kick_fd = -1;
}

void wsmanager_test_hold(int hold)
{
    __atomic_store_n(&test_held, hold, __ATOMIC_RELEASE);
    if (!hold)
        paging_kick();
}

void wsmanager_leave_in_child(void)
{
    running = 0;
}
