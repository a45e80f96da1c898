/*
 * section/vpage.c -- paging the views of page-file sections
 * (section/vpage.h; the design is in docs/sections.md).
 *
 * Every step on a page runs under its entry's lock in the section's shared
 * table (vtable.h), in whichever process takes it:
 *
 *   fault (view thread): NEVER -> a zero page (UFFDIO_ZEROPAGE puts it in
 *   the memory); IN_RAM or a minor fault -> UFFDIO_CONTINUE; OUT -> the
 *   slot read, its crc checked, UFFDIO_COPY (back into the memory, for
 *   every process).  Then this process counts the page (vt_count_up:
 *   the map count + 1 if it did not yet) and its working set goes up by
 *   one.  An OUT page's read takes the run of OUT neighbours of the same
 *   view around it (the prefetch window, within the room the cap has; only
 *   pages whose lock is free at once) in one I/O, each crc-checked,
 *   installed and counted as a faulted page.
 *
 *   trim (working-set manager): MADV_DONTNEED on this process's view page
 *   (only its page-table entry goes), counted down (vt_count_down: the map
 *   count - 1 if no other view page of this process maps it); at 0 the
 *   page joins the write-out batch, its entry lock kept.  A batch (up to
 *   TRIM_BATCH pages) is read from the memory, written to the slots in one
 *   submission, and each page written has its crc and state OUT recorded,
 *   then its RAM punched out; a page whose write failed stays IN_RAM.  No
 *   process maps them, so every access faults and waits for the lock: no
 *   write is lost.  A holder killed between two steps leaves a consistent
 *   entry (OUT before the punch: the page still in the memory equals its
 *   slot).
 *
 *   unmap, exit, and the records of processes gone (vt_reap): a page whose
 *   map count reaches 0 goes out the same way (let_go, reaped; batched
 *   over an unmap's or an exit's pages), unless the section dies with this
 *   process.
 *
 * Slot I/O goes through the page-file layer's engine (pagefile_fd_io: the
 * thread's io_uring ring, its bounce buffer for reads), through the page
 * cache (vslot.h).
 */
#include "section/vpage.h"
#include "section/vtable.h"
#include "fault/fault.h"
#include "paging/cap.h"
#include "paging/reclaim.h"
#include "paging/prefetch.h"
#include "pagefile/crc32c.h"
#include "pagefile/pagefile.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"
#include "os/file.h"
#include "os/page.h"
#include "os/process.h"
#include "os/thread.h"
#include "os/uffd.h"
#include "os/uffd_minor.h"
#include "os/vm.h"
#include "os/wake.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct vpage_view {
    struct section *sec;
    uintptr_t base;
    size_t npages;
    uint64_t first;         /* the section's page at base */
    int pinned;             /* every page counted while the view exists */
    int copy;               /* FILE_MAP_COPY: private, inherited by children */
    int gone;               /* detached by vpage_shutdown: nothing to undo */
    uint8_t *mapped;        /* registered: 1 where this process maps the page */
    uint64_t *lost;         /* a bit per page lost to an in-page error
                               (made at the first; NULL: none) */
    struct vpage_view *next;
};

static size_t lost_bytes(const struct vpage_view *v)
{
    return (v->npages + 63) / 64 * sizeof(uint64_t);
}

static pthread_mutex_t vpage_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local unsigned vpage_depth __attribute__((tls_model("initial-exec")));
static void lock(void)
{
    mutex_take("vpage_lock", &vpage_lock);
    vpage_depth++;
}
static void unlock(void)
{
    vpage_depth--;
    mutex_give("vpage_lock", &vpage_lock);
}

static struct vpage_view *views;   /* vpage_lock */
static struct vpage_view *hand;    /* the trimming hand: a view and a page */
static size_t hand_at;
static int vfd = -1;               /* the views' userfaultfd */
static int vfd_failed;             /* none to be had: views are pinned */
static int stop_fd = -1;
static pthread_t thread;
static int running;
/* Pages a trim writes out in one submission. */
#define TRIM_BATCH 64

static void *fault_buf;            /* a page: the view thread's, without a bounce buffer */
static uint8_t *pre_buf;           /* 32 pages: the view thread's, for preread */
static int exit_hook;
static int write_warned, crc_warned;

static size_t trim(size_t n);

/* View pages poisoned after an in-page error, for the SIGBUS claim
 * (fault_set_view_inpage): each view's bitmap `lost`, kept for the life
 * of the view, so every access of a lost page raises BUS_MCEERR_AR,
 * however many pages were lost since.  lost_at runs in the SIGBUS handler
 * of the thread that touched the page: that thread holds no lock of
 * libvmem (none is held while managed memory is touched), so it may take
 * vpage_lock, unless it is its own (vpage_depth: then it is no access of a
 * view's page). */
static int lost_at(uintptr_t addr)
{
    if (vpage_depth)
        return 0;
    int hit = 0;
    lock();
    for (struct vpage_view *v = views; v && !hit; v = v->next)
        if (v->lost && addr >= v->base && addr < v->base + v->npages * PAGE_SZ) {
            size_t i = (addr - v->base) / PAGE_SZ;
            hit = (int)(v->lost[i / 64] >> (i % 64) & 1);
        }
    unlock();
    return hit;
}

/* Page i of v lost (vpage_lock held).  Without memory for the bitmap the
 * page is still poisoned: its accesses raise SIGBUS, BUS_ADRERR. */
static void lost_add(struct vpage_view *v, size_t i)
{
    if (!v->lost && !(v->lost = ialloc_pages(lost_bytes(v))))
        return;
    v->lost[i / 64] |= 1ull << (i % 64);
}

