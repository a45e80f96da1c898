/*
 * page_writer.c -- the modified page writer (Windows' name for it).
 *
 * Dirty standby frames (the modified list) are written to the page file by
 * this thread, ahead of need: it takes the dirty frames among the older
 * half of the standby list, oldest first, and writes them in one io_uring
 * batch, with as_lock released during the I/O (the frames are marked
 * FRAME_WRITING and their content is frozen).  Afterwards, under the lock,
 * each written frame is clean: it stays on the standby list (a touch is
 * still a transition fault), and the working-set manager frees clean frames
 * without I/O when it needs room.  So room is made at once, and faults do
 * not wait for writes unless the writer falls behind.
 *
 * Neighbouring dirty frames that hold neighbouring pages of one region go
 * out in one write, to neighbouring slots, so the hard fault that reads
 * them back is one read.
 *
 * A write that fails (a full file system, an I/O error) gives its slots
 * back; the frames stay dirty on the list and are written again later.
 *
 * With the compressed store on (VMEM_COMPRESS), each pass first puts
 * frames in the store and moves its oldest pages out when it is nearly
 * full (compress_out.c); only the frames the store refuses are written.
 *
 * A page faulted back while its frame was being written is installed dirty
 * and the frame is orphaned (fault.c): its slot is freed and the write's
 * result ignored, so a write that races with the writer is never lost.
 *
 * Locks: as_lock exclusive to choose frames and to settle them; none during
 * I/O.  The thread is woken through os/wake.h (async-signal-safe).
 */
#include "paging/page_writer.h"
#include "compress/store.h"
#include "paging/compress_out.h"
#include "paging/fault_cost.h"
#include "paging/release.h"
#include "paging/wsmanager.h"
#include "pagefile/pagefile.h"
#include "core/runtime.h"
#include "paging/standby.h"
#include "core/stats.h"
#include "core/vmem_internal.h"
#include "os/thread.h"
#include "os/time.h"
#include "os/wake.h"

#include <pthread.h>
#include <string.h>

#define BATCH 64 /* writes per pass */

static int kick_fd = -1;
static int stop_flag;      /* atomic */
static int asked;          /* atomic: a pass was asked for */
static int busy;           /* atomic */
static int stuck;          /* atomic */
static int failing;        /* atomic: writes failed lately (page_writer_failing) */
static unsigned long passes; /* atomic */
static pthread_t thread;
static int running;

void page_writer_kick(void)
{
    __atomic_store_n(&asked, 1, __ATOMIC_RELEASE);
    os_wake_signal(kick_fd);
}

int page_writer_busy(void)
{
    return __atomic_load_n(&busy, __ATOMIC_ACQUIRE) || __atomic_load_n(&asked, __ATOMIC_ACQUIRE);
}
int page_writer_stuck(void) { return __atomic_load_n(&stuck, __ATOMIC_ACQUIRE); }
int page_writer_failing(void) { return __atomic_load_n(&failing, __ATOMIC_ACQUIRE); }
unsigned long page_writer_passes(void) { return __atomic_load_n(&passes, __ATOMIC_ACQUIRE); }

/* Can frame g join the write group that ends with frame prev? */
static int joins_group(uint32_t prev, uint32_t g)
{
    if (g != prev + 1)
        return 0;
    const struct frame *a = standby_frame(prev), *b = standby_frame(g);
    return b->region == a->region && b->page == a->page + 1 &&
           (b->flags & (FRAME_DIRTY | FRAME_WRITING)) == FRAME_DIRTY &&
           (a->slot ? b->slot == a->slot + 1 : !b->slot);
}

/* After writes that failed (a full file system, an I/O error), frames
 * that need a fresh slot wait before they are tried again: every fault
 * short of room kicks the writer, and writing them at once only fails
 * again (a full file system took tens of thousands of failed writes a
 * second, a CPU's worth).  The wait doubles from FRESH_WAIT_MIN_MS to
 * FRESH_WAIT_MAX_MS while writes keep failing, ends when a write to a
 * fresh slot succeeds, and early when slots are given back (pages read in
 * or freed: room in the file).  Frames that have a slot are written in
 * place meanwhile, and a page file merely at its limit (VMEM_PAGEFILE_MAX)
 * fails no write.  The writer thread's own state: the page writer's
 * passes and the compressed store's evictions (compress_out.c) use it. */
