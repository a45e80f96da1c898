/*
 * fork_paging.c -- a forked child and the parent's paged memory.
 *
 * A child's mappings lose their userfaultfd registration (libvmem does not
 * ask for UFFD_FEATURE_EVENT_FORK), so a page that was not in memory at the
 * fork -- standby or paged out in the parent -- would read as zeros in the
 * child.  Instead:
 *
 *   child:  every such page is made PROT_NONE; its first touch raises
 *           SIGSEGV, and fork_child_claim brings the content in: from the
 *           child's copy of the standby frame or of the compressed store
 *           (decompressed), or by pread from the parent's
 *           page file, which the child borrows read-only.  The child does no
 *           paging of its own (its fault mode is kernel).
 *   parent: from the fork on, page-file slots are not reused or punched
 *           (pagefile_hold), and a dirty page is never written back over
 *           its old slot (trim.c asks pagefile_held()), so the child reads
 *           the content of the fork's time.  Each child holds the write end
 *           of a close-on-exec pipe; when every child has exec'd or exited
 *           (the read ends report hang-up) the hold ends and the set-aside
 *           slots are freed.  A long-lived child that never execs keeps
 *           those slots allocated for its lifetime.
 *
 * A child may have several threads: a page is filled while it is still
 * inaccessible (UFFDIO_COPY through a userfaultfd of the child's own,
 * registered on that page only for the copy) and opened after, so no
 * thread reads it half-filled; a thread that faulted on it meanwhile
 * waits for as_lock and then just retries.
 *
 * Locks across fork: every lock of the library is taken by the prepare
 * handler, in the library's lock order (docs/architecture.md, "Locks"),
 * and released by the parent's and the child's handler, so the child
 * inherits none held by a thread that does not exist there.  init_lock is
 * taken first by api/init.c's handler; the rest are taken here.  A hard
 * fault may be reading with as_lock released at the fork (core/pte.h): the
 * child inherits its claimed pages INSTALLING, with no fault to finish
 * them; they kept their slot, so the child treats them as paged out.
 * hold_lock guards the list of pipes, shared by the forking thread and the
 * working-set manager thread, and is held from prepare to the parent
 * handler, so the reaper never sees the hold on and the child unregistered.
 */
#include "fault/fork_paging.h"
#include "compress/store.h"
#include "paging/cap.h"
#include "paging/start.h"
#include "paging/wsmanager.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"
#include "os/fd.h"
#include "os/process.h"
#include "os/sig.h"
#include "os/uffd.h"
#include "os/vm.h"
#include "pagefile/pagefile.h"
#include "paging/prefetch.h"
#include "core/prot.h"
#include "core/pte.h"
#include "core/region.h"
#include "paging/replacement.h"
#include "core/runtime.h"
#include "paging/standby.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define MAX_HOLDS 64

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static int hold_fds[MAX_HOLDS]; /* read ends, one per child still reading */
static int nholds;
static int hold_forever;        /* a child we cannot watch: never end */
static int pending[2] = { -1, -1 }; /* the pipe of the fork under way */
static int child_serves;
static int child_uffd = -1;     /* the child's own, for UFFDIO_COPY */

void (*fork_paging_window_hook)(void);
void (*fork_paging_lock_hook)(pthread_mutex_t *m);

/* Pages whose content is not in the child's memory. */
static int not_in_memory(const struct pte *p)
{
    return p->state == PTE_STANDBY || p->state == PTE_PAGEDOUT || p->state == PTE_INSTALLING ||
           p->state == PTE_INPAGE_ERROR || p->state == PTE_COMPRESSED;
}

/* The mutexes below as_lock and hold_lock, in the lock order
 * (docs/architecture.md). */
static pthread_mutex_t *inner_lock(int k)
{
    switch (k) {
    case 0: return replacement_fork_lock();
    case 1: return prefetch_fork_lock();
    case 2: return standby_fork_lock();
    case 3: return store_fork_lock();
    case 4: return pagefile_fork_lock();
    case 5: return ialloc_fork_lock();
    default: return NULL;
    }
}
#define NINNER 6

/* A fork cannot go on with a lock it failed to take or give back: the
 * child would inherit it held. */
static void must(int err, const char *what)
{
    if (err)
        mutex_fail("a lock taken across fork()", what, err);
}

static void take(pthread_mutex_t *m)
{
    if (fork_paging_lock_hook)
        fork_paging_lock_hook(m);
    must(pthread_mutex_lock(m), "take");
}