/* ---- pages ----------------------------------------------------------------- */

static struct vt_entry *entry(const struct vpage_view *v, size_t i)
{
    return &v->sec->vt.ent[v->first + i];
}

static off_t data_at(const struct section *s, uint64_t pg)
{
    return (off_t)(s->data_off + pg * PAGE_SZ);
}

/* n slots from page pg's into buf (page-aligned) as one read, through
 * this thread's ring: 0, or EIO (short) or the error. */
static int slot_read(const struct section *s, uint64_t pg, void *buf, size_t n)
{
    struct pf_fd_io io = { .fd = s->slot_fd, .buf = buf, .len = n * PAGE_SZ,
                           .off = (int64_t)(pg * PAGE_SZ) };
    return pagefile_fd_io(&io, 1);
}

static void read_failed(int err)
{
    if (!__atomic_exchange_n(&crc_warned, 1, __ATOMIC_RELAXED))
        vmem_log("section: a page of a view could not be read back from its slot file: %s",
                 strerror(err));
}

/* A slot's page read into buf against the entry's crc: 0 or EBADMSG. */
static int check_slot(const struct vt_entry *e, const void *buf)
{
    if (crc32c(buf, PAGE_SZ) == e->crc)
        return 0;
    ctr_add(&vmem_ctr.checksum_errors, 1);
    return EBADMSG;
}

/* Reads of a page before it is an in-page error, as for private pages
 * (docs/paging.md): a transient error is invisible. */
#define READ_TRIES 3

/* The slot of page pg into buf, checked against its crc, in up to `tries`
 * reads: 0, EIO or EBADMSG (an in-page error). */
static int read_slot(const struct section *s, const struct vt_entry *e, uint64_t pg, void *buf,
                     int tries)
{
    int err = EIO;
    for (int k = 0; k < tries && err; k++) {
        err = slot_read(s, pg, buf, 1);
        if (!err)
            err = check_slot(e, buf);
    }
    if (err)
        read_failed(err);
    return err;
}

/* ---- write-out ------------------------------------------------------------- */

/* Pages at a map count of 0, their entry locks held, waiting to be
 * written out together.  Two batches: `outq`, filled and written under
 * vpage_lock (an unmap, an exit, a reap); `trimmed`, a trim's, filled
 * under vpage_lock and written without it (vtrim_lock), so that faults are
 * served while its I/O is in flight (docs/sections.md, "Write-out"). */
struct batch {
    struct {
        struct section *s;
        uint64_t pg;
        int err;
        uint32_t crc;  /* of its content */
    } q[TRIM_BATCH];
    size_t n;
    uint8_t *buf;      /* TRIM_BATCH pages */
};
static struct batch outq;    /* vpage_lock */
static struct batch trimmed; /* vtrim_lock */

/* Taken before vpage_lock by a trim: the trimmed batch is its own while
 * it writes it out, vpage_lock let go; an unmap and vmem_shutdown take it
 * before vpage_lock too, so no write-out is in flight while a view goes
 * (its pages counted down, its section still there). */
static pthread_mutex_t vtrim_lock = PTHREAD_MUTEX_INITIALIZER;

static void write_failed(int err)
{
    ctr_add(&vmem_ctr.write_errors, 1);
    if (!__atomic_exchange_n(&write_warned, 1, __ATOMIC_RELAXED))
        vmem_log("section: cannot write a view's page to its slot file (%s): such pages "
                 "stay in memory", strerror(err));
}

/* The batch goes to the slots in one submission (runs of neighbouring
 * pages of one section as one write each) and leaves the memory; a page
 * whose write failed stays IN_RAM (over the cap rather than lost).  The
 * entries are unlocked if unlock_entries.  Only entry locks are needed:
 * no process maps the pages, so none writes them meanwhile, and an access
 * waits for the entry's lock. */
static void write_out(struct batch *b, int unlock_entries)
{
    struct pf_fd_io io[TRIM_BATCH];
    size_t nio = 0;
    for (size_t k = 0; k < b->n; k++) {
        struct section *s = b->q[k].s;
        uint64_t pg = b->q[k].pg;
        uint8_t *buf = b->buf + k * PAGE_SZ;
        b->q[k].err = os_file_read_full(s->fd, buf, PAGE_SZ, data_at(s, pg));
        if (b->q[k].err)
            continue;
        /* Written again even when read back unchanged: views have no
         * dirty bits, and an equal crc32c is no proof of an equal page
         * (a change can keep it: test_section_slotio.c) */
        b->q[k].crc = crc32c(buf, PAGE_SZ);
        struct pf_fd_io *last = nio ? &io[nio - 1] : NULL;
        if (last && last->fd == s->slot_fd && (uint8_t *)last->buf + last->len == buf &&
            last->off + (int64_t)last->len == (int64_t)(pg * PAGE_SZ)) {
            last->len += PAGE_SZ; /* the next page of the same run */
            continue;
        }
        io[nio++] = (struct pf_fd_io){ .fd = s->slot_fd, .write = 1, .buf = buf,
                                       .len = PAGE_SZ, .off = (int64_t)(pg * PAGE_SZ) };
    }
    if (nio)
        pagefile_fd_io(io, nio);
    /* each page gets its write's result */
    for (size_t j = 0, k = 0; j < nio; j++)
        for (uint8_t *p = io[j].buf; p < (uint8_t *)io[j].buf + io[j].len; p += PAGE_SZ) {
            while (b->buf + k * PAGE_SZ != p)
                k++;
            b->q[k].err = io[j].result;
        }
    for (size_t k = 0; k < b->n; k++) {
        struct section *s = b->q[k].s;
        uint64_t pg = b->q[k].pg;
        struct vt_entry *e = &s->vt.ent[pg];
        if (b->q[k].err) {
            write_failed(b->q[k].err);
        } else {
            ctr_add(&vmem_ctr.view_slot_writes, 1);
            e->crc = b->q[k].crc;
            /* OUT first, then the punch: a holder killed in between leaves
             * a page in the memory equal to its slot (a minor fault maps
             * it) */
            __atomic_store_n(&e->state, VT_OUT, __ATOMIC_RELEASE);
            os_file_punch(s->fd, data_at(s, pg), PAGE_SZ);
        }
        if (unlock_entries)
            vt_unlock(e);
    }
    b->n = 0;
}

