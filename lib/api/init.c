/*
 * init.c -- starting and stopping the runtime: configuration, feature
 * detection and fallbacks, the fault source and handlers, paging on and
 * off, shutdown, and the fork handlers that keep it consistent across
 * fork().
 *
 * Start-up picks where faults are resolved: the configured mode when the
 * kernel allows it, else the next best (signal -> thread -> kernel), with
 * a one-line notice on stderr.
 */
#include "api/init.h"
#include "api/addrspace.h"
#include "api/config.h"
#include "api/publish.h"
#include "api/stats.h"
#include "core/mutex.h"
#include "core/region.h"
#include "core/runtime.h"
#include "core/vmem_internal.h"
#include "paging/cap.h"
#include "paging/start.h"
#include "fault/fault.h"
#include "fault/fork_paging.h"
#include "section/handle.h"
#include "section/section.h"
#include "section/vpage.h"
#include "fault/guard.h"
#include "fault/sigchain.h"
#include "os/file.h"
#include "os/process.h"
#include "os/time.h"
#include "os/uffd.h"
#include "os/vm.h"
#include "pagefile/pagefile.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rt_error;           /* errno of a failed start */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static void init_take(void) { mutex_take("init_lock", &init_lock); }
static void init_give(void) { mutex_give("init_lock", &init_lock); }


/* fork: the child's mappings lose their userfaultfd registration (no
 * UFFD_FEATURE_EVENT_FORK), so the kernel serves the child's faults; its
 * copy of the descriptor still speaks for the parent's address space and
 * must never be used.  Every lock of the library is held across fork()
 * (fork_paging.c), init_lock first: the runtime cannot start or stop in
 * between. */
static void atfork_prepare(void)
{
    init_take(); /* a failure aborts: the child would inherit it held */
    handle_fork_prepare();
    section_fork_prepare();
    if (runtime_ready())
        fork_paging_prepare();
}
static void atfork_parent(void)
{
    if (runtime_ready())
        fork_paging_parent();
    section_fork_parent();
    handle_fork_parent();
    init_give();
}
static void atfork_child(void)
{
    if (runtime_ready()) {
        uffd_close(vmem_rt.uffd);
        vmem_rt.uffd = -1;
        vmem_rt.mode = VMEM_FAULT_KERNEL;
        fault_thread_forget();
        fork_paging_child();
        /* The lock was taken by the parent's thread id: unlocking it here
         * would not release a write lock, so make a fresh one. */
        as_lock_forget_in_child();
        int e = as_lock_init();
        if (e)
            as_lock_fail("cannot be made afresh in a forked child", e);
        publish_fork_child();
    }
    sigchain_forget_in_child();
    section_fork_child();
    handle_fork_child();
    init_give();
}

/* SIGSEGV: a forked child's first touch of a page that was paged out in
 * the parent, or a guard page. */
static enum sigchain_verdict segv_claim(int sig, siginfo_t *si, void *uctx)
{
    enum sigchain_verdict v = fork_child_claim(sig, si, uctx);
    return v != SIGCHAIN_NOT_OURS ? v : guard_claim(sig, si, uctx);
}

static int start_paging(uint64_t bytes)
{
    char msg[512];
    const char *where = vmem_rt.cfg.pagefile[0] ? vmem_rt.cfg.pagefile : NULL;
    int err = paging_start(bytes / PAGE_SZ, where, vmem_rt.cfg.pagefile_max, msg, sizeof(msg));
    if (err && !strstr(msg, "VMEM_PAGEFILE") && strstr(msg, "page file"))
        /* name the option behind the place, set or not */
        vmem_log("cannot start paging: %s (%s)", msg,
                 where ? "the place VMEM_PAGEFILE names"
                       : "the default place: VMEM_PAGEFILE names another");
    else if (err)
        vmem_log("cannot start paging: %s", msg);
    return err;
}

VMEM_API int vmem_set_max_resident(uint64_t bytes)
{
    int err = runtime_ensure();
    if (err)
        return err;
    if (bytes / PAGE_SZ < 64)
        return EINVAL;
    init_take();
    if (paging_enabled())
        err = paging_set_cap(bytes / PAGE_SZ);
    else if (!uses_uffd())
        err = ENOTSUP;
    else
        err = start_paging(bytes);
    if (!err)
        vmem_rt.cfg.max_resident = bytes;
    init_give();
    return err;
}

