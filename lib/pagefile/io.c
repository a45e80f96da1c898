/*
 * pagefile/io.c -- page-file I/O: the per-thread io_uring engine, its
 * synchronous fallback, and the checksum of each slot.
 *
 * Each thread has its own ring (thread-local, created on first use,
 * replaced when the file changes), since a ring is not safe for concurrent
 * submitters: fault threads, the page writer and, in signal mode,
 * application threads in their SIGBUS handler all do I/O.  Page-file
 * requests never go to the descriptor number, which the application may
 * close or dup2() another file onto between a check (pf_file_checked) and
 * the I/O: each ring registers the page file as its fixed file when it is
 * made, through a private duplicate checked to be the page file; a thread
 * with no ring uses such a duplicate, made per call.  A thread that
 * cannot make a ring uses pread and pwrite; a forked child that borrowed
 * the file always does.  Every page written gets its crc32c recorded, and
 * every page read is checked against it.  The same engine does the I/O of
 * sections' slot files (pagefile_fd_io: another descriptor, no checksum
 * here).  Nothing here calls malloc.
 */
#include "pagefile/pagefile.h"
#include "pagefile/crc32c.h"
#include "pagefile/file.h"
#include "pagefile/inject.h"
#include "pagefile/io.h"
#include "core/internal_alloc.h"
#include "core/stats.h"
#include "core/vmem_internal.h"
#include "os/fd.h"
#include "os/file.h"
#include "os/ring.h"
#include "os/thread.h"
#include "os/sig.h"
#include "os/time.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#define RING_DEPTH   64
#define IO_AGAIN_MAX 16

/* crc32c of each slot's last write (index = slot - 1).  Sized for the whole
 * file but mapped MAP_NORESERVE: only the parts touched take memory. */
static uint32_t *sums;
static size_t sums_bytes;
static int checksum_on = 1;

/* The per-thread I/O engine: a ring and a bounce buffer for hard faults,
 * both made on first use and released when the thread exits (engine_key's
 * destructor), so short-lived threads that took a hard fault in signal
 * mode, or called VirtualLock on paged-out memory, leave nothing behind. */
struct thread_ring {
    struct os_ring ring;
    unsigned generation;
    int ready;
    int pf_fixed;       /* the page file is the ring's fixed file 0 */
    int pf_refused;     /* not registered: the number named another file */
    int registered;     /* engine_key set: the destructor will run */
    int exiting;        /* the destructor ran: the thread is ending */
    void *bounce;       /* PF_BOUNCE_PAGES pages, page-aligned */
    unsigned inflight; /* requests queued and not reaped, all calls */
    struct thread_ring *next, **pprev; /* on `listed` while pf_fixed */
};
static VMEM_TLS struct thread_ring tr;

/* The rings that registered the page file (pf_fixed), so that closing the
 * file can make each let go of it.  ring_list_lock is a leaf: a spin lock
 * taken with every signal blocked (rings are made and dropped in SIGBUS
 * handlers too), held for a list operation or, at close, for one
 * io_uring_register call per ring. */
static struct thread_ring *listed;
static int ring_list_lock;
static pthread_key_t engine_key;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static int engine_key_ok;

static uint64_t io_spin_ns = 0;

/* ---- checksums ------------------------------------------------------------- */

uint32_t *pf_sums_make(uint64_t cap)
{
    return ialloc_pages((size_t)cap * sizeof(*sums));
}

void pf_sums_install_locked(uint32_t *sm, uint64_t cap)
{
    sums = sm;
    sums_bytes = (size_t)cap * sizeof(*sums);
}

void pf_sums_reset_locked(void)
{
    ifree_pages(sums, sums_bytes);
    sums = NULL;
    sums_bytes = 0;
}

void pagefile_set_checksum(int on)
{
    checksum_on = on;
}

/* Each page read against the checksum of its slot's last write: a device
 * that dropped a write or changed a byte is caught here. */
static int verify(uint32_t first, const void *buf, size_t npages)
{
    if (!checksum_on)
        return 0;
    size_t bad = 0;
    for (size_t k = 0; k < npages; k++)
        bad += crc32c((const char *)buf + k * PAGE_SZ, PAGE_SZ) != sums[first - 1 + k];
    if (!bad)
        return 0;
    ctr_add(&vmem_ctr.checksum_errors, 1);
    return EBADMSG;
}

