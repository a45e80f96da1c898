/*
 * runtime.c -- start-up (feature detection, fallbacks), shutdown, fork.
 *
 * Start-up picks where faults are resolved: the configured mode when the
 * kernel allows it, else the next best (signal -> thread -> kernel), with
 * a one-line notice on stderr.
 */
#include "core/runtime.h"
#include "api/addrspace.h"
#include "paging/cap.h"
#include "paging/start.h"
#include "fault/fault.h"
#include "fault/fork_paging.h"
#include "fault/guard.h"
#include "core/internal_alloc.h"
#include "os/uffd.h"
#include "os/vm.h"
#include "pagefile/pagefile.h"
#include "core/region.h"
#include "fault/sigchain.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct vmem_runtime vmem_rt = { .uffd = -1 };

enum { RT_OFF = 0, RT_READY = 1, RT_FAILED = 2 };
static int rt_state;           /* atomic */
static int rt_error;           /* errno of a failed start */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

void vmem_log(const char *fmt, ...)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "libvmem: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    if (write(2, buf, (size_t)n) < 0)
        return;
}

int runtime_ready(void)
{
    return __atomic_load_n(&rt_state, __ATOMIC_ACQUIRE) == RT_READY;
}

static void report_at_exit(void)
{
    if (!runtime_ready())
        return;
    if (!vmem_rt.cfg.report_file[0]) {
        vmem_print_stats(2);
        return;
    }
    /* Appended, headed by the process id: with LD_PRELOAD every program
     * a command runs reports into the same file. */
    int fd = open(vmem_rt.cfg.report_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        vmem_log("cannot open the report file %s: %s", vmem_rt.cfg.report_file,
                 strerror(errno));
        return;
    }
    char head[64];
    int n = snprintf(head, sizeof(head), "pid %ld\n", (long)getpid());
    if (n > 0 && write(fd, head, (size_t)n) == n)
        vmem_print_stats(fd);
    close(fd);
}

VMEM_TLS unsigned as_lock_depth;
VMEM_TLS unsigned char as_lock_sigs_blocked;
/* the mask the thread had before it took as_lock */
static VMEM_TLS sigset_t as_lock_saved_mask;

void as_lock_fail(const char *what, int err)
{
    vmem_log("internal error: the address-space lock %s (%s); aborting", what, strerror(err));
    abort();
}

void as_lock_block_signals(void)
{
    sigset_t async;
    sigfillset(&async);
    sigdelset(&async, SIGSEGV);
    sigdelset(&async, SIGBUS);
    sigdelset(&async, SIGILL);
    sigdelset(&async, SIGFPE);
    sigdelset(&async, SIGTRAP);
    sigdelset(&async, SIGSYS);
    pthread_sigmask(SIG_BLOCK, &async, &as_lock_saved_mask);
}

void as_lock_restore_signals(void)
{
    pthread_sigmask(SIG_SETMASK, &as_lock_saved_mask, NULL);
}

void as_lock_forget_in_child(void)
{
    if (as_lock_depth && !as_lock_sigs_blocked)
        as_lock_restore_signals();
    as_lock_depth = 0;
}

int syscall_guard_linked(void); /* syscall_guard.c */

static void init_as_lock(void)
{
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* Writer preference: an API call must not starve behind a stream of
     * faults.  Safe because nothing takes as_lock recursively. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&vmem_rt.as_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
}

/* fork: the child's mappings lose their userfaultfd registration (no
 * UFFD_FEATURE_EVENT_FORK), so the kernel serves the child's faults; its
 * copy of the descriptor still speaks for the parent's address space and
 * must never be used.  Every lock of the library is held across fork()
 * (fork_paging.c), init_lock first: the runtime cannot start or stop in
 * between. */
