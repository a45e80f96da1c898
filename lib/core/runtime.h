/*
 * runtime.h -- the process-wide state of libvmem (runtime.c) and the
 * address-space lock, as_lock, with its helpers (aslock.c).  Starting and
 * stopping the runtime is api/init.c's.
 *
 * as_lock guards the reservations, the page states and the protections:
 * taken shared by fault resolution (fault thread, SIGBUS handler),
 * VirtualQuery and write-watch reads; exclusive by everything that changes
 * them.  Its place in the library's lock order, what may be done while
 * holding it, and the rule that no code holding it touches managed memory
 * are in docs/architecture.md ("Locks"); which page-state transitions need
 * it in which mode is in core/pte.h.
 *
 * Every acquisition is counted (core/stats.h: as_lock_shared,
 * as_lock_exclusive): one relaxed atomic add.  An acquisition first tries
 * the lock; only one that finds it taken is counted as a wait and timed
 * (os_now_ns around the blocking call, aslock.c), and an exclusive hold is
 * timed from acquisition to release.  The uncontended shared path, the
 * fault's, so costs no clock read.
 */
#ifndef VMEM_RUNTIME_H
#define VMEM_RUNTIME_H

#include <vmem.h>

#include "core/stats.h"
#include "core/vmem_internal.h"
#include "os/time.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>

struct vmem_runtime {
    struct vmem_config cfg;
    enum vmem_fault_mode mode;   /* in force: may differ from cfg after a
                                    fallback or in a forked child */
    int uffd;                    /* -1 in kernel mode */
    unsigned uffd_have;          /* UFFD_HAVE_* */
    pthread_rwlock_t as_lock;
    const void *zero_buf;        /* zero_len bytes of zeros (read-only) */
    size_t zero_len;
};

extern struct vmem_runtime vmem_rt;

/* The runtime's state: off, running, or failed to start from the
 * environment (which stays failed).  Set by api/init.c under init_lock. */
enum { RT_OFF = 0, RT_READY = 1, RT_FAILED = 2 };
int runtime_state(void);
void runtime_set_state(int st);

/* 1 once the runtime is running; safe in signal handlers. */
int runtime_ready(void);

/* Makes as_lock (at start-up, and afresh in a forked child): 0 or errno. */
int as_lock_init(void);
/* At shutdown, with no thread holding it or waiting for it. */
void as_lock_destroy(void);

/* How many times this thread holds as_lock (0 or 1: nothing takes it
 * recursively).  syscall_guard.c reads it: the library's own I/O, done
 * under the lock, must not take it again. */
extern _Thread_local unsigned as_lock_depth __attribute__((tls_model("initial-exec")));

/* Set in threads that block asynchronous signals already (the library's
 * own threads, libvmem's SIGSEGV/SIGBUS handler): the lock helpers then
 * leave the signal mask alone. */
extern _Thread_local unsigned char as_lock_sigs_blocked __attribute__((tls_model("initial-exec")));

/* Reports a failure of the lock (a library bug: taking it twice, or the
 * rwlock refusing) and aborts.  Async-signal-safe. */
void as_lock_fail(const char *what, int err) __attribute__((noreturn, cold));

/* Asynchronous signals are blocked while a thread waits for or holds
 * as_lock: an application handler (a timer, a profiler) that touched
 * managed memory there would need a fault, and the fault needs the lock
 * this thread holds or is queued for -- a deadlock in fault mode thread, a
 * lock taken twice in mode signal.  The synchronous signals stay open: code
 * under the lock never raises them (and if it does, the process must see
 * it, not have it held pending). */
void as_lock_block_signals(void);
void as_lock_restore_signals(void);

static inline void as_lock_enter(void)
{
    if (unlikely(as_lock_depth))
        as_lock_fail("taken again by a thread that holds it (a fault on managed memory under "
                     "the lock?)", EDEADLK);
    if (!as_lock_sigs_blocked)
        as_lock_block_signals();
}

/* When this thread took as_lock exclusive (os_now_ns); 0 when it holds it
 * shared or not at all. */
extern _Thread_local uint64_t as_lock_exclusive_since __attribute__((tls_model("initial-exec")));

/* The slow paths (aslock.c): the lock was taken; waits for it, counting
 * and timing the wait.  0 or the rwlock's error. */
int as_lock_wait_shared(void);
int as_lock_wait_exclusive(void);

static inline void as_lock_shared(void)
{
    as_lock_enter();
    int e = pthread_rwlock_tryrdlock(&vmem_rt.as_lock);
    if (e == EBUSY || e == EAGAIN)
        e = as_lock_wait_shared();
    if (unlikely(e))
        as_lock_fail("cannot take it shared", e);
    ctr_add(&vmem_ctr.as_lock_shared, 1);
    as_lock_depth++;
}
static inline void as_lock_exclusive(void)
{
    as_lock_enter();
    int e = pthread_rwlock_trywrlock(&vmem_rt.as_lock);
    if (e == EBUSY)
        e = as_lock_wait_exclusive();
    if (unlikely(e))
        as_lock_fail("cannot take it exclusive", e);
    ctr_add(&vmem_ctr.as_lock_exclusive, 1);
    as_lock_exclusive_since = os_now_ns() | 1; /* never 0 */
    as_lock_depth++;
}
static inline void as_unlock(void)
{
    if (unlikely(as_lock_depth != 1))
        as_lock_fail("released by a thread that does not hold it", EPERM);
    if (as_lock_exclusive_since) {
        ctr_add(&vmem_ctr.as_lock_exclusive_ns, os_now_ns() - as_lock_exclusive_since);
        as_lock_exclusive_since = 0;
    }
    int e = pthread_rwlock_unlock(&vmem_rt.as_lock);
    if (unlikely(e))
        as_lock_fail("cannot release it", e);
    as_lock_depth--;
    if (!as_lock_sigs_blocked)
        as_lock_restore_signals();
}

/* In a forked child (at fork, the parent's thread held the lock): forgets
 * the hold and gives the thread back its signal mask. */
void as_lock_forget_in_child(void);

static inline int uses_uffd(void) { return vmem_rt.uffd >= 0; }

#endif