void fork_paging_prepare(void)
{
    take(sigchain_fork_lock());
    as_lock_exclusive();
    take(&hold_lock);
    if (paging_enabled()) {
        /* From here on no slot the child may read is reused; the
         * working-set manager thread ends the hold (fork_paging_reap). */
        paging_set_periodic(fork_paging_reap);
        pagefile_hold(1);
        if (os_pipe_open(pending) != 0) {
            pending[0] = pending[1] = -1;
            hold_forever = 1;
        }
    }
    for (int k = 0; k < NINNER; k++)
        take(inner_lock(k));
    if (fork_paging_window_hook)
        fork_paging_window_hook();
}

/* Releases what prepare took below as_lock, innermost first. */
static void unlock_inner(void)
{
    for (int k = NINNER - 1; k >= 0; k--)
        must(pthread_mutex_unlock(inner_lock(k)), "release");
}

void fork_paging_parent(void)
{
    unlock_inner();
    if (pending[0] >= 0) {
        os_fd_close(pending[1]);
        if (nholds < MAX_HOLDS) {
            hold_fds[nholds++] = pending[0];
        } else {
            os_fd_close(pending[0]);
            hold_forever = 1;
        }
        pending[0] = pending[1] = -1;
    }
    must(pthread_mutex_unlock(&hold_lock), "release");
    as_unlock();
    must(pthread_mutex_unlock(sigchain_fork_lock()), "release");
}

void fork_paging_reap(void)
{
    /* Busy only while a fork is between its prepare and parent handlers:
     * its child is not registered yet, so look again next round. */
    int e = pthread_mutex_trylock(&hold_lock);
    if (e) {
        static int told;
        if (e != EBUSY && !told++)
            vmem_log("cannot take the fork hold lock: %s", strerror(e));
        return;
    }
    for (int k = 0; k < nholds;) {
        if (os_pipe_hung_up(hold_fds[k])) {
            os_fd_close(hold_fds[k]);
            hold_fds[k] = hold_fds[--nholds];
            continue;
        }
        k++;
    }
    /* ended under the lock, so no fork's prepare switches it on between
     * the decision and the end */
    if (nholds == 0 && !hold_forever && pagefile_held())
        pagefile_hold(0);
    must(pthread_mutex_unlock(&hold_lock), "release");
}

/* Makes the pages of [first, end) that are not in memory PROT_NONE, one
 * mprotect per run. */
static void protect_absent(struct region *r, size_t first, size_t end)
{
    size_t run = 0, len = 0;
    for (size_t i = pte_next_present(&r->ptes, first, end); i < end;
         i = pte_next_present(&r->ptes, i + 1, end)) {
        const struct pte *p = pte_get(&r->ptes, i);
        if (not_in_memory(p)) {
            if (len && i == run + len) {
                len++;
                continue;
            }
            if (len)
                vm_protect(region_addr(r, run), len * PAGE_SZ, PROT_NONE);
            run = i;
            len = 1;
        }
    }
    if (len)
        vm_protect(region_addr(r, run), len * PAGE_SZ, PROT_NONE);
}

void fork_paging_child(void)
{
    /* The child is the forking thread alone: the locks prepare took are
     * its own (as_lock is made afresh by the runtime's handler). */
    unlock_inner();
    must(pthread_mutex_unlock(&hold_lock), "release");
    must(pthread_mutex_unlock(sigchain_fork_lock()), "release");
    /* the parent's pipes are not ours to watch */
    for (int k = 0; k < nholds; k++)
        os_fd_close(hold_fds[k]);
    nholds = 0;
    hold_forever = 0;
    /* A userfaultfd speaks for the address space that opened it: one
     * inherited from a forked parent is not ours. */
    uffd_close(child_uffd);
    child_uffd = -1;
    if (paging_enabled()) {
        os_fd_close(pending[0]); /* the write end stays open until exec or exit */
        pending[0] = pending[1] = -1;
        pagefile_borrow();
        paging_leave_in_child();
        for (struct region *r = region_next_above(0); r; r = region_next_above(r->base))
            protect_absent(r, 0, r->npages);
        child_serves = 1;
    }
    /* (a child of a child serves the pages it inherited still absent) */
    unsigned have;
    if (child_serves && uffd_open(0, &child_uffd, &have) != 0)
        child_uffd = -1; /* each claim then fails: the page stays inaccessible */
}

int fork_child_serves(void)
{
    return child_serves;
}

void fork_child_reprotect(struct region *r, size_t first, size_t end)
{
    if (child_serves)
        protect_absent(r, first, end);
}

/* A page read from the page file, before it is installed (as_lock
 * exclusive: one claim at a time). */
static uint8_t claim_buf[PAGE_SZ] __attribute__((aligned(PAGE_SZ)));