static void fork_must(int err)
{
    if (err) { /* the child would inherit it held */
        vmem_log("fork: cannot take or release the runtime lock: %s", strerror(err));
        abort();
    }
}
static void atfork_prepare(void)
{
    fork_must(pthread_mutex_lock(&init_lock));
    if (runtime_ready())
        fork_paging_prepare();
}
static void atfork_parent(void)
{
    if (runtime_ready())
        fork_paging_parent();
    fork_must(pthread_mutex_unlock(&init_lock));
}
static void atfork_child(void)
{
    if (runtime_ready()) {
        if (vmem_rt.uffd >= 0)
            close(vmem_rt.uffd);
        vmem_rt.uffd = -1;
        vmem_rt.mode = VMEM_FAULT_KERNEL;
        fault_thread_forget();
        fork_paging_child();
        /* The lock was taken by the parent's thread id: unlocking it here
         * would not release a write lock, so make a fresh one. */
        as_lock_forget_in_child();
        init_as_lock();
    }
    fork_must(pthread_mutex_unlock(&init_lock));
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
    if (err)
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
    pthread_mutex_lock(&init_lock);
    if (paging_enabled())
        err = paging_set_cap(bytes / PAGE_SZ);
    else if (!uses_uffd())
        err = ENOTSUP;
    else
        err = start_paging(bytes);
    if (!err)
        vmem_rt.cfg.max_resident = bytes;
    pthread_mutex_unlock(&init_lock);
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
        memchr(c->prefetch, 0, sizeof(c->prefetch)) == NULL)
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
    if (sysconf(_SC_PAGESIZE) != (long)PAGE_SZ) {
        vmem_log("page size is %ld, libvmem needs 4096", sysconf(_SC_PAGESIZE));
        return ENOTSUP;
    }

    init_as_lock();

    /* Zero source for UFFDIO_COPY: read-only anonymous memory reads as the
     * kernel's zero page, so a whole cluster copies from one cached page. */
    vmem_rt.zero_len = (size_t)vmem_rt.cfg.zero_cluster * PAGE_SZ;
    void *z = mmap(NULL, vmem_rt.zero_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (z == MAP_FAILED)
        return ENOMEM;
    vmem_rt.zero_buf = z;

    (void)syscall_guard_linked();
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
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
        if (vmem_rt.cfg.report)
            atexit(report_at_exit);
    }
    return 0;
}

/* Undoes a partial start. */
static void unstart(void)
{
    paging_stop();
    fault_thread_stop();
    if (vmem_rt.uffd >= 0)
        close(vmem_rt.uffd);
    vmem_rt.uffd = -1;
    if (vmem_rt.zero_buf)
        munmap((void *)vmem_rt.zero_buf, vmem_rt.zero_len);
    vmem_rt.zero_buf = NULL;
}

/* A start from the environment that fails stays failed (every call reports
 * the same error, the message is printed once); an explicit vmem_init may
 * be retried with a better configuration. */
static int init_locked(const struct vmem_config *cfg)
{
    int st = __atomic_load_n(&rt_state, __ATOMIC_ACQUIRE);
    if (st == RT_READY)
        return EALREADY;
    int err = start(cfg);
    if (err) {
        unstart();
        rt_error = err;
        __atomic_store_n(&rt_state, cfg ? RT_OFF : RT_FAILED, __ATOMIC_RELEASE);
        return err;
    }
    __atomic_store_n(&rt_state, RT_READY, __ATOMIC_RELEASE);
    return 0;
}

int runtime_ensure(void)
{
    int st = __atomic_load_n(&rt_state, __ATOMIC_ACQUIRE);
    if (likely(st == RT_READY))
        return 0;
    pthread_mutex_lock(&init_lock);
    st = __atomic_load_n(&rt_state, __ATOMIC_ACQUIRE);
    int err = st == RT_READY ? 0 : st == RT_FAILED ? rt_error : init_locked(NULL);
    pthread_mutex_unlock(&init_lock);
    return err;
}

VMEM_API int vmem_init(const struct vmem_config *cfg)
{
    pthread_mutex_lock(&init_lock);
    int err = init_locked(cfg);
    pthread_mutex_unlock(&init_lock);
    return err;
}

VMEM_API int vmem_get_config(struct vmem_config *cfg)
{
    int err = runtime_ensure();
    if (err)
        return err;
    *cfg = vmem_rt.cfg;
    cfg->fault_mode = vmem_rt.mode;
    return 0;
}

static void release_region(struct region *r)
{
    addrspace_drop_region(r);
}

VMEM_API void vmem_shutdown(void)
{
    pthread_mutex_lock(&init_lock);
    if (!runtime_ready()) {
        __atomic_store_n(&rt_state, RT_OFF, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&init_lock);
        return;
    }
    fault_thread_stop();
    /* Regions go first, while their standby frames and page-file slots
     * still exist to be freed; then the trimmer and the page file. */
    as_lock_exclusive();
    region_for_each(release_region);
    as_unlock();
    paging_stop();
    as_lock_exclusive();
    __atomic_store_n(&rt_state, RT_OFF, __ATOMIC_RELEASE);
    if (vmem_rt.uffd >= 0)
        close(vmem_rt.uffd);
    vmem_rt.uffd = -1;
    munmap((void *)vmem_rt.zero_buf, vmem_rt.zero_len);
    vmem_rt.zero_buf = NULL;
    as_unlock();
    pthread_rwlock_destroy(&vmem_rt.as_lock);
    pthread_mutex_unlock(&init_lock);
}
