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
 *           child's copy of the standby frame, or by pread from the parent's
 *           page file, which the child borrows read-only.  The child does no
 *           paging of its own (its fault mode is kernel).
 *   parent: from the fork on, page-file slots are not reused or punched
 *           (pagefile_hold), and a dirty page is never written back over
 *           its old slot (evict.c asks pagefile_held()), so the child reads
 *           the content of the fork's time.  Each child holds the write end
 *           of a close-on-exec pipe; when every child has exec'd or exited
 *           (the read ends report hang-up) the hold ends and the set-aside
 *           slots are freed.  A long-lived child that never execs keeps
 *           those slots allocated for its lifetime.
 *
 * Locks: prepare runs with as_lock exclusive (taken by the runtime's
 * prepare handler), so no fault is between claiming and installing a page
 * (INSTALLING pages keep their slot and are treated as paged out); hold_lock
 * guards the list of pipes, shared by the forking thread and the
 * working-set manager thread.
 */
#include "fork_paging.h"
#include "evict.h"
#include "os/vm.h"
#include "pagefile.h"
#include "prot.h"
#include "pte.h"
#include "region.h"
#include "runtime.h"
#include "standby.h"
#include "stats.h"
#include "vmem_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_HOLDS 64

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static int hold_fds[MAX_HOLDS]; /* read ends, one per child still reading */
static int nholds;
static int hold_forever;        /* a child we cannot watch: never end */
static int pending[2] = { -1, -1 }; /* the pipe of the fork under way */
static int child_serves;
static int mem_fd = -1; /* this child's /proc/self/mem (fork_child_claim) */
static uint64_t mem_id;

/* Pages whose content is not in the child's memory. */
static int not_in_memory(const struct pte *p)
{
    return p->state == PTE_STANDBY || p->state == PTE_PAGEDOUT || p->state == PTE_INSTALLING;
}

void fork_paging_prepare(void)
{
    if (!paging_enabled())
        return;
    /* From here on no slot the child may read is reused. */
    pagefile_hold(1);
    if (pipe2(pending, O_CLOEXEC) != 0) {
        pending[0] = pending[1] = -1;
        hold_forever = 1;
    }
}

void fork_paging_parent(void)
{
    if (pending[0] < 0)
        return;
    close(pending[1]);
    pthread_mutex_lock(&hold_lock);
    if (nholds < MAX_HOLDS) {
        hold_fds[nholds++] = pending[0];
    } else {
        close(pending[0]);
        hold_forever = 1;
    }
    pthread_mutex_unlock(&hold_lock);
    pending[0] = pending[1] = -1;
}

void fork_paging_reap(void)
{
    pthread_mutex_lock(&hold_lock);
    for (int k = 0; k < nholds;) {
        struct pollfd p = { .fd = hold_fds[k], .events = POLLIN };
        if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR))) {
            close(hold_fds[k]);
            hold_fds[k] = hold_fds[--nholds];
            continue;
        }
        k++;
    }
    int end = nholds == 0 && !hold_forever && pagefile_held();
    pthread_mutex_unlock(&hold_lock);
    if (end)
        pagefile_hold(0);
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
    /* a descriptor inherited from a parent that was a child itself speaks
     * for that parent's memory */
    if (mem_fd >= 0)
        close(mem_fd);
    mem_fd = -1;
    mem_id = 0;
    /* the parent's pipes are not ours to watch */
    for (int k = 0; k < nholds; k++)
        close(hold_fds[k]);
    nholds = 0;
    hold_forever = 0;
    if (!paging_enabled())
        return;
    if (pending[0] >= 0)
        close(pending[0]); /* the write end stays open until exec or exit */
    pending[0] = pending[1] = -1;
    pagefile_borrow();
    paging_leave_in_child();
    for (struct region *r = region_next_above(0); r; r = region_next_above(r->base))
        protect_absent(r, 0, r->npages);
    child_serves = 1;
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

enum sigchain_verdict fork_child_claim(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
    if (!child_serves || si->si_code != SEGV_ACCERR)
        return SIGCHAIN_NOT_OURS;
    uintptr_t addr = round_down((uintptr_t)si->si_addr, PAGE_SZ);
    enum sigchain_verdict v = SIGCHAIN_NOT_OURS;
    int saved_errno = errno;
    as_lock_exclusive();
    struct region *r = region_find(addr);
    struct pte *p = r ? pte_get(&r->ptes, region_page(r, addr)) : NULL;
    if (p && not_in_memory(p)) {
        /* The content goes in while the page is still inaccessible, so no
         * other thread of the child reads it before it is all there; only
         * then is the page opened. */
        static uint8_t buf[PAGE_SZ] __attribute__((aligned(PAGE_SZ))); /* under as_lock */
        const void *src = buf;
        int err = 0;
        if (p->state == PTE_STANDBY)
            src = standby_data(p->slot);
        else
            err = pagefile_read(p->slot, buf, 1);
        int werr = EBADF;
        if (!err && mem_fd >= 0)
            werr = vm_write_hidden(mem_fd, mem_id, addr, src, PAGE_SZ);
        if (!err && werr == EBADF && vm_mem_open(&mem_fd, &mem_id) == 0)
            werr = vm_write_hidden(mem_fd, mem_id, addr, src, PAGE_SZ);
        if (!err && werr) {
            /* no /proc/self/mem: open the page first, then fill it (another
             * thread may glimpse it half-filled; better than no page-in) */
            if ((err = vm_protect(addr, PAGE_SZ, PROT_READ | PROT_WRITE)) == 0)
                memcpy((void *)addr, src, PAGE_SZ);
        }
        if (err) {
            /* never let the child see wrong data: it dies of the SIGSEGV */
            vmem_log("forked child: cannot read a page of its parent's page file (%s)",
                     strerror(err));
        } else if (vm_protect(addr, PAGE_SZ, prot_to_posix(p->prot)) == 0) {
            if (p->state == PTE_STANDBY)
                standby_drop(p->slot);
            p->state = PTE_RESIDENT;
            p->slot = 0;
            p->flags |= PTE_F_DIRTY;
            ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, 1);
            v = SIGCHAIN_HANDLED;
        }
    }
    as_unlock();
    errno = saved_errno;
    return v;
}