/* The outq batch written out and its entries unlocked.  vpage_lock held. */
static void page_out_batch(void)
{
    if (outq.n)
        write_out(&outq, 1);
}

/* Page pg of s (entry locked) joins the outq batch, its lock kept until
 * the batch goes (page_out_batch, at once when full).  vpage_lock held. */
static void page_out_queue(struct section *s, uint64_t pg)
{
    outq.q[outq.n].s = s;
    outq.q[outq.n].pg = pg;
    if (++outq.n == TRIM_BATCH)
        page_out_batch();
}

/* Page pg of s, mapped by no process, written out at once by the same path
 * (a batch of one); its entry stays locked.  vpage_lock held. */
static void page_out(struct section *s, uint64_t pg)
{
    page_out_batch(); /* none pending but this one */
    outq.q[0].s = s;
    outq.q[0].pg = pg;
    outq.n = 1;
    write_out(&outq, 0);
}

/* Pinned views: page pg back into the memory if it is OUT.  Entry locked. */
static int page_in_fd(struct section *s, struct vt_entry *e, uint64_t pg, void *buf)
{
    if (e->state != VT_OUT)
        return 0;
    int err = read_slot(s, e, pg, buf, READ_TRIES);
    if (!err)
        err = os_file_write_full(s->fd, buf, PAGE_SZ, data_at(s, pg));
    if (!err)
        __atomic_store_n(&e->state, VT_IN_RAM, __ATOMIC_RELEASE);
    return err;
}

/* One page from buf into the memory at a (this process's view) and its
 * state IN_RAM: 0, EEXIST (it was there), or the error.  Wakes no thread
 * (the caller wakes a once the page is counted).  Entry locked. */
static int copy_in(struct vt_entry *e, uintptr_t a, const void *buf)
{
    int err = uffd_copy_nowake(vfd, a, buf, PAGE_SZ);
    if (err == EEXIST) /* in the memory already (written outside any view) */
        err = uffd_continue_nowake(vfd, a, PAGE_SZ);
    if (err == 0 || err == EEXIST)
        __atomic_store_n(&e->state, VT_IN_RAM, __ATOMIC_RELEASE);
    return err;
}

/* Page j of v, beside a faulting page, taken for its read: not mapped here,
 * OUT, its lock free at once (never waited for).  1 if taken (locked). */
static int take_neighbour(struct vpage_view *v, size_t j)
{
    struct vt_entry *e = entry(v, j);
    if (v->mapped[j] || __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != VT_OUT ||
        vt_trylock_now(&v->sec->vt, e) != 0)
        return 0;
    if (e->state == VT_OUT)
        return 1;
    vt_unlock(e);
    return 0;
}

/* Page i of v (entry locked, OUT) read from its slot and installed at a,
 * with the run [lo, hi) of OUT neighbours around it that the prefetch
 * window (VMEM_PREFETCH), the bounce buffer and the room under the cap
 * allow, read as one I/O (slot = page: the run is contiguous in the slot
 * file).  Each neighbour whose crc matches is installed and counted as a
 * faulted page; one that fails stays OUT (its own fault will tell).  A
 * failed run is read again for page i alone.  pre: page i as preread
 * read it, or NULL.  Returns as install. */
static int page_in(struct vpage_view *v, size_t i, uintptr_t a, const uint8_t *pre)
{
    struct section *s = v->sec;
    struct vt_entry *e = entry(v, i);
    /* read already with other faults' pages (preread), and still the
     * slot's content (the crc, now under the entry lock, tells) */
    if (pre && crc32c(pre, PAGE_SZ) == e->crc)
        return copy_in(e, a, pre);
    uint8_t *buf = pagefile_bounce();
    unsigned behind = 0, ahead = 0;
    if (buf)
        prefetch_window(a >> PAGE_SHIFT, &behind, &ahead);
    if (behind > PF_BOUNCE_PAGES - 1)
        behind = PF_BOUNCE_PAGES - 1;
    if (ahead > PF_BOUNCE_PAGES - 1 - behind)
        ahead = PF_BOUNCE_PAGES - 1 - behind;
    /* the neighbours are RAM too: only the room there is, never waited for
     * (prefetch never pushes the working set over the cap) */
    size_t room = 0;
    if (behind + ahead)
        room = paging_enabled() ? cap_take((size_t)behind + ahead, 1) : (size_t)behind + ahead;
    if (ahead > room)
        ahead = (unsigned)room;
    if (behind > room - ahead)
        behind = (unsigned)(room - ahead);
    size_t lo = i, hi = i + 1;
    while (hi < v->npages && hi - i <= ahead && take_neighbour(v, hi))
        hi++;
    while (lo > 0 && i - lo < behind && take_neighbour(v, lo - 1))
        lo--;
    int err = ENOMEM;
    if (buf && hi - lo > 1)
        err = slot_read(s, v->first + lo, buf, hi - lo);
    if (err) {
        /* no run, or its read failed: page i alone, the neighbours let go */
        for (size_t j = lo; j < hi; j++)
            if (j != i)
                vt_unlock(entry(v, j));
        lo = i;
        hi = i + 1;
        if (!buf)
            buf = fault_buf;
        err = slot_read(s, v->first + i, buf, 1);
    }
    /* the neighbours first, counted, then the faulting page: its thread
     * goes on with the whole run in */
    size_t n = 0;
    for (size_t j = lo; j < hi; j++) {
        if (j == i)
            continue;
        struct vt_entry *ej = entry(v, j);
        uint8_t *at = buf + (j - lo) * PAGE_SZ;
        int ej_err = check_slot(ej, at);
        if (!ej_err)
            ej_err = copy_in(ej, v->base + j * PAGE_SZ, at);
        if ((ej_err == 0 || ej_err == EEXIST) && !v->mapped[j]) {
            v->mapped[j] = 1;
            vt_count_up(&s->vt, ej);
            n++;
        }
        vt_unlock(ej);
        /* a thread of this process faulting there meanwhile goes on only
         * now, its page recorded */
        if (ej_err == 0 || ej_err == EEXIST)
            uffd_wake(vfd, v->base + j * PAGE_SZ, PAGE_SZ);
    }
    if (n) {
        paging_view_pages_add((int64_t)n);
        ctr_add(&vmem_ctr.view_prefetched_pages, n);
    }
    uint8_t *at = buf + (i - lo) * PAGE_SZ;
    if (!err)
        err = check_slot(e, at);
    if (err) /* read again, alone: three reads in all */
        err = read_slot(s, e, v->first + i, at, READ_TRIES - 1);
    if (!err)
        err = copy_in(e, a, at);
    cap_give_back(room); /* the pages installed are counted */
    return err;
}

