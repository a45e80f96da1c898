/*
 * statarea.c -- reading other processes' statistics areas (<vmemstat.h>):
 * open, read into a report block, ask for a refresh, list, remove the
 * stale.  What `vmem stat`, `top`, `map` and `run` use; publish.c writes
 * the areas.
 */
#include "core/stats.h"
#include "core/vmem_internal.h"
#include "os/procinfo.h"
#include "os/statfile.h"
#include "os/time.h"
#include <vmemstat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LD(f) __atomic_load_n(&(f), __ATOMIC_RELAXED)

VMEM_API int vmem_statarea_open_name(const char *dir, const char *name, int writable,
                                     const struct vmem_statarea **out)
{
    void *m;
    size_t len;
    uint32_t uid;
    /* read-only is a private copy; shared read-write only for an area of
     * our own, which no other user can truncate under us (SIGBUS) */
    int err = os_statfile_map(dir, name, writable, sizeof(struct vmem_statarea), &m, &len, &uid);
    if (err)
        return err;
    const struct vmem_statarea *a = m;
    if (writable && uid != os_uid()) {
        os_statfile_unmap(m, len);
        return EACCES;
    }
    if (__atomic_load_n(&a->magic, __ATOMIC_ACQUIRE) != VMEM_STATAREA_MAGIC ||
        a->version != VMEM_STATAREA_VERSION || a->size != sizeof(*a) || len != sizeof(*a)) {
        os_statfile_unmap(m, len);
        return EPROTO;
    }
    /* another user's file only if that user runs the process it names:
     * anyone may write a file here claiming any pid */
    if (uid != os_uid() && uid != os_proc_uid((long)a->pid)) {
        os_statfile_unmap(m, len);
        return EACCES;
    }
    *out = a;
    return 0;
}

VMEM_API int vmem_statarea_open(const char *dir, long pid, int writable,
                                const struct vmem_statarea **out)
{
    char name[64];
    snprintf(name, sizeof(name), VMEM_STATAREA_PREFIX "%ld", pid);
    return vmem_statarea_open_name(dir, name, writable, out);
}

VMEM_API void vmem_statarea_close(const struct vmem_statarea *a)
{
    os_statfile_unmap((void *)a, sizeof(*a));
}

VMEM_API void vmem_statarea_read(const struct vmem_statarea *a, struct vmem_proc_report *r)
{
    memset(r, 0, sizeof(*r));
    r->pid = (long)a->pid;
    memcpy(r->cmd, a->cmd, sizeof(r->cmd) - 1);
    r->end = (enum vmem_proc_end)__atomic_load_n(&a->state, __ATOMIC_ACQUIRE);
    r->end_code = LD(a->end_code);
    r->prefetch_install = LD(a->prefetch_install);
    const struct vmem_counters *c = (const struct vmem_counters *)(const void *)a->counters;
    struct vmem_stats *s = &r->st;
    s->demand_zero_faults = LD(c->demand_zero_faults);
    s->demand_zero_pages = LD(c->demand_zero_pages);
    s->transition_faults = LD(c->transition_faults);
    s->hard_faults = LD(c->hard_faults);
    s->pages_read = LD(c->pages_read);
    s->pages_written = LD(c->pages_written);
    s->read_ios = LD(c->read_ios);
    s->write_ios = LD(c->write_ios);
    s->write_watch_faults = LD(c->write_watch_faults);
    s->guard_faults = LD(c->guard_faults);
    s->working_set = LD(c->working_set);
    s->peak_working_set = LD(c->peak_working_set);
    s->commit_charge = LD(c->commit_charge);
    s->peak_commit_charge = LD(c->peak_commit_charge);
    s->reserved_pages = LD(c->reserved_pages);
    s->regions = LD(c->regions);
    s->prefetched_pages = LD(c->prefetched_pages);
    s->prefetch_used = LD(c->prefetch_used);
    s->prefetch_unused = LD(c->prefetch_unused);
    s->compressed_pages = LD(c->compress_pages);
    s->compressed_bytes = LD(c->compress_bytes);
    s->compress_store_bytes = (LD(c->compress_charged) + 4095) / 4096 * 4096;
    s->compress_stored = LD(c->compress_stored);
    s->compress_same_filled = LD(c->compress_same);
    s->compress_rejects = LD(c->compress_rejects);
    s->compress_hits = LD(c->compress_hits);
    s->compress_evicted = LD(c->compress_evicted);
    s->compress_ns = LD(c->compress_ns);
    s->decompress_ns = LD(c->decompress_ns);
    s->cap_overruns = LD(c->cap_overruns);
    s->as_lock_shared = LD(c->as_lock_shared);
    s->as_lock_exclusive = LD(c->as_lock_exclusive);
    s->as_lock_waits = LD(c->as_lock_waits);
    s->as_lock_wait_ns = LD(c->as_lock_wait_ns);
    s->as_lock_exclusive_ns = LD(c->as_lock_exclusive_ns);
    s->fault_thread_wakeups = LD(c->fault_thread_wakeups);
    s->fault_thread_empty_wakeups = LD(c->fault_thread_empty_wakeups);
    s->fault_thread_events = LD(c->fault_thread_events);
    s->compress_share_bytes = LD(c->compress_share);
    s->compress_share_pages = s->compress_share_bytes / 4096;
    s->compress_share_shrinks = LD(c->compress_share_shrinks);
    s->compress_share_grows = LD(c->compress_share_grows);
    s->trimmed_pages = LD(c->trimmed_pages);
    s->trimmed_by_move = LD(c->trimmed_by_move);
    s->standby_pages = LD(a->standby_pages);
    s->pagefile_pages = LD(a->pagefile_pages);
    s->peak_pagefile_pages = LD(a->peak_pagefile_pages);
    s->cap_pages = LD(a->cap_pages);
    s->checksum_errors = LD(c->checksum_errors);
    s->write_errors = LD(c->write_errors);
    s->inpage_errors = LD(c->inpage_errors);
    s->view_prefetched_pages = LD(c->view_prefetched_pages);
    s->view_slot_writes = LD(c->view_slot_writes);
}

