/*
 * standby.c -- the standby frame pool and list.
 *
 * Frame memory is one mmap of n pages (MAP_NORESERVE: untouched frames cost
 * nothing); records are a parallel array.  Frame 0 is unused so 0 can mean
 * "none".
 *
 * Free frames are found in a bitmap, next-fit, so the trimmer can take a
 * run of neighbouring frames for a run of neighbouring pages (one
 * UFFDIO_MOVE moves them all).  In move mode (standby_use_move) frame memory
 * is registered with userfaultfd, since UFFDIO_MOVE only moves into a
 * registered range, and only into empty pages: a freed frame keeps its
 * memory until a run is taken again or the working-set manager's next
 * round (standby_empty_free), when it is emptied with one MADV_DONTNEED
 * per run.  Nothing may touch an empty frame in move mode (it
 * would wait on userfaultfd forever): frames are filled by UFFDIO_MOVE or
 * UFFDIO_COPY only.
 *
 * Lock: frame_lock guards the free bitmap and the standby list links, so a
 * transition fault (as_lock shared) can drop a frame while another fault
 * does the same.  It is a leaf lock.  Record contents other than the links
 * change under as_lock exclusive, or by the one fault that took the frame.
 */
#include "paging/standby.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"
#include "os/uffd.h"
#include "os/vm.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static pthread_mutex_t frame_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *standby_fork_lock(void) { return &frame_lock; }
static struct frame *frames;
static uint8_t *data;
static size_t nframes, in_use;
static uint64_t *busy;              /* bit f: frame f in use */
static uint64_t *filled;            /* bit f: free frame f still has memory (move mode) */
static size_t map_words;
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

int standby_init(size_t n)
{
    if (n == 0)
        return 0;
    map_words = (n + 1 + 63) / 64;
    frames = ialloc_pages((n + 1) * sizeof(*frames));
    data = ialloc_pages((n + 1) * PAGE_SZ);
    busy = ialloc_pages(map_words * 8);
    filled = ialloc_pages(map_words * 8);
    if (!frames || !data || !busy || !filled) {
        standby_fini();
        return ENOMEM;
    }
    nframes = n;
    put_bit(busy, 0, 1); /* frame 0 means "none" */
    hint = 1;
    return 0;
}

int standby_use_move(int uffd)
{
    int e = uffd_register(uffd, (uintptr_t)data, (nframes + 1) * PAGE_SZ, 0);
    if (e)
        return e;
    move_fd = uffd;
    move_mode = 1;
    return 0;
}

int standby_moves(void) { return move_mode; }
uintptr_t standby_addr(uint32_t f) { return (uintptr_t)data + (uintptr_t)f * PAGE_SZ; }

void standby_fini(void)
{
    ifree_pages(frames, (nframes + 1) * sizeof(*frames));
    ifree_pages(data, (nframes + 1) * PAGE_SZ);
    ifree_pages(busy, map_words * 8);
    ifree_pages(filled, map_words * 8);
    frames = NULL;
    data = NULL;
    busy = filled = NULL;
    nframes = in_use = map_words = 0;
    hint = 1;
    head = tail = 0;
    move_mode = 0;
    move_fd = -1;
}

size_t standby_capacity(void) { return nframes; }

size_t standby_count(void)
{
    return __atomic_load_n(&in_use, __ATOMIC_RELAXED);
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