/* A fault at a (page i of registered view v): the page installed (0),
 * or found installed already (EEXIST), or an error.  No thread is woken:
 * serve records the page (state, count) first, then wakes the range, so
 * a process that ends as soon as its thread goes on leaves its page's
 * entry right.  Entry locked. */
static int install(struct vpage_view *v, size_t i, uintptr_t a, int minor, const uint8_t *pre)
{
    struct vt_entry *e = entry(v, i);
    int err;
    if (minor || e->state == VT_IN_RAM) {
        /* the page is in the memory: map it */
        err = uffd_continue_nowake(vfd, a, PAGE_SZ);
        if (err == 0 || err == EEXIST || e->state == VT_IN_RAM) {
            if (err == 0 || err == EEXIST)
                __atomic_store_n(&e->state, VT_IN_RAM, __ATOMIC_RELEASE);
            return err;
        }
    }
    if (e->state == VT_OUT)
        return page_in(v, i, a, pre);
    err = uffd_zeropage_nowake(vfd, a, PAGE_SZ);
    if (err == EEXIST) /* in the memory already (written outside any view) */
        err = uffd_continue_nowake(vfd, a, PAGE_SZ);
    if (err == 0 || err == EEXIST)
        __atomic_store_n(&e->state, VT_IN_RAM, __ATOMIC_RELEASE);
    return err;
}

void (*vpage_test_installed)(void);

static struct vpage_view *find(uintptr_t a)
{
    for (struct vpage_view *v = views; v; v = v->next)
        if (!v->pinned && a >= v->base && a < v->base + v->npages * PAGE_SZ)
            return v;
    return NULL;
}

/* Serves a fault event (pre: its page as preread read it, or NULL): 0,
 * or EBUSY when another process holds the page long (stopped?): the event
 * is kept and served later, and this process's other faults and its
 * trimming go on meanwhile. */
static int serve(const struct uffd_minor_event *ev, const uint8_t *pre)
{
    uintptr_t a = round_down(ev->addr, PAGE_SZ);
    /* room under the cap, as private faults take it, before any lock;
     * given back once the page is counted in the working set */
    size_t room = 0;
    if (paging_enabled() && !(room = cap_take(1, 1)))
        room = paging_make_room(1);
    lock();
    struct vpage_view *v = find(a);
    if (!v) {
        /* unmapped meanwhile: the faulting thread retries and finds out */
        unlock();
        cap_give_back(room);
        uffd_wake(vfd, a, PAGE_SZ);
        return 0;
    }
    size_t i = (a - v->base) / PAGE_SZ;
    struct vt_entry *e = entry(v, i);
    if (vt_trylock(&v->sec->vt, e) != 0) {
        unlock();
        /* the room too: the event is served again later, taking its own
         * (kept, each retry took a page more, and faults of the process
         * found the cap full of room nobody used: cap_overruns) */
        cap_give_back(room);
        return EBUSY;
    }
    int err = install(v, i, a, ev->minor, pre);
    if (err == EEXIST) /* installed by an earlier event */
        err = 0;
    if (!err && vpage_test_installed)
        vpage_test_installed();
    if (!err && !v->mapped[i]) {
        v->mapped[i] = 1;
        vt_count_up(&v->sec->vt, e);
        paging_view_pages_add(1);
    }
    /* the page recorded (state, count), its faulting threads go on: one
     * that ends the process then leaves an entry that says what is in
     * the memory */
    if (!err)
        uffd_wake(vfd, a, PAGE_SZ);
    else
        lost_add(v, i); /* before the poison wakes the faulting thread */
    vt_unlock(e);
    unlock();
    cap_give_back(room);
    if (err) {
        /* an in-page error: the access raises SIGBUS (BUS_MCEERR_AR), as
         * for a private page; never zeros in place of the data */
        ctr_add(&vmem_ctr.inpage_errors, 1);
        if (uffd_poison(vfd, a, PAGE_SZ) != 0)
            uffd_wake(vfd, a, PAGE_SZ);
    }
    return 0;
}

