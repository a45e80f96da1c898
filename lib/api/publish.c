/*
 * publish.c -- the process's statistics area: a file vmem-stat.PID in the
 * statistics directory, mapped shared, that `vmem stat`, `top`, `map` and
 * `vmem run --report` read (<vmemstat.h>).
 *
 * The counters themselves live in the area (core/stats.h's vmem_ctr_live
 * points there): nothing copies them, every count is visible as it
 * happens, and a process killed by a signal leaves them exact.  What other
 * layers keep (standby frames, page-file slots) and the map of
 * reservations are copied in by the publisher thread when a reader asks:
 * a reader adds 1 to the area's request word and wakes it (a futex in the
 * shared file); the thread answers by setting `answered`.  It sleeps
 * otherwise, so publishing costs nothing while nobody looks.
 *
 * The directory is made absolute at start: a relative VMEM_PUBLISH_DIR
 * names the working directory of then, not of the exit.  The area records
 * its owner's pid, and only that process ends or removes it.
 *
 * Locks: none of its own.  The map is counted under as_lock shared into
 * this file's buffer, and copied to the area after unlocking.
 */
#include "api/publish.h"
#include "core/region.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"
#include "os/process.h"
#include "os/procinfo.h"
#include "os/file.h"
#include "os/statfile.h"
#include "os/thread.h"
#include "os/time.h"
#include "pagefile/pagefile.h"
#include "paging/cap.h"
#include "paging/standby.h"
#include <vmemstat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(struct vmem_counters) <= sizeof(((struct vmem_statarea *)0)->counters),
               "the counters fit in the area");

struct publish_config publish_cfg;
static struct vmem_statarea *area;
static char area_name[64];
static char area_dir[sizeof(publish_cfg.dir)]; /* where area is: absolute */
static pthread_t thread;
static int running, stop_flag; /* stop_flag: atomic */

#define ST(f, v) __atomic_store_n(&area->f, (v), __ATOMIC_RELAXED)

static void name_for(char *buf, size_t len, long pid)
{
    snprintf(buf, len, VMEM_STATAREA_PREFIX "%ld", pid);
}

/* ---- the refresh: gauges and map ---------------------------------------- */
static struct vmem_statarea_region map_buf[VMEM_STATAREA_MAX_REGIONS];

static void count_region(const struct region *r, struct vmem_statarea_region *o)
{
    memset(o, 0, sizeof(*o));
    o->base = r->base;
    o->pages = r->npages;
    size_t idx = 0;
    uint64_t seen = 0;
    while ((idx = pte_next_present(&r->ptes, idx, r->npages)) < r->npages) {
        size_t end = (idx | (LEAF_PAGES - 1)) + 1;
        if (end > r->npages)
            end = r->npages;
        for (; idx < end; idx++) {
            const struct pte *p = pte_get(&r->ptes, idx);
            seen++;
            switch (pte_load_state(p)) {
            case PTE_RESERVED: o->reserved++; break;
            case PTE_COMMITTED: o->committed++; break;
            case PTE_RESIDENT: o->resident++; break;
            case PTE_STANDBY: o->standby++; break;
            case PTE_PAGEDOUT: o->pagedout++; break;
            default: o->other++; break; /* installing, in-page error */
            }
        }
    }
    o->reserved += r->npages - seen; /* pages of leaves never made */
}

static void refresh(int with_map)
{
    if (paging_enabled()) {
        ST(standby_pages, standby_count());
        ST(pagefile_pages, pagefile_used());
        ST(peak_pagefile_pages, pagefile_peak());
    }
    ST(cap_pages, paging_cap());
    if (with_map && runtime_ready()) {
        uint32_t n = 0;
        uint64_t total = 0;
        as_lock_shared();
        for (struct region *r = region_next_above(0); r; r = region_next_above(r->base)) {
            if (n < VMEM_STATAREA_MAX_REGIONS)
                count_region(r, &map_buf[n++]);
            total++;
        }
        as_unlock();
        /* readers retry while map_seq is odd or changed under them */
        __atomic_add_fetch(&area->map_seq, 1, __ATOMIC_ACQ_REL);
        memcpy(area->regions, map_buf, n * sizeof(map_buf[0]));
        ST(nregions, n);
        ST(regions_total, total);
        __atomic_add_fetch(&area->map_seq, 1, __ATOMIC_RELEASE);
    }
    ST(refreshed_ns, os_now_ns());
}

