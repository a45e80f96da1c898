/*
 * start.c -- starting and stopping paging.
 *
 * Start: the page file, the standby frames (registered for UFFDIO_MOVE
 * when trimming moves), the replacement policy -- told of every page
 * resident already, so that it knows every resident page before the cap is
 * in force -- and the prefetch policy, the page writer, then the cap and the
 * working-set manager thread.  Stop undoes it in the reverse order.
 *
 * Locks: as_lock exclusive while the replacement policy starts.
 */
#include "paging/start.h"
#include "paging/fault_cost.h"
#include "compress/codec.h"
#include "compress/store.h"
#include "pagefile/pagefile.h"
#include "paging/cap.h"
#include "paging/compress_out.h"
#include "paging/cap_warning.h"
#include "paging/page_writer.h"
#include "paging/prefetch.h"
#include "paging/replacement.h"
#include "paging/standby.h"
#include "paging/trim.h"
#include "paging/wsmanager.h"
#include "os/uffd.h"
#include "core/runtime.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int tracks_dirty;         /* write-protect tells clean from dirty */
static int trim_moves;           /* trimming uses UFFDIO_MOVE */

int paging_tracks_dirty(void)
{
    return tracks_dirty;
}

int paging_trims_by_move(void)
{
    return trim_moves;
}

int paging_start(uint64_t pages, const char *where, uint64_t max_bytes, char *err,
                 size_t errlen)
{
    if (pages < PAGING_MIN_CAP_PAGES) {
        snprintf(err, errlen, "a working-set cap below %d pages (256 KiB) is too small",
                 PAGING_MIN_CAP_PAGES);
        return EINVAL;
    }
    if (vmem_rt.uffd < 0) {
        snprintf(err, errlen, "paging needs userfaultfd (fault mode thread or signal)");
        return ENOTSUP;
    }
    const struct vmem_config *c = &vmem_rt.cfg;
    int have_wp = (vmem_rt.uffd_have & UFFD_HAVE_WP) != 0;
    int have_move = (vmem_rt.uffd_have & UFFD_HAVE_MOVE) != 0;
    if (!have_wp) {
        /* the copy path needs it to hold writers off while a page is saved */
        snprintf(err, errlen, "paging needs userfaultfd write-protect for anonymous "
                 "memory (Linux 5.7+)");
        return ENOTSUP;
    }
    if (c->trim == VMEM_TRIM_MOVE && !have_move) {
        snprintf(err, errlen, "VMEM_TRIM=move: this kernel has no UFFDIO_MOVE (6.8+)");
        return ENOTSUP;
    }
    tracks_dirty = have_wp && c->dirty_tracking != VMEM_DIRTY_OFF;
    trim_open_files();
    int e = pagefile_open(where, max_bytes, err, errlen);
    if (e) {
        trim_close_files();
        return e;
    }
    pagefile_set_spin(c->io_spin_us);
    pagefile_set_checksum(c->pagefile_checksum);
    /* standby holds up to an eighth of the cap: reserved, grown as used */
    if ((e = standby_init(pages / 8 > TRIM_BATCH ? pages / 8 : TRIM_BATCH)) != 0) {
        pagefile_close();
        trim_close_files();
        snprintf(err, errlen, "no memory for the standby list");
        return e;
    }
    if (c->compress != VMEM_COMPRESS_OFF) {
        /* the store's RAM counts in the cap: a share of it, or a size */
        uint64_t max = c->compress_max ? c->compress_max
                                       : pages * PAGE_SZ / 100 * c->compress_max_pct;
        if (max > pages * PAGE_SZ / 100 * 90) {
            /* a store as large as the cap would leave no working set */
            max = pages * PAGE_SZ / 100 * 90;
            vmem_log("VMEM_COMPRESS_MAX is above 90%% of the cap: the store is held to %llu KiB",
                     (unsigned long long)(max >> 10));
        }
        if ((e = store_init(c->compress == VMEM_COMPRESS_ZSTD ? CODEC_ZSTD : CODEC_LZ4, max,
                            c->compress_threshold)) != 0) {
            standby_fini();
            pagefile_close();
            trim_close_files();
            snprintf(err, errlen, "VMEM_COMPRESS: no memory for the compressed store");
            return e;
        }
    }
    trim_moves = 0;
    if (have_move && c->trim != VMEM_TRIM_COPY) {
        if ((e = standby_use_move(vmem_rt.uffd)) == 0) {
            trim_moves = 1;
        } else if (c->trim == VMEM_TRIM_MOVE) {
            store_fini();
            standby_fini();
            pagefile_close();
            trim_close_files();
            snprintf(err, errlen, "VMEM_TRIM=move: cannot register the standby frames "
                     "(%s)", strerror(e));
            return e;
        }
    }
    /* The policy first: the trimmer takes victims from it alone, so it
     * must know every resident page (those resident already included)
     * before the cap is in force and the thread looks for victims. */
    as_lock_exclusive();
    e = replacement_start(c->policy, (size_t)pages, err, errlen);
    as_unlock();
    if (e || (e = prefetch_start(c->prefetch, c->cluster, err, errlen)) != 0) {
        paging_stop();
        return e;
    }
    if ((e = page_writer_start()) != 0) {
        paging_stop();
        snprintf(err, errlen, "cannot start the page writer thread");
        return e;
    }
    if ((e = wsmanager_open()) != 0) {
        paging_stop();
        snprintf(err, errlen, "eventfd: %s", strerror(e));
        return e;
    }
    cap_set(pages);
    compress_out_start();
    if ((e = wsmanager_start()) != 0) {
        paging_stop();
        snprintf(err, errlen, "cannot start the working-set manager thread");
        return e;
    }
    cap_warn_if_unbacked(pages);
    fault_cost_start();
    return 0;
}

void paging_stop(void)
{
    wsmanager_stop();
    page_writer_stop();
    replacement_stop();
    prefetch_stop();
    cap_set(0);
    wsmanager_close();
    store_fini();
    standby_fini();
    pagefile_close();
    trim_close_files();
}

void paging_leave_in_child(void)
{
    /* The threads are the parent's; the standby frames stay: the child
     * reads its pages from them (fork_paging.c). */
    wsmanager_leave_in_child();
    page_writer_leave_in_child();
    trim_close_files(); /* the parent's memory, not ours */
    cap_set(0);
    wsmanager_close();
}