#define FRESH_WAIT_MIN_MS 1
#define FRESH_WAIT_MAX_MS 16
static uint64_t fresh_wait_ms, fresh_until, fresh_used;

int page_writer_fresh_ok(void)
{
    return !fresh_wait_ms || os_now_ns() >= fresh_until || pagefile_used() < fresh_used;
}

void page_writer_fresh_outcome(size_t failed, size_t fresh_written)
{
    if (fresh_written || (!failed && !fresh_wait_ms)) {
        /* fresh slots take writes (some may still fail: an I/O error
         * now and then, not a full file system) */
        fresh_wait_ms = 0;
        __atomic_store_n(&failing, 0, __ATOMIC_RELEASE);
        return;
    }
    __atomic_store_n(&failing, 1, __ATOMIC_RELEASE);
    if (!failed)
        return; /* only rewrites in place, or none: the wait goes on */
    fresh_wait_ms = !fresh_wait_ms ? FRESH_WAIT_MIN_MS
                    : fresh_wait_ms < FRESH_WAIT_MAX_MS ? 2 * fresh_wait_ms : FRESH_WAIT_MAX_MS;
    fresh_until = os_now_ns() + fresh_wait_ms * 1000000;
    /* called once the failed writes' slots are given back: from here,
     * only slots freed by others end the wait early */
    fresh_used = pagefile_used();
}

/* One pass: writes up to BATCH dirty frames from the older half of the
 * standby list.  Returns the frames written; *blocked says whether a dirty
 * frame could not be saved for want of the page file (full, or a write
 * failed).  A frame faulted back or decommitted while it was written is
 * neither: a pass that saves nothing for that reason is not stuck. */
static size_t write_pass(int *blocked)
{
    struct pf_write w[BATCH];
    uint32_t wf[BATCH]; /* first frame of each write */
    uint8_t fresh[BATCH]; /* the write's slots newly allocated */
    size_t nw = 0, npages = 0, fresh_written = 0;
    *blocked = 0;
    int fresh_ok = page_writer_fresh_ok();

    as_lock_exclusive();
    uint64_t held = fault_cost_now();
    /* with the standby list off (VMEM_STANDBY=off) frames only wait to be
     * written: all of them */
    size_t look = vmem_rt.cfg.standby ? standby_count() / 2 + 1 : standby_count(), seen = 0;
    uint32_t f = standby_oldest();
    while (f && seen < look && npages < BATCH) {
        uint32_t next = standby_next(f);
        struct frame *fr = standby_frame(f);
        seen++;
        if ((fr->flags & (FRAME_DIRTY | FRAME_WRITING)) != FRAME_DIRTY ||
            (store_on() && !(fr->flags & FRAME_NOSTORE))) {
            /* clean, being saved, or the compressed store's to try first */
            f = next;
            continue;
        }
        /* a group of dirty neighbours, f .. f + len - 1 */
        size_t len = 1;
        while (npages + len < BATCH && next && joins_group(f + (uint32_t)len - 1, next)) {
            len++;
            seen++;
            next = standby_next(next);
        }
        if (!fr->slot && !fresh_ok) {
            *blocked = 1;
            f = next; /* writes failed lately: it waits (page_writer_fresh_ok) */
            continue;
        }
        if (!fr->slot) {
            uint32_t first;
            while (len > 1 && pagefile_alloc(len, &first) != 0)
                len = 1; /* no run that long free: one page at a time */
            if (len == 1 && pagefile_alloc(1, &first) != 0) {
                *blocked = 1;
                f = next; /* page file full: it stays on the modified list */
                continue;
            }
            for (size_t k = 0; k < len; k++)
                standby_frame(f + (uint32_t)k)->slot = first + (uint32_t)k;
            next = standby_next(f + (uint32_t)len - 1);
            fresh[nw] = 1;
        } else {
            fresh[nw] = 0;
        }
        for (size_t k = 0; k < len; k++)
            standby_frame(f + (uint32_t)k)->flags |= FRAME_WRITING;
        w[nw] = (struct pf_write){ .slot = fr->slot, .buf = standby_data(f), .npages = len };
        wf[nw++] = f;
        npages += len;
        f = next;
    }
    fault_cost_since(FC_HOLD_CHOOSE, held);
    as_unlock();
    if (!nw)
        return 0;

    pagefile_write_batch(w, nw);
    size_t written = 0, failed = 0, nfree = 0;
    uint32_t to_free[BATCH]; /* slots given back once as_lock is let go */

    as_lock_exclusive();
    held = fault_cost_now();
    for (size_t k = 0; k < nw; k++) {
        for (size_t j = 0; j < w[k].npages; j++) {
            uint32_t g = wf[k] + (uint32_t)j;
            struct frame *fr = standby_frame(g);
            fr->flags &= ~(uint32_t)FRAME_WRITING;
            if (fr->flags & FRAME_ORPHAN) {
                /* its page was faulted back (installed dirty) or decommitted */
                to_free[nfree++] = fr->slot;
                standby_drop(g);
                continue;
            }
            if (w[k].result) {
                /* the slot holds nothing usable: give it back (a full file
                 * system must not fill the allocator too); the frame stays
                 * dirty and is written again later */
                static int told;
                if (!told++)
                    vmem_log("page-file write failed (%s): keeping pages in memory, over "
                             "the cap if need be", strerror(w[k].result));
                to_free[nfree++] = fr->slot;
                fr->slot = 0;
                failed++;
                *blocked = 1;
                continue;
            }
            written++;
            fresh_written += fresh[k];
            fr->flags &= ~(uint32_t)FRAME_DIRTY; /* clean: free to drop */
            if (!vmem_rt.cfg.standby)
                paging_page_out(g);
        }
    }
    ctr_add(&vmem_ctr.pages_written, written);
    ctr_add(&vmem_ctr.write_ios, nw);
    ctr_add(&vmem_ctr.write_errors, failed);
    fault_cost_since(FC_HOLD_SETTLE, held);
    as_unlock();
    /* Freeing a slot punches its blocks out of the file, a file-system
     * call that may take milliseconds: not while faults wait for as_lock.
     * Nothing names these slots any more. */
    for (size_t k = 0; k < nfree; k++)
        pagefile_free(to_free[k], 1);
    page_writer_fresh_outcome(failed, fresh_written);
    return written;
}

