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
 *   one.
 *
 *   trim (working-set manager): MADV_DONTNEED on this process's view page
 *   (only its page-table entry goes), counted down (vt_count_down: the map
 *   count - 1 if no other view page of this process maps it); at 0 the page is read
 *   from the memory, written to its slot, its crc and state OUT recorded,
 *   and then its RAM punched out.  No process maps it, so every access
 *   faults and waits for the lock: no write is lost.  A holder killed
 *   between two steps leaves a consistent entry (OUT before the punch: the
 *   page still in the memory equals its slot).
 *
 *   unmap, exit, and the records of processes gone (vt_reap): a page whose
 *   map count reaches 0 goes out as at a trim (let_go, reaped), unless the
 *   section dies with this process.
 */
#include "section/vpage.h"
#include "section/vtable.h"
#include "fault/fault.h"
#include "paging/cap.h"
#include "paging/reclaim.h"
#include "pagefile/crc32c.h"
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
    struct vpage_view *next;
};

static pthread_mutex_t vpage_lock = PTHREAD_MUTEX_INITIALIZER;
static void lock(void) { mutex_take("vpage_lock", &vpage_lock); }
static void unlock(void) { mutex_give("vpage_lock", &vpage_lock); }

static struct vpage_view *views;   /* vpage_lock */
static struct vpage_view *hand;    /* the trimming hand: a view and a page */
static size_t hand_at;
static int vfd = -1;               /* the views' userfaultfd */
static int vfd_failed;             /* none to be had: views are pinned */
static int stop_fd = -1;
static pthread_t thread;
static int running;
static void *fault_buf, *trim_buf; /* a page each: the view thread's, the trimmer's */
static int exit_hook;
static int write_warned, crc_warned;

static size_t trim(size_t n);

/* View pages poisoned after an in-page error, for the SIGBUS claim
 * (fault_set_view_inpage): lock-free, read in signal handlers.  When it
 * is full the oldest is written over: the access that follows a poison
 * always finds its page; a page lost LOST_MAX losses ago and touched
 * again may raise BUS_ADRERR instead of BUS_MCEERR_AR. */
#define LOST_MAX 1024
static uintptr_t lost[LOST_MAX];
static unsigned lost_next;

static int lost_at(uintptr_t addr)
{
    for (int k = 0; k < LOST_MAX; k++)
        if (__atomic_load_n(&lost[k], __ATOMIC_ACQUIRE) == addr)
            return 1;
    return 0;
}

static void lost_add(uintptr_t addr)
{
    if (lost_at(addr))
        return;
    for (int k = 0; k < LOST_MAX; k++) {
        uintptr_t free_slot = 0;
        if (__atomic_compare_exchange_n(&lost[k], &free_slot, addr, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            return;
    }
    unsigned k = __atomic_fetch_add(&lost_next, 1, __ATOMIC_RELAXED) % LOST_MAX;
    __atomic_store_n(&lost[k], addr, __ATOMIC_RELEASE);
}

/* A view [base, base+len) goes: its lost pages with it. */
static void lost_forget(uintptr_t base, size_t len)
{
    for (int k = 0; k < LOST_MAX; k++) {
        uintptr_t a = __atomic_load_n(&lost[k], __ATOMIC_ACQUIRE);
        if (a >= base && a < base + len)
            __atomic_store_n(&lost[k], 0, __ATOMIC_RELEASE);
    }
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

/* The slot of page pg into buf, checked against its crc: 0, EIO or
 * EBADMSG (an in-page error). */
static int read_slot(const struct section *s, const struct vt_entry *e, uint64_t pg, void *buf)
{
    int err = os_file_read_full(s->slot_fd, buf, PAGE_SZ, (off_t)(pg * PAGE_SZ));
    if (!err && crc32c(buf, PAGE_SZ) != e->crc) {
        err = EBADMSG;
        ctr_add(&vmem_ctr.checksum_errors, 1);
    }
    if (err && !__atomic_exchange_n(&crc_warned, 1, __ATOMIC_RELAXED))
        vmem_log("section: a page of a view could not be read back from its slot file: %s",
                 strerror(err));
    return err;
}

/* Page pg, mapped by no process, goes to its slot and leaves the memory.
 * A failed write keeps it in RAM (over the cap rather than lost). */
static void page_out(struct section *s, struct vt_entry *e, uint64_t pg)
{
    int err = os_file_read_full(s->fd, trim_buf, PAGE_SZ, data_at(s, pg));
    if (!err)
        err = os_file_write_full(s->slot_fd, trim_buf, PAGE_SZ, (off_t)(pg * PAGE_SZ));
    if (err) {
        ctr_add(&vmem_ctr.write_errors, 1);
        if (!__atomic_exchange_n(&write_warned, 1, __ATOMIC_RELAXED))
            vmem_log("section: cannot write a view's page to its slot file (%s): such pages "
                     "stay in memory", strerror(err));
        return;
    }
    e->crc = crc32c(trim_buf, PAGE_SZ);
    /* OUT first, then the punch: a holder killed in between leaves a page
     * in the memory equal to its slot (a minor fault maps it) */
    __atomic_store_n(&e->state, VT_OUT, __ATOMIC_RELEASE);
    os_file_punch(s->fd, data_at(s, pg), PAGE_SZ);
}

/* Pinned views: page pg back into the memory if it is OUT.  Entry locked. */
static int page_in_fd(struct section *s, struct vt_entry *e, uint64_t pg, void *buf)
{
    if (e->state != VT_OUT)
        return 0;
    int err = read_slot(s, e, pg, buf);
    if (!err)
        err = os_file_write_full(s->fd, buf, PAGE_SZ, data_at(s, pg));
    if (!err)
        __atomic_store_n(&e->state, VT_IN_RAM, __ATOMIC_RELEASE);
    return err;
}

/* A fault at a (page pg of a registered view): the page installed (0),
 * or found installed already (EEXIST), or an error.  No thread is woken:
 * serve records the page (state, count) first, then wakes the range, so
 * a process that ends as soon as its thread goes on leaves its page's
 * entry right.  Entry locked. */
static int install(struct section *s, struct vt_entry *e, uint64_t pg, uintptr_t a, int minor)
{
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
    if (e->state == VT_OUT) {
        if ((err = read_slot(s, e, pg, fault_buf)) != 0)
            return err;
        err = uffd_copy_nowake(vfd, a, fault_buf, PAGE_SZ);
    } else {
        err = uffd_zeropage_nowake(vfd, a, PAGE_SZ);
    }
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

/* Serves a fault event: 0, or EBUSY when another process holds the page
 * long (stopped?): the event is kept and served later, and this process's
 * other faults and its trimming go on meanwhile. */
static int serve(const struct uffd_minor_event *ev)
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
        return EBUSY;
    }
    int err = install(v->sec, e, v->first + i, a, ev->minor);
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
    vt_unlock(e);
    unlock();
    cap_give_back(room);
    if (err) {
        /* an in-page error: the access raises SIGBUS (BUS_MCEERR_AR), as
         * for a private page; never zeros in place of the data */
        ctr_add(&vmem_ctr.inpage_errors, 1);
        lost_add(a); /* before the poison wakes the faulting thread */
        if (uffd_poison(vfd, a, PAGE_SZ) != 0)
            uffd_wake(vfd, a, PAGE_SZ);
    }
    return 0;
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
            if (serve(&held[k]) == EBUSY)
                held[keep++] = held[k];
        nheld = keep;
        if (nheld == 32)
            continue; /* no room: new events wait in the kernel */
        int n = uffd_minor_read(fd, ev, 32 - nheld);
        if (n < 0)
            break;
        for (int k = 0; k < n; k++)
            if (serve(&ev[k]) == EBUSY)
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
        (!trim_buf && !(trim_buf = ialloc_pages(PAGE_SZ))))
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
 * the write would be lost work.  next_data: in_memory's.  Entry locked. */

static void let_go(struct section *s, struct vt_entry *e, uint64_t pg, int dying, off_t *next_data)
{
    if (vt_count_down(&s->vt, e) && !dying && trim_buf && in_memory(s, e, pg, next_data))
        page_out(s, e, pg);
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
    if (trim_buf && in_memory(arg, e, pg, NULL))
        page_out(arg, e, pg);
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
            let_go(v->sec, e, v->first + k, 0, NULL);
            vt_unlock(e);
        }
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
        let_go(v->sec, e, v->first + i, dying, &next_data);
        vt_unlock(e);
        if (!v->pinned) {
            v->mapped[i] = 0;
            n++;
        }
    }
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
    lost_forget(v->base, v->npages * PAGE_SZ);
    v->gone = 1;
}