static int check_config(const struct vmem_config *c)
{
    if (c->fault_mode != VMEM_FAULT_THREAD && c->fault_mode != VMEM_FAULT_SIGNAL &&
        c->fault_mode != VMEM_FAULT_KERNEL)
        return EINVAL;
    if (c->zero_cluster < 1 || c->zero_cluster > 512)
        return EINVAL;
    if (c->spin_us > 1000000 || c->io_spin_us > 10000 || c->fault_threads > 64 || c->cluster > 512)
        return EINVAL;
    if (c->high_water < 50 || c->high_water > 100 || c->low_water < 10 ||
        c->low_water > c->high_water)
        return EINVAL;
    if (c->pagefile_max > PAGEFILE_MAX_BYTES || (unsigned)c->pagefile_checksum > 1)
        return EINVAL;
    if (memchr(c->pagefile, 0, sizeof(c->pagefile)) == NULL ||
        memchr(c->policy, 0, sizeof(c->policy)) == NULL ||
        memchr(c->prefetch, 0, sizeof(c->prefetch)) == NULL ||
        memchr(c->report_file, 0, sizeof(c->report_file)) == NULL)
        return EINVAL;
    if ((unsigned)c->trim > VMEM_TRIM_COPY || (unsigned)c->dirty_tracking > VMEM_DIRTY_OFF ||
        (unsigned)c->prefetch_install > VMEM_PREFETCH_STANDBY)
        return EINVAL;
    return 0;
}

/* Opens userfaultfd for the configured mode, falling back as needed. */
static int open_fault_source(void)
{
    enum vmem_fault_mode want = vmem_rt.cfg.fault_mode;
    vmem_rt.mode = want;
    if (want == VMEM_FAULT_KERNEL)
        return 0;
    int err = uffd_open(want == VMEM_FAULT_SIGNAL, &vmem_rt.uffd, &vmem_rt.uffd_have);
    if (err == ENOTSUP && want == VMEM_FAULT_SIGNAL) {
        vmem_log("this kernel has no UFFD_FEATURE_SIGBUS; using fault mode thread");
        vmem_rt.mode = VMEM_FAULT_THREAD;
        err = uffd_open(0, &vmem_rt.uffd, &vmem_rt.uffd_have);
    }
    if (err) {
        vmem_log("userfaultfd unavailable (%s); using fault mode kernel: no paging, "
                 "no write watch", strerror(err));
        vmem_rt.uffd = -1;
        vmem_rt.mode = VMEM_FAULT_KERNEL;
    }
    return 0;
}

static int start(const struct vmem_config *cfg)
{
    int err;
    char msg[256];
    if (cfg) {
        if ((err = check_config(cfg)) != 0) {
            vmem_log("invalid configuration passed to vmem_init");
            return err;
        }
        vmem_rt.cfg = *cfg;
    } else if ((err = vmem_config_from_env(&vmem_rt.cfg, msg, sizeof(msg))) != 0) {
        vmem_log("%s", msg);
        return err;
    }
    /* Sections make and remove slot files in the page-file directory long
     * after start: a relative path would follow a later chdir (a slot file
     * left behind, another process unable to open the section's name). */
    if (vmem_rt.cfg.pagefile[0] && vmem_rt.cfg.pagefile[0] != '/') {
        char abs[sizeof vmem_rt.cfg.pagefile];
        if ((err = os_file_absolute(vmem_rt.cfg.pagefile, abs, sizeof abs)) != 0) {
            vmem_log("VMEM_PAGEFILE %s: cannot make it an absolute path: %s",
                     vmem_rt.cfg.pagefile, strerror(err));
            return err;
        }
        memcpy(vmem_rt.cfg.pagefile, abs, sizeof abs);
    }
    long page = vm_page_size();
    if (page != (long)PAGE_SZ) {
        vmem_log("page size is %ld, libvmem needs 4096", page);
        return ENOTSUP;
    }

    if ((err = as_lock_init()) != 0) {
        vmem_log("cannot make the address-space lock: %s", strerror(err));
        return err;
    }

    /* Zero source for UFFDIO_COPY: read-only anonymous memory reads as the
     * kernel's zero page, so a whole cluster copies from one cached page. */
    vmem_rt.zero_len = (size_t)vmem_rt.cfg.zero_cluster * PAGE_SZ;
    if (vm_alloc_zeros(vmem_rt.zero_len, &vmem_rt.zero_buf) != 0) {
        vmem_rt.zero_buf = NULL;
        return ENOMEM;
    }

    /* before any thread counts: the counters move to the published area */
    if ((err = publish_start(msg, sizeof(msg))) != 0) {
        vmem_log("%s", msg);
        return err;
    }

    open_fault_source();
    if ((err = sigchain_install(SIGSEGV, segv_claim)) != 0)
        return err;
    /* thread mode too: the SIGBUS of a page lost to an in-page error is
     * told apart there (fault_sigbus_claim) */
    if (uses_uffd() && (err = sigchain_install(SIGBUS, fault_sigbus_claim)) != 0)
        return err;
    if (vmem_rt.mode == VMEM_FAULT_THREAD && (err = fault_thread_start()) != 0) {
        vmem_log("cannot start the fault thread: %s", strerror(err));
        return err;
    }
    if (vmem_rt.cfg.max_resident && !uses_uffd())
        vmem_log("fault mode kernel cannot page: VMEM_MAX_RESIDENT is not enforced");
    else if (vmem_rt.cfg.max_resident && (err = start_paging(vmem_rt.cfg.max_resident)) != 0)
        return err;

    static int once;
    if (!once) {
        once = 1;
        if (os_atfork(atfork_prepare, atfork_parent, atfork_child) != 0)
            vmem_log("cannot register the fork handlers");
        if (os_on_exit(stats_at_exit, NULL) != 0) /* the report, how the process ended */
            vmem_log("cannot register the exit report");
    }
    return 0;
}

