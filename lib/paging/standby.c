/*
 * standby.c -- the standby frame pool and list.
 *
 * The pool may hold up to `limit` frames (an eighth of the cap), but only
 * what the working-set manager has grown it to is usable: frame memory,
 * records and bitmaps are each one PROT_NONE reservation of address space
 * for `limit` frames (MAP_NORESERVE: no memory, no commit charge, no page
 * tables), made readable and writable a chunk at a time as the standby
 * list fills (standby_grow, outside signal handlers).  So starting costs
 * the same whatever the cap, and untouched frames cost nothing once grown.
 * Frame 0 is unused so 0 can mean "none".
 *
 * Free frames are found in a bitmap, next-fit, so the trimmer can take a
 * run of neighbouring frames for a run of neighbouring pages (one
 * UFFDIO_MOVE moves them all).  In move mode (standby_use_move) the whole
 * frame reservation is registered with userfaultfd, since UFFDIO_MOVE only
 * moves into a registered range, and only into empty pages: a freed frame
 * keeps its memory until a run is taken again or the working-set manager's
 * next round (standby_empty_free), when it is emptied with one
 * MADV_DONTNEED per run.  Nothing may touch an empty frame in move mode (it
 * would wait on userfaultfd forever): frames are filled by UFFDIO_MOVE or
 * UFFDIO_COPY only.
 *
 * Lock: frame_lock guards the free bitmap, the standby list links and the
 * usable count, so a transition fault (as_lock shared) can drop a frame
 * while another fault does the same.  It is a leaf lock.  Growth makes the
 * next chunk accessible with the lock released (no one looks past the
 * usable count), then publishes the new count under it.  Record contents
 * other than the links change under as_lock exclusive, or by the one fault
 * that took the frame.
 */
#include "paging/standby.h"
#include "core/mutex.h"
#include "os/uffd.h"
#include "os/vm.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

/* Frames made usable at a time: the first chunk, and at most this many
 * per growth (growth doubles what is usable up to that). */
#define GROW_FIRST 64
#define GROW_MAX   16384

static pthread_mutex_t frame_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *standby_fork_lock(void) { return &frame_lock; }

/* One reservation for `limit` frames' worth, usable up to `usable` bytes. */
struct lazy {
    uintptr_t base;
    size_t reserved, usable;
};
static struct lazy lz_frames, lz_data, lz_busy, lz_filled;

static struct frame *frames;
static uint8_t *data;
static size_t limit;                /* frames the pool may grow to */
static size_t nframes, in_use;      /* usable frames (frame_lock); in use */
static size_t prefetched;           /* atomic: in use, FRAME_PREFETCHED */
static uint64_t *busy;              /* bit f: frame f in use */
static uint64_t *filled;            /* bit f: free frame f still has memory (move mode) */
static uint32_t hint = 1;           /* next-fit start */
static uint32_t head, tail;         /* standby list, oldest at head */
static int move_mode;
static int move_fd = -1;

static int test_bit(const uint64_t *m, uint32_t f) { return (m[f / 64] >> (f % 64)) & 1; }
static void put_bit(uint64_t *m, uint32_t f, int on)
{
    if (on)
        m[f / 64] |= 1ull << (f % 64);
    else
        m[f / 64] &= ~(1ull << (f % 64));
}

static int lazy_reserve(struct lazy *z, size_t bytes)
{
    z->reserved = round_up(bytes, PAGE_SZ);
    z->usable = 0;
    return vm_reserve(0, z->reserved, PAGE_SZ, 0, &z->base);
}

static void lazy_release(struct lazy *z)
{
    if (z->base)
        (void)vm_unmap(z->base, z->reserved);
    *z = (struct lazy){ 0 };
}

/* Makes the first `bytes` of z usable (read-write, zero); 0 or errno. */
static int lazy_grow(struct lazy *z, size_t bytes)
{
    bytes = round_up(bytes, PAGE_SZ);
    if (bytes > z->reserved)
        bytes = z->reserved;
    if (bytes <= z->usable)
        return 0;
    int e = vm_protect(z->base + z->usable, bytes - z->usable, PROT_READ | PROT_WRITE);
    if (e)
        return e;
    z->usable = bytes;
    return 0;
}