static void free_view(struct vpage_view *v)
{
    if (v->mapped)
        ifree_pages(v->mapped, v->npages);
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
                let_go(v->sec, e, v->first + i, dying, NULL);
                n++;
            }
            vt_unlock(e);
        }
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
     * those of processes gone; trim_buf for the pages let go (let_go) */
    int err = !trim_buf && !(trim_buf = ialloc_pages(PAGE_SZ)) ? ENOMEM : 0;
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
    lock();
    if (!v->gone)
        release(v, dying);
    reap(s);
    if (!other_view(s, v))
        vt_record_put(&s->vt);
    unlock();
    free_view(v);
}

/* vmem_shutdown: the views go as at an unmap (release), their records
 * stay for vpage_detach. */
void vpage_shutdown(void)
{
    lock();
    while (views) {
        struct section *s = views->sec;
        release(views, 0);
        if (!other_view(s, NULL))
            vt_record_put(&s->vt);
    }
    paging_set_view_trimmer(NULL);
    unlock();
    /* the thread takes vpage_lock: stopped without it */
    stop_thread();
    lock();
    uffd_close(vfd);
    vfd = -1;
    unlock();
}

/* ---- trimming (the working-set manager) ------------------------------------ */

/* Trims page i of v: 1 if it left this process's working set. */
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
    if (vt_count_down(&v->sec->vt, e) && e->state == VT_IN_RAM)
        page_out(v->sec, e, v->first + i);
    vt_unlock(e);
    return 1;
}

/* Trim passes between two looks for the records of processes gone. */
#define REAP_EVERY 16

/* Up to n pages this process maps, taken round-robin over the views in
 * address order (a clock without reference bits). */
static size_t trim(size_t n)
{
    size_t done = 0;
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
    }
    unlock();
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
    lock();
    vt_fork_prepare();
    views_dontfork(0);
}

void vpage_fork_parent(void)
{
    views_dontfork(1);
    vt_fork_parent();
    unlock();
}

void vpage_fork_child(void)
{
    vt_fork_child(); /* a token of its own before any entry lock */
    /* the child has no page-table entries of shared mappings and its views
     * lost their registration: fresh ones, before anything can touch them
     * (an OUT page read unregistered would read the hole's zeros) */
    views_dontfork(1); /* for this child's own raw forks */
    size_t had = 0;
    for (struct vpage_view *v = views; v; v = v->next)
        if (!v->pinned)
            for (size_t i = 0; i < v->npages; i++) {
                had += v->mapped[i];
                v->mapped[i] = 0;
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
}
