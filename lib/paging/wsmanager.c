/*
 * wsmanager.c -- the working-set manager thread.
 *
 * When the pages in RAM pass the high-water mark, or faults are waiting for
 * room (cap.c), the thread works in rounds until they are down to the
 * low-water mark (and the room asked for is made):
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
 * A round that can do nothing (everything locked, page file full or
 * failing) marks trimming stalled: faults stop waiting for room until a
 * later round makes progress.
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

/* Work to do: over the high-water mark, faults short of room, or the
 * standby list more than half full. */
static int over(uint64_t mark)
{
    return cap_in_ram() > mark || cap_short_of_room() ||
           standby_count() > standby_capacity() / 2;
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
    /* down to the low-water mark, and what waiting faults need.  With the
     * standby list off every frame goes once written, so only the working
     * set counts: frames already trimmed are room on its way. */
    uint64_t held = vmem_rt.cfg.standby ? cap_in_ram() : ws();
    uint64_t need = held > cap_low_water() ? held - cap_low_water() : 0;
    uint64_t room = held + cap_wanted(), cap = paging_cap();
    if (room > cap && room - cap > need)
        need = room - cap;
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
        done += trim_working_set(n);
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
        if (!over(cap_high_water()))
            continue;
        int idle_rounds = 0;
        while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE) && over(cap_low_water())) {
            if (trim_round()) {
                idle_rounds = 0;
                cap_stalled(0);
            } else if (page_writer_busy() && !page_writer_stuck()) {
                /* frames are being saved: wait for the writer's kick */
                os_wake_wait(kick_fd, -1, 10);
                if (os_wake_drain(kick_fd) != 0)
                    return NULL;
            } else if (++idle_rounds > 3) {
                /* nothing can go now: faults stop waiting for room until a
                 * later round makes progress */
                cap_stalled(1);
                break;
            }
        }
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

void wsmanager_leave_in_child(void)
{
    running = 0;
}