/* Faults that came together on pages that are out: their slots read in
 * one submission (the faulting threads' reads at once, not one after the
 * other), into pre_buf; pre[k] is event k's page, or NULL (not out, a
 * single one: its own fault reads it with its neighbours, or the read
 * failed).  No entry lock is taken: the page may change meanwhile, which
 * its fault finds out (page_in checks the crc under the entry's lock). */
static void preread(const struct uffd_minor_event *ev, int n, const uint8_t **pre)
{
    struct pf_fd_io io[32];
    int at[32];
    size_t nio = 0;
    for (int k = 0; k < n; k++)
        pre[k] = NULL;
    lock(); /* the views and their sections stay */
    for (int k = 0; k < n; k++) {
        uintptr_t a = round_down(ev[k].addr, PAGE_SZ);
        struct vpage_view *v = ev[k].minor ? NULL : find(a);
        if (!v)
            continue;
        size_t i = (a - v->base) / PAGE_SZ;
        if (v->mapped[i] || __atomic_load_n(&entry(v, i)->state, __ATOMIC_ACQUIRE) != VT_OUT)
            continue;
        io[nio] = (struct pf_fd_io){ .fd = v->sec->slot_fd, .buf = pre_buf + nio * PAGE_SZ,
                                     .len = PAGE_SZ,
                                     .off = (int64_t)((v->first + i) * PAGE_SZ) };
        at[nio++] = k;
    }
    if (nio > 1) {
        pagefile_fd_io(io, nio);
        for (size_t j = 0; j < nio; j++)
            if (io[j].result == 0)
                pre[at[j]] = io[j].buf;
    }
    unlock();
}

static void *view_thread(void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct uffd_minor_event ev[32], held[32]; /* held: pages others hold */
    int nheld = 0;
    for (;;) {
        /* with events held, a look again every millisecond */
        int seen = os_wake_wait(stop_fd, fd, nheld ? 1 : -1);
        if (seen < 0) {
            vmem_log("section: view fault thread: poll failed: %s", strerror(-seen));
            break;
        }
        if (seen & OS_WAKE_SIGNALLED)
            break;
        int keep = 0;
        for (int k = 0; k < nheld; k++)
            if (serve(&held[k], NULL) == EBUSY)
                held[keep++] = held[k];
        nheld = keep;
        if (nheld == 32)
            continue; /* no room: new events wait in the kernel */
        int n = uffd_minor_read(fd, ev, 32 - nheld);
        if (n < 0)
            break;
        const uint8_t *pre[32];
        preread(ev, n, pre);
        for (int k = 0; k < n; k++)
            if (serve(&ev[k], pre[k]) == EBUSY)
                held[nheld++] = ev[k];
    }
    return NULL;
}

/* ---- the views' userfaultfd and thread (vpage_lock held) ------------------- */

static int start_thread(void)
{
    int err = os_wake_open(&stop_fd);
    if (!err && (err = os_thread_start(&thread, view_thread, (void *)(intptr_t)vfd)) != 0) {
        os_wake_close(stop_fd);
        stop_fd = -1;
    }
    running = !err;
    return err;
}

/* 0 when views can be registered (vfd open, thread running). */
static int ensure_uffd(void)
{
    if (vfd >= 0)
        return 0;
    if (vfd_failed || vmem_rt.cfg.fault_mode == VMEM_FAULT_KERNEL)
        return ENOTSUP;
    int err = 0;
    if ((!fault_buf && !(fault_buf = ialloc_pages(PAGE_SZ))) ||
        (!pre_buf && !(pre_buf = ialloc_pages(32 * PAGE_SZ))) ||
        (!outq.buf && !(outq.buf = ialloc_pages(TRIM_BATCH * PAGE_SZ))) ||
        (!trimmed.buf && !(trimmed.buf = ialloc_pages(TRIM_BATCH * PAGE_SZ))))
        return ENOMEM;
    if ((err = uffd_minor_open(&vfd)) != 0) {
        vfd_failed = 1;
        return err;
    }
    if ((err = start_thread()) != 0) {
        uffd_close(vfd);
        vfd = -1;
        return err;
    }
    paging_set_view_trimmer(trim);
    fault_set_view_inpage(lost_at);
    return 0;
}

static void stop_thread(void)
{
    if (running) {
        os_wake_signal(stop_fd);
        os_thread_join(thread);
        running = 0;
    }
    os_wake_close(stop_fd);
    stop_fd = -1;
}

/* ---- attaching and detaching (vpage_lock held) ----------------------------- */

static int in_memory(struct section *s, struct vt_entry *e, uint64_t pg, off_t *next_data);

/* A view page of this process no longer maps page pg of s: its count
 * down and, if no process maps the page now, the page to its slot and out
 * of the memory -- unless the section dies with this process (dying: no
 * other process has it, and this is this process's last reference), where
 * the write would be lost work.  next_data: in_memory's.  Entry locked;
 * returns 1 if the page joined the write-out batch, its lock kept (the
 * caller does not unlock it; page_out_batch does). */
static int let_go(struct section *s, struct vt_entry *e, uint64_t pg, int dying, off_t *next_data)
{
    if (vt_count_down(&s->vt, e) && !dying && outq.buf && in_memory(s, e, pg, next_data)) {
        page_out_queue(s, pg);
        return 1;
    }
    return 0;
}

/* 1 if page pg, mapped by no process, has data in the section's memory:
 * IN_RAM, or NEVER but written through a pinned view (the kernel serves
 * those without telling: the state stays NEVER).  next_data caches where
 * the memory's next data starts, for a walk up the pages (-1: not known
 * yet; NULL: no cache).  Entry locked. */