VMEM_API int vmem_statarea_request(const struct vmem_statarea *ca, unsigned timeout_ms)
{
    struct vmem_statarea *a = (struct vmem_statarea *)ca;
    uint32_t want = __atomic_add_fetch(&a->request, 1, __ATOMIC_ACQ_REL);
    os_futex_wake(&a->request);
    uint64_t deadline = os_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        uint32_t got = __atomic_load_n(&a->answered, __ATOMIC_ACQUIRE);
        if ((int32_t)(got - want) >= 0)
            return 0;
        uint64_t now = os_now_ns();
        if (now >= deadline)
            return ETIMEDOUT;
        unsigned left = (unsigned)((deadline - now) / 1000000u) + 1;
        os_futex_wait(&a->answered, got, left);
    }
}

VMEM_API int vmem_statarea_list(const char *dir, void (*fn)(const char *name, void *arg),
                                void *arg)
{
    return os_statfile_list(dir, VMEM_STATAREA_PREFIX, fn, arg);
}

VMEM_API int vmem_proc_alive(long pid)
{
    return os_proc_alive(pid);
}

struct clean_ctx {
    const char *dir;
    unsigned removed;
};

static void clean_one(const char *name, void *arg)
{
    struct clean_ctx *c = arg;
    const struct vmem_statarea *a;
    void *m;
    size_t len;
    uint32_t uid;
    if (os_statfile_map(c->dir, name, 0, sizeof(*a), &m, &len, &uid) != 0)
        return;
    a = m;
    int stale = uid == os_uid() && a->magic == VMEM_STATAREA_MAGIC &&
                !os_proc_alive((long)a->pid) &&
                !(a->collector && os_proc_alive((long)a->collector));
    /* an area whose pid lives on may belong to a later process of that
     * pid: only the area named for a dead pid, or set aside, goes */
    os_statfile_unmap(m, len);
    if (stale && os_statfile_unlink(c->dir, name) == 0)
        c->removed++;
}

VMEM_API unsigned vmem_statarea_clean(const char *dir)
{
    struct clean_ctx c = { dir, 0 };
    os_statfile_list(dir, VMEM_STATAREA_PREFIX, clean_one, &c);
    return c.removed;
}

VMEM_API int vmem_statarea_remove(const char *dir, const char *name)
{
    void *m;
    size_t len;
    uint32_t uid;
    int err = os_statfile_map(dir, name, 0, sizeof(struct vmem_statarea), &m, &len, &uid);
    if (err)
        return err;
    int ours = uid == os_uid() && ((const struct vmem_statarea *)m)->magic == VMEM_STATAREA_MAGIC;
    os_statfile_unmap(m, len);
    return ours ? os_statfile_unlink(dir, name) : EPERM;
}