int standby_init(size_t n)
{
    if (n == 0)
        return 0;
    if (n > UINT32_MAX - 1)
        n = UINT32_MAX - 1; /* frames are numbered in 32 bits */
    size_t words = (n + 1 + 63) / 64;
    int e;
    if ((e = lazy_reserve(&lz_frames, (n + 1) * sizeof(*frames))) != 0 ||
        (e = lazy_reserve(&lz_data, (n + 1) * PAGE_SZ)) != 0 ||
        (e = lazy_reserve(&lz_busy, words * 8)) != 0 ||
        (e = lazy_reserve(&lz_filled, words * 8)) != 0) {
        standby_fini();
        return e;
    }
    frames = (struct frame *)lz_frames.base;
    data = (uint8_t *)lz_data.base;
    busy = (uint64_t *)lz_busy.base;
    filled = (uint64_t *)lz_filled.base;
    limit = n;
    nframes = 0;
    if ((e = standby_grow(GROW_FIRST)) != 0) {
        standby_fini();
        return e;
    }
    put_bit(busy, 0, 1); /* frame 0 means "none" */
    hint = 1;
    return 0;
}

int standby_grow(size_t free_wanted)
{
    mutex_take("frame_lock", &frame_lock);
    size_t have = nframes, used = in_use;
    mutex_give("frame_lock", &frame_lock);
    if (have >= limit || have - used >= free_wanted)
        return 0;
    size_t step = have < GROW_FIRST ? GROW_FIRST : (have < GROW_MAX ? have : GROW_MAX);
    if (step < free_wanted - (have - used))
        step = free_wanted - (have - used);
    size_t n = have + step > limit ? limit : have + step;
    size_t words = (n + 1 + 63) / 64;
    int e;
    /* Only this call looks past the usable count, and growth has one
     * caller at a time (start, then the working-set manager thread).  The
     * frames' memory last: once the application has mlockall()ed, the
     * kernel populates it as it becomes writable, and standby_fault needs
     * the bitmaps of those frames. */
    if ((e = lazy_grow(&lz_frames, (n + 1) * sizeof(*frames))) != 0 ||
        (e = lazy_grow(&lz_busy, words * 8)) != 0 ||
        (e = lazy_grow(&lz_filled, words * 8)) != 0 ||
        (e = lazy_grow(&lz_data, (n + 1) * PAGE_SZ)) != 0)
        return e;
    mutex_take("frame_lock", &frame_lock);
    nframes = n;
    mutex_give("frame_lock", &frame_lock);
    return 0;
}

int standby_use_move(int uffd)
{
    /* all of the reservation: what is grown later is registered already */
    int e = uffd_register(uffd, lz_data.base, lz_data.reserved, 0);
    if (e)
        return e;
    move_fd = uffd;
    move_mode = 1;
    return 0;
}

int standby_moves(void) { return move_mode; }

int standby_fault(uintptr_t addr)
{
    if (!move_mode || addr < lz_data.base || addr - lz_data.base >= lz_data.reserved)
        return 0;
    uint32_t f = (uint32_t)((addr - lz_data.base) / PAGE_SZ);
    mutex_take("frame_lock", &frame_lock);
    /* frame 0 is never used; a frame past the usable count is being made
     * usable (its bitmaps are already); a free frame is emptied before it
     * is taken.  A frame in use is left alone: its page is there or being
     * put there, and the access is retried. */
    if (f == 0 || f > nframes || !test_bit(busy, f)) {
        size_t done = 0;
        (void)uffd_zeropage(move_fd, round_down(addr, PAGE_SZ), PAGE_SZ, &done);
        if (f)
            put_bit(filled, f, 1); /* a move into it would fail: emptied when taken */
    }
    mutex_give("frame_lock", &frame_lock);
    return 1;
}

uintptr_t standby_addr(uint32_t f) { return (uintptr_t)data + (uintptr_t)f * PAGE_SZ; }

void standby_fini(void)
{
    lazy_release(&lz_frames);
    lazy_release(&lz_data);
    lazy_release(&lz_busy);
    lazy_release(&lz_filled);
    frames = NULL;
    data = NULL;
    busy = filled = NULL;
    limit = nframes = in_use = prefetched = 0;
    hint = 1;
    head = tail = 0;
    move_mode = 0;
    move_fd = -1;
}

size_t standby_usable(void)
{
    mutex_take("frame_lock", &frame_lock);
    size_t n = nframes;
    mutex_give("frame_lock", &frame_lock);
    return n;
}

size_t standby_capacity(void) { return limit; }

size_t standby_count(void)
{
    return __atomic_load_n(&in_use, __ATOMIC_RELAXED);
}

size_t standby_prefetched(void)
{
    return __atomic_load_n(&prefetched, __ATOMIC_RELAXED);
}

void standby_keep_prefetched(uint32_t f, uint32_t flags)
{
    frames[f].flags = FRAME_PREFETCHED | flags;
    __atomic_add_fetch(&prefetched, 1, __ATOMIC_RELAXED);
}