/* ---- the per-thread engine ------------------------------------------------- */

static void list_lock(sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    (void)os_sigmask(SIG_BLOCK, &all, old);
    while (__atomic_exchange_n(&ring_list_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
}

static void list_unlock(const sigset_t *old)
{
    __atomic_store_n(&ring_list_lock, 0, __ATOMIC_RELEASE);
    (void)os_sigmask(SIG_SETMASK, old, NULL);
}

/* This thread's ring, with the page file registered, onto the list. */
static void list_add(void)
{
    sigset_t old;
    list_lock(&old);
    tr.next = listed;
    tr.pprev = &listed;
    if (listed)
        listed->pprev = &tr.next;
    listed = &tr;
    list_unlock(&old);
}

/* This thread's ring off the list, before it is torn down or its thread
 * ends (the list must never hold an exited thread's ring). */
static void list_remove(void)
{
    if (!tr.pf_fixed)
        return;
    sigset_t old;
    list_lock(&old);
    if (tr.pprev) { /* NULL: a close already took it off */
        *tr.pprev = tr.next;
        if (tr.next)
            tr.next->pprev = tr.pprev;
        tr.pprev = NULL;
        tr.next = NULL;
    }
    tr.pf_fixed = 0;
    list_unlock(&old);
}

/* This thread's ring torn down.  Its registered file is let go first, at
 * once: the kernel frees a ring's resources later, in a worker, and until
 * then the page file (and its file system) would stay busy. */
static void ring_exit_self(void)
{
    if (tr.pf_fixed)
        (void)os_ring_unregister_files(&tr.ring);
    list_remove();
    tr.ready = 0;
    os_ring_exit(&tr.ring);
}

/* Thread exit: nothing is in flight on the ring then, since run_io waits
 * for every request it submitted before it returns. */
static void engine_release(void *unused)
{
    (void)unused;
    /* An application signal handler running here could touch a paged-out
     * page, and in signal mode its fault would use this ring and buffer:
     * no signal while they are taken apart, and marked gone first. */
    sigset_t all, old;
    sigfillset(&all);
    int masked = os_sigmask(SIG_BLOCK, &all, &old) == 0;
    if (tr.ready)
        ring_exit_self();
    void *b = tr.bounce;
    tr.bounce = NULL;
    if (b)
        ifree_pages(b, PF_BOUNCE_PAGES * PAGE_SZ);
    tr.registered = 0;
    /* Later destructors of the program's own keys may still page in here
     * (signal mode): they do it without a ring (pread/pwrite through a
     * checked duplicate), since after the last destructor round nothing
     * would tear a new ring down, nor take it off the list of rings. */
    tr.exiting = 1;
    if (masked)
        (void)os_sigmask(SIG_SETMASK, &old, NULL);
}

static void engine_key_create(void)
{
    if (os_thread_key_create(&engine_key, engine_release) == 0)
        __atomic_store_n(&engine_key_ok, 1, __ATOMIC_RELEASE);
    else
        vmem_log("cannot register a thread-exit handler: threads that page in "
                 "will keep their I/O ring until the process exits");
}

void pf_io_prepare(void)
{
    /* pthread_once is not async-signal-safe: never first reached in a fault */
    pthread_once(&engine_once, engine_key_create);
}

/* Arranges for engine_release to run when this thread exits.  The key was
 * made at open, so this is pthread_setspecific on one of the first keys,
 * which stores into the thread's descriptor without allocating. */
static void engine_register(void)
{
    if (tr.registered || !__atomic_load_n(&engine_key_ok, __ATOMIC_ACQUIRE))
        return;
    if (os_thread_key_set(engine_key, &tr) == 0)
        tr.registered = 1;
}

void pf_io_drop_ring(void)
{
    if (tr.ready)
        ring_exit_self();
    /* The other threads' rings: the file they registered is let go now
     * (a request of theirs still in flight keeps it until it completes;
     * their next page-file I/O sees the new generation and makes a ring). */
    sigset_t old;
    list_lock(&old);
    for (struct thread_ring *t = listed; t;) {
        struct thread_ring *next = t->next;
        (void)os_ring_unregister_files(&t->ring);
        t->pprev = NULL;
        t->next = NULL;
        t = next;
    }
    listed = NULL;
    list_unlock(&old);
}

void pf_io_forget_ring(void)
{
    tr.ready = 0;
    tr.pf_fixed = 0;
    tr.pprev = NULL;
    tr.next = NULL;
    listed = NULL; /* the parent's threads' rings; no thread here holds it */
    ring_list_lock = 0;
}

void *pagefile_bounce(void)
{
    if (!tr.bounce) {
        tr.bounce = ialloc_pages(PF_BOUNCE_PAGES * PAGE_SZ);
        engine_register();
    }
    return tr.bounce;
}

unsigned pagefile_thread_inflight(void)
{
    return tr.inflight;
}

void pagefile_set_spin(unsigned us)
{
    io_spin_ns = (uint64_t)us * 1000u;
}

/* The page file as this ring's fixed file 0, registered through a checked
 * private duplicate (pf_file_dup): a number the application flips between
 * its file and the page file can make this fail (pf_refused: no page-file
 * I/O on this ring until a registration succeeds), never register its
 * file.  Only a ring whose thread-exit handler will run is listed (an
 * exited thread's ring must leave the list); one that is not, or whose
 * registration the kernel refused, does page-file I/O through a checked
 * duplicate per call. */
static void register_pagefile(void)
{
    tr.pf_refused = 0;
    if (!tr.registered)
        return;
    int d, e = pf_file_dup(&d);
    if (e) {
        tr.pf_refused = e == EBADF && pf_file_fd() >= 0;
        return;
    }
    e = os_ring_register_file(&tr.ring, d);
    os_fd_close(d); /* the ring holds the file */
    if (!e) {
        tr.pf_fixed = 1;
        list_add();
    }
}

static struct os_ring *ring(void)
{
    if (tr.exiting)
        return NULL;
    unsigned g = pf_file_generation();
    if (tr.ready && tr.generation != g)
        ring_exit_self();
    if (!tr.ready) {
        int e = os_ring_init(&tr.ring, RING_DEPTH);
        if (e) {
            /* descriptors or locked memory exhausted, or io_uring forbidden
             * (seccomp, io_uring_disabled): run_io falls back to pread and
             * pwrite on this thread */
            static int told;
            if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
                vmem_log("no io_uring ring for page-file I/O (%s): using pread/pwrite",
                         strerror(e));
            return NULL;
        }
        tr.ready = 1;
        tr.generation = g;
        engine_register();
        register_pagefile();
    } else if (tr.pf_refused) {
        register_pagefile(); /* the number may name the page file again */
    }
    return &tr.ring;
}

/* ---- requests -------------------------------------------------------------- */

/* The submission, with or without waiting for one completion, or the
 * injected failure: 0 or an errno value. */
static int submit(struct os_ring *r, int wait, size_t inflight_before)
{
    int inj = pf_inject_submit(inflight_before);
    if (inj)
        return inj;
    return os_ring_submit(r, wait);
}

struct io_req {
    int fd;             /* the page file's, checked, or another file's */
    int pagefile;       /* fd is the page file's: the ring's fixed file serves */
    off_t off;          /* where in it */
    void *buf;
    size_t bytes;
    size_t done;
    int write;
    int result;
    int finished;
    int told;           /* its end reported to the caller (run_io's `fin`) */
    unsigned again;     /* -EAGAIN/-EINTR completions so far */
};

/* Told as each request of a run_io finishes (its result set), on the
 * calling thread, while later requests may still be in flight. */
struct io_fin {
    void (*fn)(size_t k, int result, void *ctx);
    void *ctx;
};

static void tell(struct io_req *req, size_t k, const struct io_fin *fin)
{
    if (fin && !req[k].told) {
        req[k].told = 1;
        fin->fn(k, req[k].result, fin->ctx);
    }
}

static void tell_all(struct io_req *req, size_t n, const struct io_fin *fin)
{
    for (size_t k = 0; k < n; k++)
        tell(req, k, fin);
}

static void queue(struct os_ring *r, struct io_req *q)
{
    off_t off = q->off + (off_t)q->done;
    char *p = (char *)q->buf + q->done;
    unsigned len = (unsigned)(q->bytes - q->done);
    if (q->pagefile && tr.pf_fixed)
        os_ring_queue_fixed(r, q->write, p, len, off, q);
    else
        os_ring_queue(r, q->write, q->fd, p, len, off, q);
}

/* After a failed submission: waits for every request the kernel has taken
 * (they point into the caller's stack and buffers), then drops the ring, so
 * requests it has not taken are never started.  Each unfinished request
 * gets err. */
static void abandon(struct os_ring *r, struct io_req *req, size_t n, size_t inflight, int err)
{
    size_t taken = inflight - os_ring_unsubmitted(r);
    while (taken) {
        void *data;
        int res;
        if (os_ring_wait(r, &data, &res))
            continue; /* interrupted; the requests are still in flight */
        struct io_req *q = data;
        taken--;
        tr.inflight--;
        q->finished = 1;
        q->result = res < 0 ? -res : q->done + (size_t)res < q->bytes ? EIO : 0;
    }
    tr.inflight = 0;
    (void)r; /* this thread's ring */
    ring_exit_self();
    for (size_t k = 0; k < n; k++)
        if (!req[k].finished)
            req[k].result = err;
}

/* One request by pread or pwrite, for a thread without a ring. */
static void run_plain(struct io_req *q)
{
    unsigned again = 0;
    int fd = q->fd;
    while (q->done < q->bytes) {
        off_t off = q->off + (off_t)q->done;
        char *p = (char *)q->buf + q->done;
        size_t got = 0;
        int e = q->write ? os_file_write_at(fd, p, q->bytes - q->done, off, &got)
                         : os_file_read_at(fd, p, q->bytes - q->done, off, &got);
        if ((e == EINTR || e == EAGAIN) && ++again < IO_AGAIN_MAX)
            continue;
        if (e || !got) {
            q->result = e ? e : EIO; /* 0: the file ends early */
            return;
        }
        q->done += got;
    }
    q->result = 0;
}

/* Page-file requests that the ring's fixed file will not serve (no ring,
 * or a ring without it) go to a checked private duplicate of the page
 * file's descriptor, made here for the call (returned, or -1 if none was
 * made), not to the number: the application may flip it to its own file
 * between a check and the I/O.  With no descriptor left for a duplicate
 * they keep the number their caller checked.  If the number names another
 * file (or this ring's registration was refused so) they fail now with
 * EBADF. */
static int pin_pagefile(struct os_ring *r, struct io_req *req, size_t n,
                        const struct io_fin *fin)
{
    if (r && tr.pf_fixed)
        return -1;
    int d = -1, e = 0, tried = 0;
    for (size_t k = 0; k < n; k++) {
        if (!req[k].pagefile)
            continue;
        if (!tried) {
            tried = 1;
            e = r && tr.pf_refused ? EBADF : pf_file_dup(&d);
        }
        if (!e) {
            req[k].fd = d;
        } else if (e != EMFILE) {
            req[k].result = EBADF;
            req[k].finished = 1;
            tell(req, k, fin);
        }
    }
    return e ? -1 : d;
}

static int run_io_on(struct os_ring *r, struct io_req *req, size_t n, int spin,
                     const struct io_fin *fin)
{
    if (!r) {
        int first = 0;
        for (size_t k = 0; k < n; k++) {
            if (req[k].finished) {
                if (!first)
                    first = req[k].result;
                continue;
            }
            int inj = pf_inject_io();
            if (inj)
                req[k].result = inj;
            else
                run_plain(&req[k]);
            tell(req, k, fin);
            if (req[k].result && !first)
                first = req[k].result;
        }
        return first;
    }
    size_t next = 0, inflight = 0, finished = 0;
    for (size_t k = 0; k < n; k++)
        finished += req[k].finished != 0; /* failed before any I/O */
    while (finished < n) {
        size_t before = inflight;
        while (next < n && inflight < RING_DEPTH) {
            struct io_req *q = &req[next++];
            if (q->finished)
                continue;
            int inj = pf_inject_io();
            if (inj) {
                q->result = inj;
                q->finished = 1;
                finished++;
                tell(req, (size_t)(q - req), fin);
                continue;
            }
            queue(r, q);
            inflight++;
            tr.inflight++;
        }
        if (!inflight)
            continue;
        int e;
        if (spin && io_spin_ns) {
            /* VMEM_IO_SPIN_US: a page-in polls the completion queue for a
             * while before sleeping, which saves an idle vCPU's halt and
             * wake-up on completion but takes the CPU from the working-set
             * manager and the page writer (off by default for that).
             * Writes (the page writer) never spin. */
            e = submit(r, 0, before);
            int got = 0;
            uint64_t t0 = os_now_ns();
            while (!e && !(got = os_ring_has_completion(r)) && os_now_ns() - t0 < io_spin_ns)
                __builtin_ia32_pause();
            if (!e && !got)
                e = submit(r, 1, before);
        } else {
            e = submit(r, 1, before);
        }
        if (e && e != EINTR && e != EAGAIN) {
            abandon(r, req, n, inflight, e);
            tell_all(req, n, fin);
            return e;
        }
        void *data;
        int res;
        while (os_ring_reap(r, &data, &res)) {
            struct io_req *q = data;
            if (((res == -EAGAIN || res == -EINTR) && ++q->again < IO_AGAIN_MAX) ||
                (res > 0 && q->done + (size_t)res < q->bytes)) {
                if (res > 0)
                    q->done += (size_t)res;
                queue(r, q); /* the rest; still in flight */
                continue;
            }
            inflight--;
            tr.inflight--;
            if (res > 0)
                q->done += (size_t)res;
            q->result = res < 0 ? -res : q->done < q->bytes ? EIO : 0;
            q->finished = 1;
            finished++;
            tell(req, (size_t)(q - req), fin);
        }
    }
    return 0;
}

/* Runs the requests to completion on this thread's ring, at most a ring's
 * depth at a time; a short transfer or -EAGAIN/-EINTR is queued again for
 * the rest (-EAGAIN/-EINTR at most IO_AGAIN_MAX times: a file system that
 * keeps answering so must not hold a fault forever).  Never returns while a
 * request is in flight: the buffers are the caller's. */
static int run_io(struct io_req *req, size_t n, int spin, const struct io_fin *fin)
{
    struct os_ring *r = ring();
    int d = pin_pagefile(r, req, n, fin);
    int e = run_io_on(r, req, n, spin, fin);
    if (d >= 0)
        os_fd_close(d);
    return e;
}

/* pread, for a forked child: async-signal-safe, needs no ring. */
static int read_plain(uint32_t first, void *buf, size_t npages)
{
    int fd, e = pf_file_dup(&fd);
    if (e == EMFILE && (fd = pf_file_checked()) >= 0) /* no descriptor left */
        return os_file_read_full(fd, buf, npages * PAGE_SZ, (off_t)(first - 1) * PAGE_SZ);
    if (e)
        return EBADF;
    e = os_file_read_full(fd, buf, npages * PAGE_SZ, (off_t)(first - 1) * PAGE_SZ);
    os_fd_close(fd);
    return e;
}

int pagefile_read(uint32_t first, void *buf, size_t npages)
{
    int e;
    if (pagefile_is_borrowed()) {
        e = read_plain(first, buf, npages);
    } else {
        int fd = pf_file_checked();
        if (fd < 0)
            return EBADF;
        struct io_req q = { .fd = fd, .pagefile = 1, .off = (off_t)(first - 1) * PAGE_SZ,
                            .buf = buf, .bytes = npages * PAGE_SZ };
        e = run_io(&q, 1, 1, NULL);
        if (!e)
            e = q.result;
    }
    return e ? e : verify(first, buf, npages);
}

/* pagefile_read_batch's: each finished read checked, then handed on. */
struct batch {
    struct pf_read *r;
    void (*done)(struct pf_read *r, void *ctx);
    void *ctx;
};

static void batch_fin(size_t k, int result, void *ctx)
{
    struct batch *b = ctx;
    struct pf_read *e = &b->r[k];
    e->result = result ? result : verify(e->slot, e->buf, e->npages);
    b->done(e, b->ctx);
}

void pagefile_read_batch(struct pf_read *r, size_t n, void (*done)(struct pf_read *r, void *ctx),
                         void *ctx)
{
    struct io_req req[RING_DEPTH];
    struct batch b = { .r = r, .done = done, .ctx = ctx };
    struct io_fin fin = { .fn = batch_fin, .ctx = &b };
    if (n > RING_DEPTH)
        n = RING_DEPTH; /* the caller keeps to PF_READ_BATCH_MAX */
    if (pagefile_is_borrowed()) {
        for (size_t k = 0; k < n; k++) {
            r[k].result = read_plain(r[k].slot, r[k].buf, r[k].npages);
            if (!r[k].result)
                r[k].result = verify(r[k].slot, r[k].buf, r[k].npages);
            done(&r[k], ctx);
        }
        return;
    }
    int fd = pf_file_checked();
    if (fd < 0) {
        for (size_t k = 0; k < n; k++) {
            r[k].result = EBADF;
            done(&r[k], ctx);
        }
        return;
    }
    for (size_t k = 0; k < n; k++)
        req[k] = (struct io_req){ .fd = fd, .pagefile = 1,
                                  .off = (off_t)(r[k].slot - 1) * PAGE_SZ,
                                  .buf = r[k].buf, .bytes = r[k].npages * PAGE_SZ };
    run_io(req, n, 0, &fin);
}

int pagefile_write_batch(struct pf_write *w, size_t n)
{
    struct io_req req[RING_DEPTH];
    struct pf_lie lie[RING_DEPTH];
    int first_err = 0;
    if (pagefile_is_borrowed()) {
        for (size_t k = 0; k < n; k++)
            w[k].result = EROFS;
        return EROFS;
    }
    for (size_t base = 0; base < n; base += RING_DEPTH) {
        size_t m = n - base < RING_DEPTH ? n - base : RING_DEPTH;
        /* checked again for each ring-full: the application may have put
         * another file on the number meanwhile */
        int fd = pf_file_checked();
        if (fd < 0) {
            for (size_t k = base; k < n; k++)
                w[k].result = EBADF;
            return first_err ? first_err : EBADF;
        }
        for (size_t k = 0; k < m; k++) {
            const struct pf_write *e = &w[base + k];
            req[k] = (struct io_req){ .fd = fd, .pagefile = 1,
                                      .off = (off_t)(e->slot - 1) * PAGE_SZ,
                                      .buf = (void *)e->buf,
                                      .bytes = e->npages * PAGE_SZ, .write = 1 };
            if (checksum_on) /* the slot is ours alone until the write settles */
                for (size_t j = 0; j < e->npages; j++)
                    sums[e->slot - 1 + j] = crc32c((const char *)e->buf + j * PAGE_SZ, PAGE_SZ);
            pf_lie_before(&lie[k], e->slot, req[k].bytes);
        }
        run_io(req, m, 0, NULL); /* each request gets its own result, a failure included */
        for (size_t k = 0; k < m; k++) {
            w[base + k].result = req[k].result;
            if (w[base + k].result && !first_err)
                first_err = w[base + k].result;
            pf_lie_after(&lie[k], w[base + k].slot, req[k].bytes, w[base + k].result);
        }
    }
    return first_err;
}

int pagefile_fd_io(struct pf_fd_io *io, size_t n)
{
    struct io_req req[RING_DEPTH];
    int first_err = 0;
    for (size_t base = 0; base < n; base += RING_DEPTH) {
        size_t m = n - base < RING_DEPTH ? n - base : RING_DEPTH;
        for (size_t k = 0; k < m; k++) {
            const struct pf_fd_io *e = &io[base + k];
            req[k] = (struct io_req){ .fd = e->fd, .off = e->off, .buf = e->buf,
                                      .bytes = e->len, .write = e->write };
        }
        /* reads spin as page-ins do, writes never */
        run_io(req, m, !io[base].write, NULL);
        for (size_t k = 0; k < m; k++) {
            io[base + k].result = req[k].result;
            if (req[k].result && !first_err)
                first_err = req[k].result;
        }
    }
    return first_err;
}

void pagefile_forget_ring(void)
{
    pf_io_forget_ring();
}
