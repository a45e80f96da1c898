/*
 * readahead.c -- asynchronous readahead of paged-out pages ahead of a
 * sequential stream of faults (thread mode, VMEM_READAHEAD).
 *
 * Streams: every hard fault, and every touch of a page readahead brought
 * (a window's first page, kept on the standby list as a marker) or is
 * still reading, is noted here (readahead_note, in the fault's thread).  A
 * fault within RA_SLACK pages of where a recent stream stands (between its
 * latest fault and the end of what its faults and readahead have reached)
 * continues it; any other fault starts a new stream in place of the least
 * recent one (one that has not held yet, if any), with the window back at its smallest and nothing read ahead
 * until more faults confirm it (two; random faults close together rarely
 * do twice).  While the stream holds, windows are queued ahead of it,
 * each twice as wide as the one before (up to RA_WIN_MAX), until
 * VMEM_READAHEAD pages (at most an eighth of the cap) lie ahead of the
 * fault.  The gate (policy/readahead_gate.c) asks for more confirming
 * faults and less ahead while recent windows went mostly unused.  Strides
 * up to RA_SLACK pages keep the stream (the windows are contiguous and
 * bring the pages between).
 *
 * The thread: takes up to RA_DEPTH queued windows, takes room for them
 * under the cap without waiting (paging_room_ahead: free room, then clean
 * standby frames freed and the replacement policy's victims trimmed, the
 * pages it would evict anyway), claims their paged-out pages
 * (INSTALLING with PTE_F_READAHEAD, as_lock shared, region.inflight
 * counted), releases as_lock and reads every run of consecutive slots at
 * once on its io_uring ring (pagefile_read_batch).  As each read
 * completes, with as_lock shared again: the pages still claimed are
 * installed in one UFFDIO_COPY per run (write-protected: clean copies),
 * admitted to the replacement policy as referenced (a confirmed stream
 * reaches them next: ranked older, they would be its first victims and
 * read again), the window's first page kept on the standby list as its
 * marker; or, with VMEM_PREFETCH_INSTALL=standby, every page of it kept
 * there.  A failed read, a region that went, pages no longer claimed:
 * the claims are dropped (PAGEDOUT), the program's own fault reads again
 * and reports an error then.  Every page claimed is woken after its
 * claim ends, whatever the outcome: a fault on a page readahead holds
 * waits for it (fault.c) and is woken here.
 *
 * Hits and waste: with VMEM_PREFETCH_INSTALL=standby each page counts as
 * its touch or its release finds it (transition fault, release.c).
 * Installed pages fault no more, so a window's installed pages count as
 * used (prefetch_used) once the stream's faults pass its end, as unused
 * (prefetch_unused) when the stream is given up before that.  The gate
 * judges by these (paging/prefetch.c keeps them, with the standby path's).
 *
 * Lock: ra_lock, a leaf: the streams and the queue of windows.  Taken by
 * faults under as_lock and by the thread with no other lock.
 */
#include "fault/readahead.h"
#include "fault/fault.h"
#include "pagefile/pagefile.h"
#include "paging/cap.h"
#include "paging/prefetch.h"
#include "paging/replacement.h"
#include "paging/standby.h"
#include "paging/start.h"
#include "paging/reclaim.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"
#include "os/thread.h"
#include "os/uffd.h"
#include "os/wake.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#define RA_DEPTH    4   /* windows read together, in flight at once */
#define RA_WIN_MIN  32  /* a stream's first window, in pages */
#define RA_WIN_MAX  256 /* the widest */
#define RA_STREAMS  4   /* streams followed at once */
#define RA_QUEUE    16  /* windows queued for the thread */
#define RA_PASSED   32  /* installed windows a stream remembers (hit counting) */
#define RA_SLACK    8   /* pages a fault may fall outside a stream and go on with it */
#define RA_HELD     2   /* faults that continued a stream: it is kept over newer ones */

struct window {
    uintptr_t base;
    uint64_t id;
    size_t lo, n;
};