/* Appends frame f, for (r, page), to the standby list (frame_lock held). */
static void link_frame(uint32_t f, struct region *r, size_t page, uint32_t slot, uint32_t flags)
{
    put_bit(busy, f, 1);
    frames[f] = (struct frame){ .region = r, .page = page, .slot = slot, .flags = flags,
                                .prev = tail, .next = 0 };
    if (tail)
        frames[tail].next = f;
    else
        head = f;
    tail = f;
    __atomic_add_fetch(&in_use, 1, __ATOMIC_RELAXED);
}

/* Empties the memory of frames [f, f + n) that still has some (move mode). */
static void empty_frames(uint32_t f, size_t n)
{
    uint32_t run = 0, len = 0;
    for (uint32_t g = f; g < f + n; g++) {
        if (!test_bit(filled, g))
            continue;
        put_bit(filled, g, 0);
        if (len && g == run + len) {
            len++;
            continue;
        }
        if (len)
            vm_discard(standby_addr(run), (size_t)len * PAGE_SZ);
        run = g;
        len = 1;
    }
    if (len)
        vm_discard(standby_addr(run), (size_t)len * PAGE_SZ);
}

void standby_empty_free(void)
{
    if (!move_mode)
        return;
    mutex_take("frame_lock", &frame_lock);
    uint32_t f = 1;
    while (f <= nframes) {
        if (f % 64 == 0 && !filled[f / 64]) {
            f += 64; /* a word with nothing to empty */
            continue;
        }
        if (!test_bit(filled, f)) {
            f++;
            continue;
        }
        uint32_t end = f;
        while (end <= nframes && test_bit(filled, end))
            end++;
        empty_frames(f, end - f);
        f = end;
    }
    mutex_give("frame_lock", &frame_lock);
}

uint32_t standby_take_run(struct region *r, size_t page, size_t want, size_t *got)
{
    *got = 0;
    mutex_take("frame_lock", &frame_lock);
    uint32_t f = 0;
    size_t len = 0;
    if (!nframes) {
        mutex_give("frame_lock", &frame_lock);
        return 0;
    }
    /* next-fit: the first free frame from the hint (wrapping once), and as
     * many free neighbours after it as wanted */
    for (size_t seen = 0; seen <= nframes && !f; seen++) {
        uint32_t g = (uint32_t)((hint - 1 + seen) % nframes + 1);
        if (!test_bit(busy, g))
            f = g;
    }
    if (f) {
        while (len < want && f + len <= nframes && !test_bit(busy, (uint32_t)(f + len)))
            len++;
        for (size_t k = 0; k < len; k++)
            link_frame((uint32_t)(f + k), r, page + k, 0, 0);
        hint = (uint32_t)(f + len > nframes ? 1 : f + len);
        if (move_mode)
            empty_frames(f, len);
    }
    mutex_give("frame_lock", &frame_lock);
    *got = len;
    return f;
}

uint32_t standby_take(struct region *r, size_t page, uint32_t slot, uint32_t flags)
{
    size_t got;
    uint32_t f = standby_take_run(r, page, 1, &got);
    if (f) {
        frames[f].slot = slot;
        frames[f].flags = flags;
    }
    return f;
}

void standby_drop(uint32_t f)
{
    mutex_take("frame_lock", &frame_lock);
    struct frame *fr = &frames[f];
    if (fr->prev)
        frames[fr->prev].next = fr->next;
    else
        head = fr->next;
    if (fr->next)
        frames[fr->next].prev = fr->prev;
    else
        tail = fr->prev;
    fr->region = NULL;
    fr->next = fr->prev = 0;
    if (fr->flags & FRAME_PREFETCHED)
        __atomic_sub_fetch(&prefetched, 1, __ATOMIC_RELAXED);
    put_bit(busy, f, 0);
    if (move_mode)
        put_bit(filled, f, 1); /* emptied when taken again */
    __atomic_sub_fetch(&in_use, 1, __ATOMIC_RELAXED);
    mutex_give("frame_lock", &frame_lock);
}

struct frame *standby_frame(uint32_t f) { return &frames[f]; }
void *standby_data(uint32_t f) { return data + (size_t)f * PAGE_SZ; }

uint32_t standby_oldest(void)
{
    mutex_take("frame_lock", &frame_lock);
    uint32_t f = head;
    mutex_give("frame_lock", &frame_lock);
    return f;
}

uint32_t standby_next(uint32_t f)
{
    mutex_take("frame_lock", &frame_lock);
    uint32_t n = frames[f].next;
    mutex_give("frame_lock", &frame_lock);
    return n;
}
