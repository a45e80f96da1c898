/*
 * pagefile.c -- the page file: a slot allocator over one file, and its I/O
 * through io_uring.
 *
 * The file is an unlinked O_TMPFILE (mode 0600) in $TMPDIR or /var/tmp by
 * default, or in the directory VMEM_PAGEFILE names, so no other user can
 * read the process's memory and nothing is left behind; or, for a path
 * that does not exist, in that path's directory, the name never taken.
 * An existing non-directory path is refused and never touched.  The
 * descriptor is checked before each I/O (pf_checked).  It is
 * opened with O_DIRECT where the file system accepts it (checked with a
 * probe write), so paged-out memory does not also sit in the page cache.
 *
 * Slots are 4 KiB, numbered from 1 (slot s is at file offset (s-1)*4096).
 * The allocator is a first-fit bitmap, so runs allocated together are
 * neighbours on disk; freed runs are punched out of the file.
 *
 * I/O: each thread has its own ring (thread-local, created on first use,
 * replaced when the file changes), since a ring is not safe for concurrent
 * submitters; fault threads, the page writer and, in signal mode,
 * application threads in their SIGBUS handler all do I/O.  Nothing here
 * calls malloc.
 *
 * Forked children (see fork_paging.c): while a child may still read the
 * parent's slots, the parent holds the file: freed slots are set aside,
 * not reused or punched, until the hold ends.  The child borrows the file
 * read-only: it reads with pread (the parent's rings are not its own) and
 * never frees, allocates or removes anything.
 *
 * Lock: slot_lock guards the bitmap, counters and set-aside list; a leaf
 * lock, never held across I/O.
 */
#include "pagefile/pagefile.h"
#include "pagefile/crc32c.h"
#include "core/internal_alloc.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define RING_DEPTH   64
#define IO_AGAIN_MAX 16
#define MAX_DEFAULT  ((uint64_t)64 << 30)

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *pagefile_fork_lock(void) { return &slot_lock; }
static int pf_fd = -1;
static uint64_t pf_id;              /* the file's device and inode at open */
static int pf_direct;
static uint64_t *bitmap;            /* bit set = slot in use; bit i = slot i+1 */
static size_t bitmap_bytes;
static uint64_t capacity, used, peak, hint;
/* crc32c of each slot's last write (index = slot - 1).  Sized for the whole
 * file but mapped MAP_NORESERVE: only the parts touched take memory. */
static uint32_t *sums;
static size_t sums_bytes;
static int checksum_on = 1;
static unsigned generation;         /* bumped per open: rings follow it */

struct slot_run { uint32_t first, n; };
static int held;                    /* frees are set aside (a child reads) */
static struct slot_run *set_aside;  /* runs freed while held */
static size_t set_aside_n, set_aside_cap;
static int borrowed;                /* in a forked child: read-only */

void (*pagefile_test_free_hook)(uint32_t first, size_t n);
/* Injected errors count each thread's I/Os: a thread's retry then meets
 * the same pattern whatever the other threads do. */
static unsigned inject_every;
static VMEM_TLS unsigned inject_count;
static int inject_err;
static unsigned lie_every, lie_count;
static int lie_kind;

/* The per-thread I/O engine: a ring and a bounce buffer for hard faults,
 * both made on first use and released when the thread exits (engine_key's
 * destructor), so short-lived threads that took a hard fault in signal
 * mode, or called VirtualLock on paged-out memory, leave nothing behind. */
struct thread_ring {
    struct io_uring ring;
    unsigned generation;
    int ready;
    int registered;     /* engine_key set: the destructor will run */
    void *bounce;       /* PF_BOUNCE_PAGES pages, page-aligned */
    unsigned inflight; /* requests queued and not reaped, all calls */
};
static VMEM_TLS struct thread_ring tr;
static pthread_key_t engine_key;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static int engine_key_ok;

/* ---- opening ------------------------------------------------------------- */

static uint64_t file_id(int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return 0;
    return ((uint64_t)st.st_dev << 40) ^ (uint64_t)st.st_ino ^ ((uint64_t)1 << 63);
}