/* Undoes a partial start. */
static void unstart(void)
{
    publish_stop();
    paging_stop();
    fault_thread_stop();
    uffd_close(vmem_rt.uffd);
    vmem_rt.uffd = -1;
    if (vmem_rt.zero_buf)
        vm_unmap((uintptr_t)vmem_rt.zero_buf, vmem_rt.zero_len);
    vmem_rt.zero_buf = NULL;
    publish_drop();
}

/* A start from the environment that fails stays failed (every call reports
 * the same error, the message is printed once); an explicit vmem_init may
 * be retried with a better configuration. */
static int init_locked(const struct vmem_config *cfg)
{
    if (runtime_state() == RT_READY)
        return EALREADY;
    int err = start(cfg);
    if (err) {
        unstart();
        rt_error = err;
        runtime_set_state(cfg ? RT_OFF : RT_FAILED);
        return err;
    }
    runtime_set_state(RT_READY);
    return 0;
}

int runtime_ensure(void)
{
    if (likely(runtime_ready()))
        return 0;
    init_take();
    int st = runtime_state();
    int err = st == RT_READY ? 0 : st == RT_FAILED ? rt_error : init_locked(NULL);
    init_give();
    return err;
}

VMEM_API int vmem_init_sized(const struct vmem_config *cfg, size_t size)
{
    /* the caller's struct, of the size its vmem.h declared, is read before
     * init_lock is taken */
    struct vmem_config full;
    if (cfg && config_import(&full, cfg, size))
        return EINVAL;
    init_take();
    int err = init_locked(cfg ? &full : NULL);
    init_give();
    return err;
}

VMEM_API int vmem_get_config_sized(struct vmem_config *cfg, size_t size)
{
    if (!cfg || !config_size_ok(size))
        return EINVAL;
    int err = runtime_ensure();
    if (err)
        return err;
    struct vmem_config c = vmem_rt.cfg;
    c.fault_mode = vmem_rt.mode;
    return config_export(cfg, size, &c);
}

/* Regions a fault is still reading page-file pages for (inflight): left
 * for the next round, as decommit and release wait for them. */
static size_t busy_regions;

static void drop_idle_region(struct region *r)
{
    if (__atomic_load_n(&r->inflight, __ATOMIC_ACQUIRE))
        busy_regions++;
    else
        addrspace_drop_region(r);
}

/* Unmaps every reservation.  A fault whose read is in flight finishes
 * first (it needs as_lock shared back, so it is waited for with the lock
 * released); a fault that comes after finds no reservation, and its access
 * meets an unmapped address. */
static void drop_all_regions(void)
{
    for (;;) {
        as_lock_exclusive();
        busy_regions = 0;
        region_for_each(drop_idle_region);
        size_t busy = busy_regions;
        as_unlock();
        if (!busy)
            return;
        os_nap_ns(20 * 1000);
    }
}

/* What a thread touching managed memory meanwhile gets is in vmem.h
 * (vmem_shutdown): its fault completes, or its access meets the unmapped
 * reservation and raises SIGSEGV. */
VMEM_API void vmem_shutdown(void)
{
    section_release_names(); /* the names go with the runtime */
    vpage_shutdown();        /* views' pages counted down, their thread stopped */
    init_take();
    if (!runtime_ready()) {
        runtime_set_state(RT_OFF);
        init_give();
        return;
    }
    publish_stop();
    fault_thread_stop();
    /* Regions go first, while their standby frames and page-file slots
     * still exist to be freed; then the trimmer and the page file, once
     * no fault handler (signal mode) that may be making room under the cap
     * is left. */
    drop_all_regions();
    sigchain_quiesce();
    paging_stop();
    as_lock_exclusive();
    runtime_set_state(RT_OFF);
    uffd_close(vmem_rt.uffd);
    vmem_rt.uffd = -1;
    vm_unmap((uintptr_t)vmem_rt.zero_buf, vmem_rt.zero_len);
    vmem_rt.zero_buf = NULL;
    as_unlock();
    /* a handler that saw the runtime running may be about to take as_lock */
    sigchain_quiesce();
    as_lock_destroy();
    init_give();
}
