/*
 * aslock.c -- the address-space lock's helpers (runtime.h): making the
 * lock, the per-thread hold count, the signal mask while it is held or
 * waited for, the counted and timed waits, and the report of a failure.
 */
#include "core/runtime.h"
#include "core/vmem_internal.h"
#include "os/process.h"
#include "os/sig.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

VMEM_TLS unsigned as_lock_depth;
VMEM_TLS uint64_t as_lock_exclusive_since;
VMEM_TLS unsigned char as_lock_sigs_blocked;
/* the mask the thread had before it took as_lock */
static VMEM_TLS sigset_t as_lock_saved_mask;

int as_lock_init(void)
{
    pthread_rwlockattr_t attr;
    int err = pthread_rwlockattr_init(&attr);
    if (err)
        return err;
    /* Writer preference: an API call must not starve behind a stream of
     * faults.  Safe because nothing takes as_lock recursively. */
    err = pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (!err)
        err = pthread_rwlock_init(&vmem_rt.as_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    return err;
}

void as_lock_destroy(void)
{
    int e = pthread_rwlock_destroy(&vmem_rt.as_lock);
    if (e)
        as_lock_fail("cannot be destroyed", e);
}

void as_lock_fail(const char *what, int err)
{
    vmem_log("internal error: the address-space lock %s (%s); aborting", what, strerror(err));
    os_abort();
}

/* The wait is timed on the monotonic clock (a vDSO read, async-signal-safe:
 * the SIGBUS handler of signal mode comes here). */
static void count_wait(uint64_t t0)
{
    ctr_add(&vmem_ctr.as_lock_waits, 1);
    ctr_add(&vmem_ctr.as_lock_wait_ns, os_now_ns() - t0);
}

int as_lock_wait_shared(void)
{
    uint64_t t0 = os_now_ns();
    int e = pthread_rwlock_rdlock(&vmem_rt.as_lock);
    if (!e)
        count_wait(t0);
    return e;
}

int as_lock_wait_exclusive(void)
{
    uint64_t t0 = os_now_ns();
    int e = pthread_rwlock_wrlock(&vmem_rt.as_lock);
    if (!e)
        count_wait(t0);
    return e;
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
    os_sigmask(SIG_BLOCK, &async, &as_lock_saved_mask);
}

void as_lock_restore_signals(void)
{
    os_sigmask(SIG_SETMASK, &as_lock_saved_mask, NULL);
}

void as_lock_forget_in_child(void)
{
    if (as_lock_depth && !as_lock_sigs_blocked)
        as_lock_restore_signals();
    as_lock_depth = 0;
    as_lock_exclusive_since = 0;
}