/* Fills the inaccessible page at addr with the content p names, leaving it
 * inaccessible: other threads never see it half-filled.  0 or errno.
 * as_lock exclusive. */
static int fill_absent(uintptr_t addr, const struct pte *p)
{
    const void *src = claim_buf;
    int err = 0;
    if (child_uffd < 0)
        return EBADF;
    if (p->state == PTE_STANDBY)
        src = standby_data(p->slot);
    else if (p->state == PTE_COMPRESSED)
        err = store_get(p->slot, claim_buf); /* the child's copy of the store */
    else
        err = pagefile_read(p->slot, claim_buf, 1);
    if (err)
        return err;
    if ((err = uffd_register(child_uffd, addr, PAGE_SZ, 0)) != 0)
        return err;
    size_t done;
    err = uffd_copy(child_uffd, addr, src, PAGE_SZ, 0, &done);
    if (err == EEXIST) {
        /* something is mapped there, never readable (the page was
         * inaccessible since the fork): replace it */
        vm_discard(addr, PAGE_SZ);
        err = uffd_copy(child_uffd, addr, src, PAGE_SZ, 0, &done);
    }
    /* never leave the page registered: a later missing fault on it would
     * wait for a server the child does not have */
    int e2 = uffd_unregister(child_uffd, addr, PAGE_SZ);
    return err ? err : e2;
}

/* The access of a SIGSEGV as PROT_* (x86-64: the page-fault error code). */
static int access_of(void *uctx)
{
#if defined(__x86_64__)
    if (uctx) {
        greg_t ec = ((ucontext_t *)uctx)->uc_mcontext.gregs[REG_ERR];
        return ec & 2 ? PROT_WRITE : ec & 16 ? PROT_EXEC : PROT_READ;
    }
#endif
    return PROT_WRITE;
}

/* The address this thread was last sent back to retry (see below). */
static VMEM_TLS uintptr_t retried;

enum sigchain_verdict fork_child_claim(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    if (!child_serves || si->si_code != SEGV_ACCERR)
        return SIGCHAIN_NOT_OURS;
    uintptr_t addr = round_down((uintptr_t)si->si_addr, PAGE_SZ);
    enum sigchain_verdict v = SIGCHAIN_NOT_OURS;
    int saved_errno = errno;
    as_lock_exclusive();
    struct region *r = region_find(addr);
    struct pte *p = r ? pte_get(&r->ptes, region_page(r, addr)) : NULL;
    int inpage_error = p && p->state == PTE_INPAGE_ERROR;
    if (inpage_error) {
        /* lost in the parent: the child gets the same in-page error, at
         * each access (the page stays inaccessible) */
        v = SIGCHAIN_HANDLED;
    } else if (p && not_in_memory(p)) {
        int err = fill_absent(addr, p);
        for (int attempt = 1; err && attempt < 3 && p->state == PTE_PAGEDOUT; attempt++)
            err = fill_absent(addr, p);
        if (err) {
            /* never let the child see wrong data: the page is lost to it
             * (it stays inaccessible), an in-page error as in the parent
             * (fault.c) */
            if (p->state == PTE_STANDBY)
                standby_drop(p->slot);
            if (p->state == PTE_COMPRESSED)
                store_free(p->slot);
            p->state = PTE_INPAGE_ERROR;
            p->slot = 0;
            ctr_add(&vmem_ctr.inpage_errors, 1);
            inpage_error = 1;
            v = SIGCHAIN_HANDLED;
            static int told;
            if (!told++)
                vmem_log("forked child: cannot bring in a page of its parent's (%s); "
                         "accessing it raises SIGBUS", strerror(err));
        } else {
            if (p->state == PTE_STANDBY)
                standby_drop(p->slot);
            if (p->state == PTE_COMPRESSED)
                store_free(p->slot);
            p->state = PTE_RESIDENT;
            p->slot = 0;
            p->flags |= PTE_F_DIRTY;
            vm_protect(addr, PAGE_SZ, prot_to_posix(p->prot));
            ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, 1);
            retried = 0;
            v = SIGCHAIN_HANDLED;
        }
    } else if (p && p->state != PTE_RESERVED && (prot_to_posix(p->prot) & access_of(uctx)) &&
               retried != addr) {
        /* Another thread brought the page in between this thread's fault
         * and now (it waited for as_lock): the access is allowed now, so
         * retry it.  Once only: if it faults again the page is not ours. */
        retried = addr;
        v = SIGCHAIN_HANDLED;
    }
    as_unlock();
    if (inpage_error)
        sig_raise_inpage_error(addr); /* delivered at once, no lock held */
    errno = saved_errno;
    return v;
}