static int in_memory(struct section *s, struct vt_entry *e, uint64_t pg, off_t *next_data)
{
    if (e->state != VT_NEVER)
        return e->state == VT_IN_RAM;
    off_t at = data_at(s, pg), cached = -1;
    if (!next_data)
        next_data = &cached;
    if (*next_data < at) {
        int err = os_file_next_data(s->fd, at, next_data);
        if (err)
            *next_data = err == ENXIO ? (off_t)INT64_MAX : -1; /* cannot tell: as data */
        if (err && err != ENXIO)
            return 1;
    }
    return *next_data < at + (off_t)PAGE_SZ;
}

/* vt_reap: a page a dead process counted, mapped by no process now. */
static void reaped(void *arg, struct vt_entry *e, uint64_t pg)
{
    if (outq.buf && in_memory(arg, e, pg, NULL))
        page_out(arg, pg); /* vt_reap unlocks the entry */
}

/* The records of processes gone, taken back (vpage_lock held). */
static void reap(struct section *s)
{
    vt_reap(&s->vt, reaped, s);
}

/* 1 if this process has another view of s than v. */
static int other_view(const struct section *s, const struct vpage_view *v)
{
    for (struct vpage_view *w = views; w; w = w->next)
        if (w != v && w->sec == s)
            return 1;
    return 0;
}

/* A pinned view: its pages in the memory and counted. */
static int pin(struct vpage_view *v)
{
    void *buf = ialloc_pages(PAGE_SZ);
    if (!buf)
        return ENOMEM;
    int err = 0;
    size_t i;
    for (i = 0; i < v->npages && !err; i++) {
        struct vt_entry *e = entry(v, i);
        vt_lock(&v->sec->vt, e);
        err = page_in_fd(v->sec, e, v->first + i, buf);
        if (!err)
            vt_count_up(&v->sec->vt, e);
        vt_unlock(e);
    }
    if (err) /* undo the counts taken */
        for (size_t k = 0; k + 1 < i; k++) {
            struct vt_entry *e = entry(v, k);
            vt_lock(&v->sec->vt, e);
            if (!let_go(v->sec, e, v->first + k, 0, NULL))
                vt_unlock(e);
        }
    page_out_batch();
    ifree_pages(buf, PAGE_SZ);
    return err;
}

/* Counts down what v holds: its mapped pages, or every page if pinned
 * (let_go: dying). */
static void count_down(struct vpage_view *v, int dying)
{
    size_t n = 0;
    off_t next_data = -1;
    for (size_t i = 0; i < v->npages; i++) {
        if (!v->pinned && !v->mapped[i])
            continue;
        struct vt_entry *e = entry(v, i);
        vt_lock(&v->sec->vt, e);
        if (!let_go(v->sec, e, v->first + i, dying, &next_data))
            vt_unlock(e);
        if (!v->pinned) {
            v->mapped[i] = 0;
            n++;
        }
    }
    page_out_batch();
    if (n)
        paging_view_pages_add(-(int64_t)n);
}

static void unlink_view(struct vpage_view *v)
{
    for (struct vpage_view **pp = &views; *pp; pp = &(*pp)->next)
        if (*pp == v) {
            *pp = v->next;
            break;
        }
    if (hand == v) {
        hand = v->next;
        hand_at = 0;
    }
}

/* Ends v's part: its mapping, then its counts.  The section's mapping
 * must never stay unregistered while the section has pages out: a read of
 * a hole through it would put a zero page into the section's memory, for
 * every process.  So the view's range becomes reserved space in one step
 * (the mapping, its page-table entries and its registration go at once; a
 * racing access is an access violation, as on Windows for an unmapped
 * view), and only then are its pages counted down.  A fault event of the
 * view still queued finds no view (find) and only wakes. */
static void release(struct vpage_view *v, int dying)
{
    unlink_view(v);
    int err = vm_reserve_over(v->base, v->npages * PAGE_SZ);
    if (err) {
        /* the mapping stays registered (or pinned): its counts too, a leak
         * of RAM rather than a page lost */
        vmem_log("section: cannot take a view's pages away (%s): they stay counted",
                 strerror(err));
    } else {
        count_down(v, dying);
    }
    v->gone = 1;
}

static void free_view(struct vpage_view *v)
{
    if (v->mapped)
        ifree_pages(v->mapped, v->npages);
    if (v->lost)
        ifree_pages(v->lost, lost_bytes(v));
    ifree_pages(v, sizeof(*v));
}

/* A normal exit: other threads may still use the views until the process
 * is gone, so the views stay mapped and registered and the view thread
 * runs.  This process's page-table entries go (as a trim takes them, under
 * each entry's lock) with their counts; a page read again meanwhile faults
 * and is served and counted again (left counted: a leak, never a loss).  A
 * pinned view keeps its counts: the kernel serves it without asking, so its
 * pages must stay in the memory while any thread may read it. */
static void at_exit(int status, void *arg)
{
    (void)status;
    (void)arg;
    lock();
    size_t n = 0;
    for (struct vpage_view *v = views; v; v = v->next) {
        if (v->pinned)
            continue;
        /* the section dies with this process if no other has it: its
         * pages need no slot then */
        int dying = !vt_shared(&v->sec->vt);
        for (size_t i = 0; i < v->npages; i++) {
            if (!v->mapped[i])
                continue;
            struct vt_entry *e = entry(v, i);
            vt_lock(&v->sec->vt, e);
            /* a VirtualLock'ed page refuses: it stays counted */
            if (vm_discard(v->base + i * PAGE_SZ, PAGE_SZ) == 0) {
                v->mapped[i] = 0;
                n++;
                if (let_go(v->sec, e, v->first + i, dying, NULL))
                    continue; /* locked until its batch goes */
            }
            vt_unlock(e);
        }
        /* a batch holds one section's entries, taken in page order: two
         * processes waiting for each other's entries never wait in a cycle */
        page_out_batch();
    }
    unlock();
    if (n)
        paging_view_pages_add(-(int64_t)n);
}