static void *publisher_main(void *arg)
{
    (void)arg;
    as_lock_sigs_blocked = 1; /* started with every signal blocked */
    for (;;) {
        uint32_t done = __atomic_load_n(&area->answered, __ATOMIC_ACQUIRE);
        os_futex_wait(&area->request, done, 0);
        if (__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE))
            break;
        uint32_t req = __atomic_load_n(&area->request, __ATOMIC_ACQUIRE);
        if (req == done)
            continue;
        refresh(1);
        __atomic_store_n(&area->answered, req, __ATOMIC_RELEASE);
        os_futex_wake(&area->answered);
    }
    return NULL;
}

/* ---- making the area ---------------------------------------------------- */

/* An area already named for our pid: a previous image of this process (it
 * exec'd) or a dead process whose pid we got.  Ours to remove, or to leave
 * under another name for the `vmem run` that collects it. */
static int set_aside(const char *name, uint64_t my_ticks)
{
    void *m;
    size_t len;
    uint32_t uid;
    int err = os_statfile_map(area_dir, name, 1, sizeof(struct vmem_statarea), &m, &len,
                              &uid);
    if (err)
        return err;
    struct vmem_statarea *old = m;
    if (uid != os_uid() || old->magic != VMEM_STATAREA_MAGIC) {
        os_statfile_unmap(m, len);
        return EEXIST; /* not ours: never touched */
    }
    long collector = __atomic_load_n(&old->collector, __ATOMIC_RELAXED);
    if (collector && os_proc_alive(collector)) {
        if (__atomic_load_n(&old->state, __ATOMIC_RELAXED) == VMEM_END_RUNNING)
            __atomic_store_n(&old->state, old->start_ticks == my_ticks ? VMEM_END_EXECED :
                             VMEM_END_VANISHED, __ATOMIC_RELEASE);
        char to[96];
        snprintf(to, sizeof(to), "%s.%llu", name, (unsigned long long)os_now_ns());
        err = os_statfile_rename(area_dir, name, to);
    } else {
        err = os_statfile_unlink(area_dir, name);
    }
    os_statfile_unmap(m, len);
    return err;
}

/* Makes this process's area (its command line copied from cmd, or read
 * when NULL); 0 or an errno value. */
static int make_area(const char *cmd)
{
    long pid = (long)os_pid();
    uint64_t ticks = os_proc_start_ticks(pid);
    name_for(area_name, sizeof(area_name), pid);
    unsigned mode = publish_cfg.mode == PUBLISH_PUBLIC ? 0644 : 0600;
    void *m;
    int err = os_statfile_create(area_dir, area_name, mode, sizeof(struct vmem_statarea), &m);
    if (err == EEXIST && (err = set_aside(area_name, ticks)) == 0)
        err = os_statfile_create(area_dir, area_name, mode,
                                 sizeof(struct vmem_statarea), &m);
    if (err)
        return err;
    struct vmem_statarea *a = m;
    a->version = VMEM_STATAREA_VERSION;
    a->size = sizeof(*a);
    a->pid = pid;
    a->uid = os_uid();
    a->collector = (int32_t)publish_cfg.collector;
    a->start_ticks = ticks;
    if (cmd)
        memcpy(a->cmd, cmd, sizeof(a->cmd));
    else
        os_self_cmdline(a->cmd, sizeof(a->cmd));
    a->prefetch_install = (uint32_t)vmem_rt.cfg.prefetch_install;
    a->fault_mode = (uint32_t)vmem_rt.cfg.fault_mode;
    ctr_move((struct vmem_counters *)(void *)a->counters);
    /* readers trust an area once its magic is there */
    __atomic_store_n(&a->magic, VMEM_STATAREA_MAGIC, __ATOMIC_RELEASE);
    area = a;
    return 0;
}