/* The page file's descriptor, checked before each I/O: an application may
 * close any descriptor and reuse the number for a file of its own, which
 * must never be written (nor read as pages).  -1 then, and I/O fails with
 * EBADF: writes keep their pages in memory, reads become in-page errors. */
static int pf_checked(void)
{
    int fd = pf_fd;
    if (fd >= 0 && file_id(fd) == pf_id)
        return fd;
    static int told;
    if (fd >= 0 && !__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
        vmem_log("the page file's descriptor (%d) was closed or replaced by the application: "
                 "no more page-file I/O", fd);
    return -1;
}

static int probe_direct(int fd)
{
    void *buf = ialloc_pages(PAGE_SZ);
    if (!buf)
        return 0;
    int ok = pwrite(fd, buf, PAGE_SZ, 0) == (ssize_t)PAGE_SZ &&
             pread(fd, buf, PAGE_SZ, 0) == (ssize_t)PAGE_SZ;
    ifree_pages(buf, PAGE_SZ);
    if (ftruncate(fd, 0) < 0)
        return 0;
    return ok;
}

/* Opens an unlinked file in dir: O_TMPFILE, else mkstemp + unlink. */
static int open_in_dir(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    char tmpl[320];
    snprintf(tmpl, sizeof(tmpl), "%s/libvmem-pagefile-XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd >= 0)
        unlink(tmpl); /* ours: mkstemp created it */
    return fd;
}

/* A path that does not exist yet: the file is made in its directory
 * without ever taking the name (so processes given the same path never
 * meet, and nothing is left behind after any exit; the descriptor keeps
 * the file, forked children inherit it). */
static int open_new_path(const char *path)
{
    char dir[320];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if (strlen(path) >= sizeof(dir) - 32) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open_in_dir(dir);
}

/* Opens the page file: in a directory (where == NULL: $TMPDIR, else
 * /var/tmp), or at a new path.  *what and *shown say which, for messages. */
static int open_file(const char *where, const char **what, const char **shown)
{
    struct stat st;
    if (!where) {
        /* the default is a directory, never a path to create */
        where = getenv("TMPDIR");
        if (!where || !*where)
            where = "/var/tmp";
        *what = "in";
        *shown = where;
        return open_in_dir(where);
    }
    *shown = where;
    if (stat(where, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            *what = "in";
            return open_in_dir(where);
        }
        *what = "at";
        errno = EEXIST; /* never taken over, truncated or removed */
        return -1;
    }
    *what = "at";
    return open_new_path(where);
}

/* Turns O_DIRECT on where the file system accepts it for our I/O. */
static int try_direct(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT) < 0)
        return 0;
    if (probe_direct(fd))
        return 1;
    if (fcntl(fd, F_SETFL, fl) < 0)
        return -1;
    return 0;
}

static void engine_release(void *unused);

static void engine_key_create(void)
{
    if (pthread_key_create(&engine_key, engine_release) == 0)
        __atomic_store_n(&engine_key_ok, 1, __ATOMIC_RELEASE);
    else
        vmem_log("cannot register a thread-exit handler: threads that page in "
                 "will keep their I/O ring until the process exits");
}