struct stream {
    uintptr_t base;   /* 0: unused */
    uint64_t id;
    size_t last;      /* its latest fault */
    size_t next;      /* the first page neither faulted in nor queued */
    unsigned win;     /* the next window's width */
    unsigned hits;    /* faults that continued it */
    uint64_t seen;    /* when it was last continued (ra_clock) */
    struct { size_t lo, n; } passed[RA_PASSED]; /* installed, not yet passed */
    unsigned npassed;
};

static pthread_mutex_t ra_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stream streams[RA_STREAMS];
static struct window queue[RA_QUEUE];
static unsigned qhead, qcount;
static uint64_t ra_clock;

static int running; /* atomic: the thread is there */
static int stopping; /* atomic */
static int wake_fd = -1;
static pthread_t thread;
static uint8_t *buf; /* RA_DEPTH * RA_WIN_MAX pages, the thread's */

static void lock(void) { mutex_take("ra_lock", &ra_lock); }
static void unlock(void) { mutex_give("ra_lock", &ra_lock); }

/* The most pages ahead of a stream: VMEM_READAHEAD, at most an eighth of
 * the cap. */
static size_t ahead_limit(void)
{
    size_t a = vmem_rt.cfg.readahead, c = (size_t)(paging_cap() / 8);
    return a < c ? a : c;
}

static unsigned win_max(size_t ahead)
{
    size_t w = ahead / RA_DEPTH;
    if (w > RA_WIN_MAX)
        w = RA_WIN_MAX;
    return w < 8 ? 8 : (unsigned)w;
}

/* n pages read ahead were reached by their stream (used) or not: counted,
 * and told to the gate. */
static void outcome(size_t n, int used)
{
    ctr_add(used ? &vmem_ctr.prefetch_used : &vmem_ctr.prefetch_unused, n);
    prefetch_outcome(n, used);
}

/* ra_lock held: windows of s wholly below idx were passed: used. */
static void count_passed(struct stream *s, size_t idx)
{
    unsigned k = 0;
    for (unsigned i = 0; i < s->npassed; i++) {
        if (s->passed[i].lo + s->passed[i].n <= idx)
            outcome(s->passed[i].n, 1);
        else
            s->passed[k++] = s->passed[i];
    }
    s->npassed = k;
}

/* ra_lock held: s is given up; what it read ahead and never reached was
 * wasted. */
static void drop_stream(struct stream *s)
{
    for (unsigned i = 0; i < s->npassed; i++)
        outcome(s->passed[i].n, 0);
    memset(s, 0, sizeof(*s));
}

void readahead_note(const struct region *r, size_t idx, size_t end)
{
    if (!__atomic_load_n(&running, __ATOMIC_ACQUIRE) || !paging_enabled() ||
        !prefetch_reads_ahead())
        return; /* VMEM_PREFETCH=none (or VMEM_CLUSTER 0 or 1): no reading ahead */
    size_t ahead = ahead_limit();
    if (!ahead)
        return;
    int queued = 0;
    lock();
    /* how far and how soon, by what recent windows came to */
    struct ra_gate g = prefetch_gate(ahead, RA_WIN_MIN);
    ahead = g.ahead;
    unsigned wmax = win_max(ahead);
    ra_clock++;
    /* a new stream takes the least recent slot not confirmed (random
     * faults replace each other there), else the least recent: faults of
     * another thread between a confirmed stream's faults (which come one
     * per window once it is read ahead of) do not push it out */
    struct stream *s = NULL, *oldest = &streams[0];
    for (int i = 0; i < RA_STREAMS; i++) {
        struct stream *t = &streams[i];
        if (t->base == r->base && t->id == r->id && idx + RA_SLACK >= t->last &&
            idx <= t->next + RA_SLACK) {
            s = t;
            break;
        }
        int t_weak = t->hits < RA_HELD, o_weak = oldest->hits < RA_HELD;
        if (t_weak > o_weak || (t_weak == o_weak && t->seen < oldest->seen))
            oldest = t;
    }
    if (!s) {
        /* a new stream (or a broken one): nothing ahead until it holds */
        drop_stream(oldest);
        s = oldest;
        s->base = r->base;
        s->id = r->id;
        s->last = idx;
        s->next = end > idx ? end : idx + 1;
        s->win = RA_WIN_MIN < wmax ? RA_WIN_MIN : wmax;
        s->seen = ra_clock;
        unlock();
        return;
    }
    s->seen = ra_clock;
    s->hits++;
    if (idx > s->last)
        s->last = idx;
    if (end > s->next)
        s->next = end;
    count_passed(s, idx);
    while (s->hits >= g.confirm && s->next < s->last + ahead && s->next < r->npages && qcount < RA_QUEUE) {
        size_t n = s->win < wmax ? s->win : wmax; /* wmax may have shrunk since */
        if (n > r->npages - s->next)
            n = r->npages - s->next;
        queue[(qhead + qcount++) % RA_QUEUE] =
            (struct window){ .base = r->base, .id = r->id, .lo = s->next, .n = n };
        s->next += n;
        s->win = s->win * 2 < wmax ? s->win * 2 : wmax;
        queued = 1;
    }
    unlock();
    if (queued)
        os_wake_signal(wake_fd);
}