int publish_start(char *err, size_t errlen)
{
    int e = config_publish_from_env(&publish_cfg, err, errlen);
    if (e)
        return e;
    if (publish_cfg.mode == PUBLISH_OFF)
        return 0;
    if (area) {
        /* a start after vmem_shutdown: the area stays where it was made */
        memcpy(publish_cfg.dir, area_dir, sizeof(area_dir));
    } else {
        if ((e = os_file_absolute(publish_cfg.dir, area_dir, sizeof(area_dir))) != 0) {
            vmem_log("cannot publish statistics: VMEM_PUBLISH_DIR=%s is relative and the "
                     "working directory cannot be had (%s)", publish_cfg.dir, strerror(e));
            return 0;
        }
        memcpy(publish_cfg.dir, area_dir, sizeof(area_dir));
        vmem_statarea_clean(publish_cfg.dir);
        if ((e = make_area(NULL)) != 0) {
            /* by default, quiet where the directory is missing, closed
             * (a container without /dev/shm) or full: every process would
             * say it */
            if (publish_cfg.asked || (e != ENOENT && e != EACCES && e != EROFS &&
                                      e != ENOSPC && e != EDQUOT))
                vmem_log("cannot publish statistics in %s (%s); VMEM_PUBLISH=off stops trying",
                         publish_cfg.dir, strerror(e));
            return 0;
        }
    }
    __atomic_store_n(&stop_flag, 0, __ATOMIC_RELEASE);
    if ((e = os_thread_start(&thread, publisher_main, NULL)) != 0)
        vmem_log("cannot start the statistics thread (%s): `vmem map` gets no answer",
                 strerror(e));
    else
        running = 1;
    return 0;
}

void publish_stop(void)
{
    if (!running)
        return;
    __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&area->request, 1, __ATOMIC_ACQ_REL);
    os_futex_wake(&area->request);
    os_thread_join(thread);
    running = 0;
}

void publish_drop(void)
{
    if (!area)
        return;
    ctr_move(NULL);
    os_statfile_unlink(area_dir, area_name);
    os_statfile_unmap(area, sizeof(*area));
    area = NULL;
}

/* A forked child's counters: its own events, from zero.  The gauges
 * describe the address space it has (a copy of its parent's) and stay;
 * their peaks start again from them. */
static void counters_restart(struct vmem_counters *c)
{
    struct vmem_counters g;
    memset(&g, 0, sizeof(g));
    g.working_set = g.peak_working_set = c->working_set;
    g.commit_charge = g.peak_commit_charge = c->commit_charge;
    g.reserved_pages = c->reserved_pages;
    g.regions = c->regions;
    g.compress_pages = c->compress_pages;
    g.compress_bytes = c->compress_bytes;
    g.compress_charged = c->compress_charged; /* the store is copied too */
    g.compress_share = c->compress_share;
    *c = g;
}

void publish_fork_child(void)
{
    running = 0; /* the thread is the parent's */
    if (area) {
        struct vmem_statarea *parent = area;
        area = NULL;
        /* never count into the parent's area: our own, or back to private */
        if (make_area(parent->cmd) != 0)
            ctr_move(NULL);
        os_statfile_unmap(parent, sizeof(*parent));
    }
    counters_restart(vmem_ctr_live);
}

void publish_exit(int status)
{
    /* a child of a raw fork or clone, or one forked after vmem_shutdown
     * (no fork handler made it an area of its own), maps its parent's:
     * not its own to end or remove (getpid() asks the kernel) */
    if (!area || (long)area->pid != (long)os_pid())
        return;
    refresh(0);
    __atomic_store_n(&area->end_code, status, __ATOMIC_RELAXED);
    __atomic_store_n(&area->state, VMEM_END_EXITED, __ATOMIC_RELEASE);
    /* the counters stay mapped (threads may count on until the end) */
    if (!publish_collected())
        os_statfile_unlink(area_dir, area_name);
}

int publish_collected(void)
{
    return area && publish_cfg.collector && area->collector;
}