int pagefile_open(const char *where, uint64_t max_bytes, char *err, size_t errlen)
{
    /* made here, not in a fault (pthread_once is not async-signal-safe) */
    pthread_once(&engine_once, engine_key_create);
    if (pf_fd >= 0) {
        snprintf(err, errlen, "the page file is already open");
        return EALREADY;
    }
    crc32c_init();
    const char *what, *shown;
    int fd = open_file(where, &what, &shown);
    if (fd < 0) {
        int e = errno;
        if (e == EEXIST)
            snprintf(err, errlen, "cannot create the page file at %s: it exists and is not "
                     "a directory (name a directory, or a path that does not exist yet); "
                     "left untouched", shown);
        else
            snprintf(err, errlen, "cannot create the page file %s %s: %s", what, shown,
                     strerror(e));
        return e;
    }
    int direct = try_direct(fd);
    if (direct < 0) {
        int e = errno;
        close(fd);
        snprintf(err, errlen, "cannot use the page file %s %s: %s", what, shown, strerror(e));
        return e;
    }
    if (!max_bytes) {
        struct statvfs vfs;
        max_bytes = fstatvfs(fd, &vfs) == 0 ? (uint64_t)vfs.f_bavail * vfs.f_frsize : MAX_DEFAULT;
        if (max_bytes > MAX_DEFAULT)
            max_bytes = MAX_DEFAULT;
    }
    if (max_bytes > PAGEFILE_MAX_BYTES) {
        close(fd);
        snprintf(err, errlen, "page file limit of %llu bytes is above 16 TiB (slots are "
                 "numbered in 32 bits)", (unsigned long long)max_bytes);
        return EINVAL;
    }
    uint64_t cap = max_bytes / PAGE_SZ;
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    if (cap < 16) {
        close(fd);
        snprintf(err, errlen, "page file limit of %llu bytes is below 16 pages",
                 (unsigned long long)max_bytes);
        return EINVAL;
    }
    size_t bytes = (size_t)((cap + 63) / 64) * 8;
    uint64_t *bm = ialloc_pages(bytes);
    if (!bm) {
        close(fd);
        snprintf(err, errlen, "no memory for the page-file bitmap");
        return ENOMEM;
    }
    size_t sbytes = (size_t)cap * sizeof(*sums);
    uint32_t *sm = ialloc_pages(sbytes);
    if (!sm) {
        ifree_pages(bm, bytes);
        close(fd);
        snprintf(err, errlen, "no address space for the page-file checksums");
        return ENOMEM;
    }
    pthread_mutex_lock(&slot_lock);
    pf_fd = fd;
    pf_id = file_id(fd);
    sums = sm;
    sums_bytes = sbytes;
    pf_direct = direct;
    bitmap = bm;
    bitmap_bytes = bytes;
    capacity = cap;
    used = peak = hint = 0;
    __atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&slot_lock);
    return 0;
}

void pagefile_close(void)
{
    if (tr.ready) {
        io_uring_queue_exit(&tr.ring);
        tr.ready = 0;
    }
    pthread_mutex_lock(&slot_lock);
    if (pf_fd >= 0 && file_id(pf_fd) == pf_id)
        close(pf_fd); /* not a number the application reused */
    borrowed = 0;
    held = 0;
    ifree_pages(set_aside, set_aside_cap * sizeof(*set_aside));
    set_aside = NULL;
    set_aside_n = set_aside_cap = 0;
    pf_fd = -1;
    ifree_pages(bitmap, bitmap_bytes);
    bitmap = NULL;
    ifree_pages(sums, sums_bytes);
    sums = NULL;
    sums_bytes = 0;
    capacity = used = hint = 0;
    __atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&slot_lock);
}

uint64_t pagefile_capacity(void) { return __atomic_load_n(&capacity, __ATOMIC_RELAXED); }
uint64_t pagefile_used(void) { return __atomic_load_n(&used, __ATOMIC_RELAXED); }
uint64_t pagefile_peak(void) { return __atomic_load_n(&peak, __ATOMIC_RELAXED); }
int pagefile_is_direct(void) { return pf_direct; }