void (*vpage_test_attaching)(uintptr_t base, size_t len);

int vpage_attach(struct section *s, uint64_t offset, uintptr_t base, size_t npages, int copy,
                 struct vpage_view **out)
{
    if (vpage_test_attaching)
        vpage_test_attaching(base, npages * PAGE_SZ);
    struct vpage_view *v = ialloc_pages(sizeof(*v));
    if (!v)
        return ENOMEM;
    v->sec = s;
    v->base = base;
    v->npages = npages;
    v->first = offset / PAGE_SZ;
    v->copy = copy;
    lock();
    if (!exit_hook)
        exit_hook = os_on_exit(at_exit, NULL) == 0;
    /* this process's record of the pages it counts, after taking back
     * those of processes gone; outq.buf for the pages let go (let_go) */
    int err = !outq.buf && !(outq.buf = ialloc_pages(TRIM_BATCH * PAGE_SZ)) ? ENOMEM : 0;
    if (!err) {
        reap(s);
        err = vt_record_take(&s->vt);
    }
    if (err) {
        unlock();
        free_view(v);
        return err;
    }
    err = copy ? ENOTSUP : ensure_uffd();
    if (!err && !(v->mapped = ialloc_pages(npages)))
        err = ENOMEM;
    if (!err)
        err = uffd_minor_register(vfd, base, npages * PAGE_SZ);
    if (err) {
        /* the kernel serves the view: its pages stay in the memory */
        v->pinned = 1;
        err = pin(v);
    }
    /* a child of the raw fork system call (no fork handler) must not get
     * the shared mapping unregistered: it gets none (an access there is
     * SIGSEGV).  fork() hands it over (vpage_fork_prepare).  A copy view
     * is private, holds no hole (pinned) and stays inherited. */
    if (!err && !copy && (err = vm_dontfork(base, npages * PAGE_SZ, 1)) != 0)
        count_down(v, 0);
    if (err) {
        if (!other_view(s, v))
            vt_record_put(&s->vt);
        unlock();
        free_view(v);
        return err;
    }
    v->next = views;
    views = v;
    unlock();
    *out = v;
    return 0;
}

void vpage_detach(struct vpage_view *v)
{
    struct section *s = v->sec;
    /* asked before vpage_lock (section_lock is never taken under it) */
    int dying = section_last_ref(s) && !vt_shared(&s->vt);
    /* no trim's write-out in flight while the view goes: its pages'
     * counts are down before the record may go, and the section stays
     * while one is in flight */
    mutex_take("vtrim_lock", &vtrim_lock);
    lock();
    if (!v->gone)
        release(v, dying);
    reap(s);
    if (!other_view(s, v))
        vt_record_put(&s->vt);
    unlock();
    mutex_give("vtrim_lock", &vtrim_lock);
    free_view(v);
}

/* vmem_shutdown: the views go as at an unmap (release), their records
 * stay for vpage_detach. */
void vpage_shutdown(void)
{
    mutex_take("vtrim_lock", &vtrim_lock); /* no trim's write-out in flight */
    lock();
    while (views) {
        struct section *s = views->sec;
        release(views, 0);
        if (!other_view(s, NULL))
            vt_record_put(&s->vt);
    }
    paging_set_view_trimmer(NULL);
    unlock();
    mutex_give("vtrim_lock", &vtrim_lock);
    /* the thread takes vpage_lock: stopped without it */
    stop_thread();
    lock();
    uffd_close(vfd);
    vfd = -1;
    unlock();
}

/* ---- trimming (the working-set manager) ------------------------------------ */

/* Trims page i of v: 1 if it left this process's working set.  A page no
 * process maps any more joins the batch to write out, still locked. */
static int trim_one(struct vpage_view *v, size_t i)
{
    struct vt_entry *e = entry(v, i);
    if (vt_trylock(&v->sec->vt, e) != 0)
        return 0; /* another process holds it long: the next one */
    /* a VirtualLock'ed page refuses (EINVAL): it stays */
    if (vm_discard(v->base + i * PAGE_SZ, PAGE_SZ) != 0) {
        vt_unlock(e);
        return 0;
    }
    v->mapped[i] = 0;
    /* the last count of a page in the memory: the page is written out,
     * and only then counted down (trimmed_out), so that a process that
     * dies with it in flight leaves it in its record, for the survivor
     * that takes the record back to bring it out */
    if (e->state == VT_IN_RAM && vt_last_count(&v->sec->vt, e)) {
        trimmed.q[trimmed.n].s = v->sec;
        trimmed.q[trimmed.n].pg = v->first + i;
        trimmed.n++;
        return 1;
    }
    vt_count_down(&v->sec->vt, e);
    vt_unlock(e);
    return 1;
}

/* The trimmed batch written out with vpage_lock let go (vtrim_lock held):
 * while its I/O is in flight this process's faults are served.  Its
 * entries stay locked, counted in out_held, so that a fault of this
 * process on one of them is told EBUSY (served again later) and never
 * takes the lock over as a dead holder's (vt_trylock).  vpage_lock held
 * on entry and on return. */