/* Installed pages [lo, lo+n) of (base, id), remembered by their stream to
 * be counted when passed (takes ra_lock). */
static void record_installed(uintptr_t base, uint64_t id, size_t lo, size_t n)
{
    lock();
    for (int i = 0; i < RA_STREAMS; i++) {
        struct stream *s = &streams[i];
        if (s->base != base || s->id != id || lo >= s->next || lo + s->win * 2 < s->last)
            continue;
        if (lo + n <= s->last) {
            outcome(n, 1); /* already passed */
        } else {
            if (s->npassed == RA_PASSED) { /* the oldest counts as passed */
                outcome(s->passed[0].n, 1);
                memmove(&s->passed[0], &s->passed[1], sizeof(s->passed[0]) * (RA_PASSED - 1));
                s->npassed--;
            }
            s->passed[s->npassed].lo = lo;
            s->passed[s->npassed++].n = n;
        }
        unlock();
        return;
    }
    outcome(n, 0); /* its stream was given up */
    unlock();
}

/* ---- the thread ------------------------------------------------------------ */

/* One run of claimed pages with consecutive slots: one read. */
struct run {
    struct region *r;
    uintptr_t base;
    uint64_t id;
    size_t lo, n;
    uint32_t slot;
    int mark;       /* its first page is its window's first: the marker */
};