uint64_t pagefile_disk_bytes(void)
{
    struct stat st;
    return pf_fd >= 0 && fstat(pf_fd, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

/* ---- slots ------------------------------------------------------------------ */

static int bit(uint64_t i) { return (bitmap[i / 64] >> (i % 64)) & 1; }

static void set_bits(uint64_t i, size_t n, int on)
{
    for (size_t k = 0; k < n; k++, i++) {
        if (on)
            bitmap[i / 64] |= 1ull << (i % 64);
        else
            bitmap[i / 64] &= ~(1ull << (i % 64));
    }
}

int pagefile_alloc(size_t n, uint32_t *first)
{
    if (n == 0)
        return EINVAL;
    pthread_mutex_lock(&slot_lock);
    if (borrowed) {
        pthread_mutex_unlock(&slot_lock);
        return ENOSPC;
    }
    uint64_t i = hint, run = 0, start = 0;
    while (i < capacity) {
        if (run == 0 && bitmap[i / 64] == ~0ull && i % 64 == 0) {
            i += 64; /* a full word: skip it */
            continue;
        }
        if (bit(i)) {
            run = 0;
        } else {
            if (run++ == 0)
                start = i;
            if (run == n)
                break;
        }
        i++;
    }
    if (run != n) {
        pthread_mutex_unlock(&slot_lock);
        return ENOSPC;
    }
    set_bits(start, n, 1);
    if (n == 1 || start == hint)
        hint = start + n; /* everything below stays full until a free */
    __atomic_store_n(&used, used + n, __ATOMIC_RELAXED);
    if (used > peak)
        __atomic_store_n(&peak, used, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&slot_lock);
    *first = (uint32_t)(start + 1);
    return 0;
}

void pagefile_free(uint32_t first, size_t n)
{
    if (!first || !n)
        return;
    pthread_mutex_lock(&slot_lock);
    if (borrowed) {
        pthread_mutex_unlock(&slot_lock);
        return; /* the parent's slots */
    }
    if (held) {
        /* a child may still read it: keep it allocated until the hold ends
         * (if the list cannot grow, the slot simply stays allocated) */
        if (set_aside_n == set_aside_cap) {
            size_t cap = set_aside_cap ? 2 * set_aside_cap : 512;
            struct slot_run *a = ialloc_pages(cap * sizeof(*a));
            if (a) {
                if (set_aside_n)
                    memcpy(a, set_aside, set_aside_n * sizeof(*a));
                ifree_pages(set_aside, set_aside_cap * sizeof(*set_aside));
                set_aside = a;
                set_aside_cap = cap;
            }
        }
        if (set_aside_n < set_aside_cap)
            set_aside[set_aside_n++] = (struct slot_run){ first, (uint32_t)n };
        pthread_mutex_unlock(&slot_lock);
        return;
    }
    /* Punch while the slots are still allocated, then free them: a slot
     * freed first could be taken and written by the page writer before the
     * punch, which would erase the new data. */
    int fd = pf_checked();
    unsigned gen = generation;
    pthread_mutex_unlock(&slot_lock);
    if (pagefile_test_free_hook)
        pagefile_test_free_hook(first, n);
    uint64_t i = first - 1;
    /* give the blocks back to the file system */
    if (fd >= 0)
        (void)!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)i * PAGE_SZ,
                         (off_t)n * PAGE_SZ);
    pthread_mutex_lock(&slot_lock);
    if (generation == gen) { /* else the file was closed meanwhile */
        set_bits(i, n, 0);
        __atomic_store_n(&used, used - n, __ATOMIC_RELAXED);
        if (i < hint)
            hint = i;
    }
    pthread_mutex_unlock(&slot_lock);
}

/* ---- forked children ------------------------------------------------------ */

void pagefile_hold(int on)
{
    pthread_mutex_lock(&slot_lock);
    held = on;
    if (on) {
        pthread_mutex_unlock(&slot_lock);
        return;
    }
    struct slot_run *runs = set_aside;
    size_t n = set_aside_n, cap = set_aside_cap;
    set_aside = NULL;
    set_aside_n = set_aside_cap = 0;
    pthread_mutex_unlock(&slot_lock);
    for (size_t k = 0; k < n; k++)
        pagefile_free(runs[k].first, runs[k].n);
    ifree_pages(runs, cap * sizeof(*runs));
}

int pagefile_held(void)
{
    return __atomic_load_n(&held, __ATOMIC_RELAXED);
}

void pagefile_borrow(void)
{
    /* The rings' memory is shared with the parent's: forget ours without
     * touching them. */
    tr.ready = 0;
    borrowed = 1;
    held = 0;
    set_aside = NULL; /* the parent's list: leave it be */
    set_aside_n = set_aside_cap = 0;
}

int pagefile_is_borrowed(void)
{
    return borrowed;
}

/* A synchronous transfer of bytes at off on fd, to the end or the first
 * error (EIO when the file ends early).  Async-signal-safe. */