static void trimmed_out(void)
{
    if (!trimmed.n)
        return;
    size_t n = trimmed.n;
    for (size_t k = 0; k < n; k++)
        __atomic_add_fetch(&trimmed.q[k].s->vt.out_held, 1, __ATOMIC_ACQ_REL);
    /* the sections stay: an unmap waits for vtrim_lock before its
     * section may go (vpage_detach) */
    struct section *sec[TRIM_BATCH];
    for (size_t k = 0; k < n; k++)
        sec[k] = trimmed.q[k].s;
    unlock();
    write_out(&trimmed, 0);
    /* counted down under the entry lock alone (a page's own count words;
     * the table's total is atomic): a thread holding vpage_lock may be
     * waiting for one of these entries */
    for (size_t k = 0; k < n; k++) {
        struct vt_entry *e = &sec[k]->vt.ent[trimmed.q[k].pg];
        vt_count_down(&sec[k]->vt, e); /* to 0: no process maps it */
        __atomic_sub_fetch(&sec[k]->vt.out_held, 1, __ATOMIC_ACQ_REL);
        vt_unlock(e);
    }
    lock();
}

/* Trim passes between two looks for the records of processes gone. */
#define REAP_EVERY 16

/* Up to n pages this process maps, taken round-robin over the views in
 * address order (a clock without reference bits). */
static size_t trim(size_t n)
{
    size_t done = 0;
    mutex_take("vtrim_lock", &vtrim_lock);
    lock();
    /* now and then, the records of processes gone: one F_OFD_GETLK per
     * record in use, for each section this process has views of */
    static unsigned passes;
    if (++passes % REAP_EVERY == 0)
        for (struct vpage_view *v = views; v; v = v->next) {
            struct vpage_view *w = views;
            while (w != v && w->sec != v->sec)
                w = w->next;
            if (w == v) /* the section's first view */
                reap(v->sec);
        }
    size_t budget = 0;
    for (struct vpage_view *v = views; v; v = v->next)
        budget += v->pinned ? 0 : v->npages;
    while (done < n && budget) {
        if (!hand) {
            hand = views;
            hand_at = 0;
            if (!hand)
                break;
        }
        if (hand_at >= hand->npages || hand->pinned) {
            hand = hand->next;
            hand_at = 0;
            continue;
        }
        size_t i = hand_at++;
        budget--;
        if (hand->mapped[i] && trim_one(hand, i))
            done++;
        if (trimmed.n == TRIM_BATCH)
            trimmed_out(); /* vpage_lock let go meanwhile: views may have gone */
    }
    trimmed_out();
    unlock();
    mutex_give("vtrim_lock", &vtrim_lock);
    if (done)
        paging_view_pages_add(-(int64_t)done);
    return done;
}

/* ---- fork ------------------------------------------------------------------- */

/* The shared views are inherited by fork() alone: MADV_DOFORK across it.
 * A raw fork from another thread in that window gets them unregistered
 * (docs/sections.md, "Limits"). */
static void views_dontfork(int on)
{
    for (struct vpage_view *v = views; v; v = v->next)
        if (!v->copy && vm_dontfork(v->base, v->npages * PAGE_SZ, on) != 0 && on)
            vmem_log("section: a view stays inherited by a raw fork");
}

void vpage_fork_prepare(void)
{
    mutex_take("vtrim_lock", &vtrim_lock); /* no write-out in flight across fork */
    lock();
    vt_fork_prepare();
    views_dontfork(0);
}

void vpage_fork_parent(void)
{
    views_dontfork(1);
    vt_fork_parent();
    unlock();
    mutex_give("vtrim_lock", &vtrim_lock);
}

void vpage_fork_child(void)
{
    vt_fork_child(); /* a token of its own before any entry lock */
    pagefile_forget_ring(); /* the parent's: slot I/O here makes a fresh one */
    /* the child has no page-table entries of shared mappings and its views
     * lost their registration: fresh ones, before anything can touch them
     * (an OUT page read unregistered would read the hole's zeros) */
    views_dontfork(1); /* for this child's own raw forks */
    size_t had = 0;
    for (struct vpage_view *v = views; v; v = v->next) {
        if (!v->pinned)
            for (size_t i = 0; i < v->npages; i++) {
                had += v->mapped[i];
                v->mapped[i] = 0;
            }
        /* nor the parent's poisoned entries: a page lost there is read
         * from its slot again at the child's first access */
        if (v->lost) {
            ifree_pages(v->lost, lost_bytes(v));
            v->lost = NULL;
        }
    }
    if (had)
        paging_view_pages_add(-(int64_t)had);
    running = 0;
    os_wake_close(stop_fd); /* the parent's thread's: not ours */
    stop_fd = -1;
    if (vfd >= 0) {
        uffd_close(vfd); /* the parent's address space's */
        vfd = -1;
        if (uffd_minor_open(&vfd) != 0 || start_thread() != 0) {
            uffd_close(vfd);
            vfd = -1;
            vfd_failed = 1;
        }
    }
    for (struct vpage_view *v = views; v; v = v->next) {
        if (v->pinned) {
            /* the child's mapping holds the pages as the parent's does */
            for (size_t i = 0; i < v->npages; i++) {
                struct vt_entry *e = entry(v, i);
                vt_lock(&v->sec->vt, e);
                vt_count_up(&v->sec->vt, e);
                vt_unlock(e);
            }
        } else if (vfd < 0 || uffd_minor_register(vfd, v->base, v->npages * PAGE_SZ) != 0) {
            v->pinned = 1;
            if (pin(v) != 0)
                vmem_log("section: a forked child could not bring a view's pages back: "
                         "they read as zeros");
        }
    }
    unlock();
    mutex_give("vtrim_lock", &vtrim_lock);
}