static void *writer_main(void *arg)
{
    (void)arg;
    as_lock_sigs_blocked = 1; /* started with every signal blocked */
    while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
        if (!__atomic_load_n(&asked, __ATOMIC_ACQUIRE))
            os_wake_wait(kick_fd, -1, 50);
        if (os_wake_drain(kick_fd) != 0)
            break;
        __atomic_store_n(&busy, 1, __ATOMIC_RELEASE);
        __atomic_store_n(&asked, 0, __ATOMIC_RELEASE);
        int blocked, cfound;
        size_t n, c;
        do {
            /* the compressed store first: room in it, then frames into it;
             * what it refuses is written below */
            c = compress_evict_pass();
            c += compress_out_pass(&cfound);
            n = write_pass(&blocked);
            /* stuck only for want of the page file: frames faulted back
             * while being written made no room, yet nothing is wrong */
            __atomic_store_n(&stuck, blocked && !n && !c, __ATOMIC_RELEASE);
            __atomic_add_fetch(&passes, 1, __ATOMIC_RELEASE);
            if (n || c)
                paging_kick(); /* clean frames to free */
        } while ((n || c) && !__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE));
        __atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
    }
    return NULL;
}

int page_writer_start(void)
{
    int e = os_wake_open(&kick_fd);
    if (e)
        return e;
    __atomic_store_n(&stop_flag, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&stuck, 0, __ATOMIC_RELEASE);
    if ((e = os_thread_start(&thread, writer_main, NULL)) != 0) {
        os_wake_close(kick_fd);
        kick_fd = -1;
        return e;
    }
    running = 1;
    return 0;
}

void page_writer_stop(void)
{
    if (running) {
        __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
        page_writer_kick();
        os_thread_join(thread);
        running = 0;
    }
    os_wake_close(kick_fd);
    kick_fd = -1;
    __atomic_store_n(&asked, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

void page_writer_leave_in_child(void)
{
    running = 0;
    os_wake_close(kick_fd);
    kick_fd = -1;
}