static int claim_ra(struct pte *p)
{
    uint8_t from = PTE_PAGEDOUT;
    if (!__atomic_compare_exchange_n(&p->state, &from, PTE_INSTALLING, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return 0;
    __atomic_fetch_or(&p->flags, PTE_F_READAHEAD, __ATOMIC_ACQ_REL);
    return 1;
}

/* Ends readahead's claim of page i (still INSTALLING, flag set): state st. */
static void release_claim(struct pte *p, uint8_t st)
{
    if (!p)
        return; /* never: a claimed page's leaf exists (said for the compiler) */
    __atomic_fetch_and(&p->flags, (uint8_t)~PTE_F_READAHEAD, __ATOMIC_ACQ_REL);
    __atomic_store_n(&p->state, st, __ATOMIC_RELEASE);
}

static int still_ours(const struct region *r, size_t i, uint32_t slot)
{
    const struct pte *q = pte_get(&r->ptes, i);
    return q && pte_load_state(q) == PTE_INSTALLING &&
           (pte_load_flags(q) & PTE_F_READAHEAD) && q->slot == slot;
}

/* as_lock shared: claims the paged-out pages of w, in runs of consecutive
 * slots, at most `room` pages, into runs[*nruns..] and buffer space from
 * *at.  Returns the pages claimed. */
static size_t claim_window(const struct window *w, size_t room, struct run *runs, size_t *nruns,
                           struct pf_read *reads, size_t *at)
{
    struct region *r = region_find(w->base);
    if (!r || r->id != w->id || (r->flags & REGION_VIEW))
        return 0;
    size_t end = w->lo + w->n < r->npages ? w->lo + w->n : r->npages;
    size_t claimed = 0;
    struct run *cur = NULL;
    for (size_t i = w->lo; i < end && claimed < room; i++) {
        struct pte *p = pte_get(&r->ptes, i);
        int follows = cur && cur->lo + cur->n == i && p &&
                      p->slot == cur->slot + (uint32_t)cur->n;
        if (!follows)
            cur = NULL;
        if (!p || pte_load_state(p) != PTE_PAGEDOUT)
            continue;
        if (!cur) {
            if (*nruns == PF_READ_BATCH_MAX)
                break;
            cur = &runs[*nruns];
            *cur = (struct run){ .r = r, .base = r->base, .id = r->id, .lo = i,
                                 .slot = p->slot, .mark = i == w->lo };
            reads[*nruns] = (struct pf_read){ .slot = p->slot, .buf = buf + *at * PAGE_SZ,
                                              .tag = cur };
            ++*nruns;
            __atomic_add_fetch(&r->inflight, 1, __ATOMIC_ACQ_REL);
        }
        if (!claim_ra(p)) {
            cur = NULL; /* a fault has it now */
            continue;
        }
        cur->n++;
        reads[cur - runs].npages++;
        ++*at;
        claimed++;
    }
    /* a run whose first claim was lost reads nothing */
    return claimed;
}

/* as_lock shared, r the run's region, still there: installs or keeps what
 * was read for the run (or drops it on err), and wakes its pages. */
static void settle(struct run *u, const uint8_t *data, int err)
{
    struct region *r = u->r;
    int stash_all = vmem_rt.cfg.prefetch_install == VMEM_PREFETCH_STANDBY;
    int wp = paging_tracks_dirty() || (r->flags & REGION_WRITE_WATCH);
    size_t installed = 0, kept = 0;
    size_t i = u->lo, end = u->lo + u->n;
    while (i < end) {
        uint32_t slot = u->slot + (uint32_t)(i - u->lo);
        const uint8_t *src = data + (i - u->lo) * PAGE_SZ;
        if (!still_ours(r, i, slot)) {
            i++;
            continue;
        }
        /* the sub-run still claimed from i */
        size_t j = i + 1;
        while (j < end && still_ours(r, j, u->slot + (uint32_t)(j - u->lo)))
            j++;
        if (err) {
            for (size_t k = i; k < j; k++)
                release_claim(pte_get(&r->ptes, k), PTE_PAGEDOUT);
            i = j;
            continue;
        }
        size_t keep = stash_all ? j - i : (u->mark && i == u->lo) ? 1 : 0;
        if (keep) {
            for (size_t k = i; k < i + keep; k++) {
                struct pte *q = pte_get(&r->ptes, k);
                if (q) /* always: claimed */
                    __atomic_fetch_and(&q->flags, (uint8_t)~PTE_F_READAHEAD, __ATOMIC_ACQ_REL);
            }
            kept += fault_stash_prefetched(r, i, keep, src, FRAME_READAHEAD,
                                           u->mark && i == u->lo ? FRAME_RA_MARK : 0);
            src += keep * PAGE_SZ;
            i += keep;
        }
        if (i < j) {
            size_t done = 0;
            int e = uffd_copy(vmem_rt.uffd, region_addr(r, i), src, (j - i) * PAGE_SZ, wp, &done);
            size_t got = done / PAGE_SZ;
            for (size_t k = i; k < i + got; k++)
                release_claim(pte_get(&r->ptes, k), PTE_RESIDENT);
            for (size_t k = i + got; k < j; k++)
                release_claim(pte_get(&r->ptes, k), PTE_PAGEDOUT);
            if (got) {
                replacement_admit(r, i, got, 0);
                ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, got);
                installed += got;
            }
            if (e && e != EEXIST) {
                static int told;
                if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
                    vmem_log("readahead cannot install pages (%s); they stay paged out",
                             e == ENOMEM ? "out of memory" : strerror(e));
            }
        }
        i = j;
    }
    if (!err) {
        ctr_add(&vmem_ctr.read_ios, 1);
        ctr_add(&vmem_ctr.pages_read, u->n);
        ctr_add(&vmem_ctr.prefetched_pages, installed + kept);
    }
    /* every claim ended: its waiters (fault.c left them asleep) retry */
    (void)uffd_wake(vmem_rt.uffd, region_addr(r, u->lo), u->n * PAGE_SZ);
    if (installed && !stash_all)
        record_installed(u->base, u->id, u->lo + (u->mark ? 1 : 0), installed);
}

static void read_done(struct pf_read *rd, void *ctx)
{
    (void)ctx;
    struct run *u = rd->tag;
    as_lock_shared();
    /* decommit and release wait for inflight: the region is there */
    struct region *now = region_find(u->base);
    if (now == u->r && now->id == u->id) {
        if (rd->result) {
            static int told;
            if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
                vmem_log("a readahead read failed (%s): dropped; the pages are read when "
                         "touched", strerror(rd->result));
        }
        settle(u, rd->buf, rd->result);
    }
    __atomic_sub_fetch(&u->r->inflight, 1, __ATOMIC_ACQ_REL);
    as_unlock();
    cap_give_back(u->n);
}

/* Takes up to RA_DEPTH queued windows and reads them; 0 if none. */
static int run_batch(void)
{
    struct window w[RA_DEPTH];
    size_t nw = 0, want = 0;
    lock();
    while (nw < RA_DEPTH && qcount) {
        w[nw] = queue[qhead];
        qhead = (qhead + 1) % RA_QUEUE;
        qcount--;
        want += w[nw++].n;
    }
    unlock();
    if (!nw)
        return 0;
    /* free room only; none: the windows are dropped, the stream's faults
     * read them */
    size_t room = paging_enabled() ? paging_room_ahead(want) : 0;
    if (!room)
        return 1;
    static struct run runs[PF_READ_BATCH_MAX];
    static struct pf_read reads[PF_READ_BATCH_MAX];
    size_t nruns = 0, at = 0, claimed = 0;
    as_lock_shared();
    for (size_t k = 0; k < nw && claimed < room; k++)
        claimed += claim_window(&w[k], room - claimed, runs, &nruns, reads, &at);
    /* runs that claimed nothing (lost every page to faults) read nothing */
    size_t m = 0;
    for (size_t k = 0; k < nruns; k++) {
        if (runs[k].n) {
            runs[m] = runs[k];
            reads[m] = reads[k];
            reads[m].tag = &runs[m];
            m++;
        } else {
            __atomic_sub_fetch(&runs[k].r->inflight, 1, __ATOMIC_ACQ_REL);
        }
    }
    as_unlock();
    cap_give_back(room - claimed); /* each run gives its own back when settled */
    if (m)
        pagefile_read_batch(reads, m, read_done, NULL);
    return 1;
}

static void *ra_main(void *arg)
{
    (void)arg;
    as_lock_sigs_blocked = 1; /* created with every signal blocked */
    while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
        int seen = os_wake_wait(wake_fd, -1, -1);
        if (seen < 0) {
            vmem_log("readahead thread: poll failed: %s", strerror(-seen));
            break;
        }
        (void)os_wake_drain(wake_fd);
        while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE) && run_batch())
            ;
    }
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    return NULL;
}

int readahead_start(void)
{
    if (!vmem_rt.cfg.readahead || __atomic_load_n(&running, __ATOMIC_ACQUIRE))
        return 0;
    if (!buf && !(buf = ialloc_pages((size_t)RA_DEPTH * RA_WIN_MAX * PAGE_SZ)))
        return ENOMEM;
    int e = os_wake_open(&wake_fd);
    if (e)
        return e;
    __atomic_store_n(&stopping, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&running, 1, __ATOMIC_RELEASE);
    if ((e = os_thread_start(&thread, ra_main, NULL)) != 0) {
        __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
        os_wake_close(wake_fd);
        wake_fd = -1;
    }
    return e;
}

void readahead_stop(void)
{
    if (wake_fd < 0)
        return;
    __atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
    os_wake_signal(wake_fd);
    os_thread_join(thread);
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    os_wake_close(wake_fd);
    wake_fd = -1;
    lock();
    for (int i = 0; i < RA_STREAMS; i++)
        drop_stream(&streams[i]);
    qhead = qcount = 0;
    unlock();
}

void readahead_forget(void)
{
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    os_wake_close(wake_fd);
    wake_fd = -1;
}