static int fd_io(int fd, int write, void *buf, size_t bytes, off_t off)
{
    size_t done = 0;
    while (done < bytes) {
        ssize_t r = write ? pwrite(fd, (char *)buf + done, bytes - done, off + (off_t)done)
                          : pread(fd, (char *)buf + done, bytes - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? errno : EIO;
        done += (size_t)r;
    }
    return 0;
}

/* pread, for a forked child: async-signal-safe, needs no ring. */
static int read_plain(uint32_t first, void *buf, size_t npages)
{
    int fd = pf_checked();
    if (fd < 0)
        return EBADF;
    return fd_io(fd, 0, buf, npages * PAGE_SZ, (off_t)(first - 1) * PAGE_SZ);
}

/* ---- I/O ------------------------------------------------------------------- */

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
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if (tr.ready) {
        tr.ready = 0;
        io_uring_queue_exit(&tr.ring);
    }
    void *b = tr.bounce;
    tr.bounce = NULL;
    if (b)
        ifree_pages(b, PF_BOUNCE_PAGES * PAGE_SZ);
    tr.registered = 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Arranges for engine_release to run when this thread exits.  The key was
 * made at open, so this is pthread_setspecific on one of the first keys,
 * which stores into the thread's descriptor without allocating. */
static void engine_register(void)
{
    if (tr.registered || !__atomic_load_n(&engine_key_ok, __ATOMIC_ACQUIRE))
        return;
    if (pthread_setspecific(engine_key, &tr) == 0)
        tr.registered = 1;
}

void *pagefile_bounce(void)
{
    if (!tr.bounce) {
        tr.bounce = ialloc_pages(PF_BOUNCE_PAGES * PAGE_SZ);
        engine_register();
    }
    return tr.bounce;
}

static struct io_uring *ring(void)
{
    unsigned g = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
    if (tr.ready && tr.generation != g) {
        io_uring_queue_exit(&tr.ring);
        tr.ready = 0;
    }
    if (!tr.ready) {
        int e = io_uring_queue_init(RING_DEPTH, &tr.ring, 0);
        if (e < 0) {
            /* descriptors or locked memory exhausted, or io_uring forbidden
             * (seccomp, io_uring_disabled): run_io falls back to pread and
             * pwrite on this thread */
            static int told;
            if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
                vmem_log("no io_uring ring for page-file I/O (%s): using pread/pwrite",
                         strerror(-e));
            return NULL;
        }
        tr.ready = 1;
        tr.generation = g;
        engine_register();
    }
    return &tr.ring;
}

static int injected(void)
{
    unsigned every = __atomic_load_n(&inject_every, __ATOMIC_RELAXED);
    if (!every)
        return 0;
    return ++inject_count % every == 0 ? inject_err : 0;
}

void pagefile_inject_errors(unsigned every, int err)
{
    __atomic_store_n(&inject_err, err, __ATOMIC_RELAXED);
    inject_count = 0;
    __atomic_store_n(&inject_every, every, __ATOMIC_RELAXED);
}

void pagefile_inject_lies(unsigned every, int kind)
{
    __atomic_store_n(&lie_kind, kind, __ATOMIC_RELAXED);
    __atomic_store_n(&lie_count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&lie_every, every, __ATOMIC_RELAXED);
}

static int lie_now(void)
{
    unsigned every = __atomic_load_n(&lie_every, __ATOMIC_RELAXED);
    if (!every)
        return 0;
    return __atomic_add_fetch(&lie_count, 1, __ATOMIC_RELAXED) % every == 0 ? lie_kind : 0;
}

static int inject_submit;

void pagefile_inject_submit_error(int err)
{
    __atomic_store_n(&inject_submit, err, __ATOMIC_RELAXED);
}

unsigned pagefile_thread_inflight(void)
{
    return tr.inflight;
}

/* io_uring_submit or io_uring_submit_and_wait(r, 1), or the injected
 * failure. */
static int submit(struct io_uring *r, int wait, size_t inflight_before)
{
    if (inflight_before && __atomic_load_n(&inject_submit, __ATOMIC_RELAXED))
        return -__atomic_exchange_n(&inject_submit, 0, __ATOMIC_RELAXED);
    return wait ? io_uring_submit_and_wait(r, 1) : io_uring_submit(r);
}

static uint64_t io_spin_ns = 0;

void pagefile_set_spin(unsigned us)
{
    io_spin_ns = (uint64_t)us * 1000u;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

struct io_req {
    uint32_t slot;
    void *buf;
    size_t bytes;
    size_t done;
    int write;
    int result;
    int finished;
    unsigned again;     /* -EAGAIN/-EINTR completions so far */
};

static void queue(struct io_uring *r, struct io_req *q)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(r);
    off_t off = (off_t)(q->slot - 1) * PAGE_SZ + (off_t)q->done;
    char *p = (char *)q->buf + q->done;
    unsigned len = (unsigned)(q->bytes - q->done);
    if (q->write)
        io_uring_prep_write(sqe, pf_fd, p, len, off);
    else
        io_uring_prep_read(sqe, pf_fd, p, len, off);
    io_uring_sqe_set_data(sqe, q);
}

/* After a failed submission: waits for every request the kernel has taken
 * (they point into the caller's stack and buffers), then drops the ring, so
 * requests it has not taken are never started.  Each unfinished request
 * gets err. */
static void abandon(struct io_uring *r, struct io_req *req, size_t n, size_t inflight, int err)
{
    size_t taken = inflight - io_uring_sq_ready(r);
    while (taken) {
        struct io_uring_cqe *cqe;
        int e = io_uring_wait_cqe(r, &cqe);
        if (e < 0)
            continue; /* interrupted; the requests are still in flight */
        struct io_req *q = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(r, cqe);
        taken--;
        tr.inflight--;
        q->finished = 1;
        q->result = res < 0 ? -res : q->done + (size_t)res < q->bytes ? EIO : 0;
    }
    tr.inflight = 0;
    io_uring_queue_exit(r);
    tr.ready = 0;
    for (size_t k = 0; k < n; k++)
        if (!req[k].finished)
            req[k].result = err;
}

/* One request by pread or pwrite, for a thread without a ring. */
static void run_plain(struct io_req *q)
{
    unsigned again = 0;
    while (q->done < q->bytes) {
        off_t off = (off_t)(q->slot - 1) * PAGE_SZ + (off_t)q->done;
        char *p = (char *)q->buf + q->done;
        ssize_t r = q->write ? pwrite(pf_fd, p, q->bytes - q->done, off)
                             : pread(pf_fd, p, q->bytes - q->done, off);
        if (r < 0 && (errno == EINTR || errno == EAGAIN) && ++again < IO_AGAIN_MAX)
            continue;
        if (r <= 0) {
            q->result = r < 0 ? errno : EIO; /* 0: the file ends early */
            return;
        }
        q->done += (size_t)r;
    }
    q->result = 0;
}

/* Runs the requests to completion on this thread's ring, at most a ring's
 * depth at a time; a short transfer or -EAGAIN/-EINTR is queued again for
 * the rest (-EAGAIN/-EINTR at most IO_AGAIN_MAX times: a file system that
 * keeps answering so must not hold a fault forever).  Never returns while a
 * request is in flight: the buffers are the caller's. */
static int run_io(struct io_req *req, size_t n, int spin)
{
    if (pf_checked() < 0) {
        for (size_t k = 0; k < n; k++)
            req[k].result = EBADF;
        return EBADF;
    }
    struct io_uring *r = ring();
    if (!r) {
        int first = 0;
        for (size_t k = 0; k < n; k++) {
            int inj = injected();
            if (inj)
                req[k].result = inj;
            else
                run_plain(&req[k]);
            if (req[k].result && !first)
                first = req[k].result;
        }
        return first;
    }
    size_t next = 0, inflight = 0, finished = 0;
    while (finished < n) {
        size_t before = inflight;
        while (next < n && inflight < RING_DEPTH) {
            struct io_req *q = &req[next++];
            int inj = injected();
            if (inj) {
                q->result = inj;
                q->finished = 1;
                finished++;
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
            /* A page-in polls the completion queue for a while before
             * sleeping: the thread waiting here (a fault thread, or a
             * faulting thread in signal mode) has nothing else to do, and
             * a sleep costs an idle vCPU's halt and wake-up on completion.
             * Writes (the page writer) never spin. */
            e = submit(r, 0, before);
            struct io_uring_cqe *c = NULL;
            uint64_t t0 = now_ns();
            while (e >= 0 && io_uring_peek_cqe(r, &c) != 0 && now_ns() - t0 < io_spin_ns)
                __builtin_ia32_pause();
            if (e >= 0 && !c)
                e = submit(r, 1, before);
        } else {
            e = submit(r, 1, before);
        }
        if (e < 0 && e != -EINTR && e != -EAGAIN) {
            abandon(r, req, n, inflight, -e);
            return -e;
        }
        struct io_uring_cqe *cqe;
        while (io_uring_peek_cqe(r, &cqe) == 0) {
            struct io_req *q = io_uring_cqe_get_data(cqe);
            int res = cqe->res;
            io_uring_cqe_seen(r, cqe);
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
        }
    }
    return 0;
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

int pagefile_read(uint32_t first, void *buf, size_t npages)
{
    int e;
    if (borrowed) {
        e = read_plain(first, buf, npages);
    } else {
        struct io_req q = { .slot = first, .buf = buf, .bytes = npages * PAGE_SZ };
        e = run_io(&q, 1, 1);
        if (!e)
            e = q.result;
    }
    return e ? e : verify(first, buf, npages);
}

int pagefile_write_batch(struct pf_write *w, size_t n)
{
    struct io_req req[RING_DEPTH];
    int lie[RING_DEPTH];
    void *old[RING_DEPTH];
    int first_err = 0;
    if (borrowed) {
        for (size_t k = 0; k < n; k++)
            w[k].result = EROFS;
        return EROFS;
    }
    for (size_t base = 0; base < n; base += RING_DEPTH) {
        size_t m = n - base < RING_DEPTH ? n - base : RING_DEPTH;
        for (size_t k = 0; k < m; k++) {
            const struct pf_write *e = &w[base + k];
            req[k] = (struct io_req){ .slot = e->slot, .buf = (void *)e->buf,
                                      .bytes = e->npages * PAGE_SZ, .write = 1 };
            if (checksum_on) /* the slot is ours alone until the write settles */
                for (size_t j = 0; j < e->npages; j++)
                    sums[e->slot - 1 + j] = crc32c((const char *)e->buf + j * PAGE_SZ, PAGE_SZ);
            lie[k] = lie_now();
            old[k] = NULL;
            if (lie[k] == PF_LIE_DROP && (old[k] = ialloc_pages(req[k].bytes)) != NULL &&
                fd_io(pf_fd, 0, old[k], req[k].bytes, (off_t)(e->slot - 1) * PAGE_SZ) != 0)
                memset(old[k], 0, req[k].bytes); /* past the end: reads as zeros */
        }
        run_io(req, m, 0); /* each request gets its own result, a failure included */
        for (size_t k = 0; k < m; k++) {
            w[base + k].result = req[k].result;
            if (w[base + k].result && !first_err)
                first_err = w[base + k].result;
            off_t off = (off_t)(req[k].slot - 1) * PAGE_SZ;
            if (lie[k] && !w[base + k].result) {
                /* acknowledged; now the device loses or mangles it */
                if (lie[k] == PF_LIE_DROP && old[k]) {
                    (void)!fd_io(pf_fd, 1, old[k], req[k].bytes, off);
                } else if (lie[k] == PF_LIE_FLIP) {
                    uint8_t *pg = ialloc_pages(PAGE_SZ);
                    if (pg && fd_io(pf_fd, 0, pg, PAGE_SZ, off) == 0) {
                        pg[PAGE_SZ / 3] ^= 0x10;
                        (void)!fd_io(pf_fd, 1, pg, PAGE_SZ, off);
                    }
                    ifree_pages(pg, PAGE_SZ);
                }
            }
            ifree_pages(old[k], req[k].bytes);
        }
    }
    return first_err;
}
