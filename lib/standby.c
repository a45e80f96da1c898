/*
 * standby.c -- the standby frame pool and list.
 *
 * Frame memory is one mmap of n pages (MAP_NORESERVE: untouched frames cost
 * nothing); records are a parallel array.  Frame 0 is unused so 0 can mean
 * "none".
 *
 * Lock: frame_lock guards the free list and the standby list links, so a
 * transition fault (as_lock shared) can drop a frame while another fault
 * does the same.  It is a leaf lock.  Record contents other than the links
 * change under as_lock exclusive, or by the one fault that took the frame.
 */
#include "standby.h"
#include "internal_alloc.h"
#include "vmem_internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static pthread_mutex_t frame_lock = PTHREAD_MUTEX_INITIALIZER;
static struct frame *frames;
static uint8_t *data;
static size_t nframes, in_use;
static uint32_t free_head;          /* free frames, linked through .next */
static uint32_t head, tail;         /* standby list, oldest at head */

int standby_init(size_t n)
{
    if (n == 0)
        return 0;
    frames = ialloc_pages((n + 1) * sizeof(*frames));
    data = ialloc_pages((n + 1) * PAGE_SZ);
    if (!frames || !data) {
        standby_fini();
        return ENOMEM;
    }
    nframes = n;
    for (uint32_t f = (uint32_t)n; f >= 1; f--) {
        frames[f].next = free_head;
        free_head = f;
    }
    return 0;
}

void standby_fini(void)
{
    ifree_pages(frames, (nframes + 1) * sizeof(*frames));
    ifree_pages(data, (nframes + 1) * PAGE_SZ);
    frames = NULL;
    data = NULL;
    nframes = in_use = 0;
    free_head = head = tail = 0;
}

size_t standby_capacity(void) { return nframes; }

size_t standby_count(void)
{
    return __atomic_load_n(&in_use, __ATOMIC_RELAXED);
}

uint32_t standby_take(struct region *r, size_t page, uint32_t slot, uint32_t flags)
{
    pthread_mutex_lock(&frame_lock);
    uint32_t f = free_head;
    if (f) {
        free_head = frames[f].next;
        frames[f] = (struct frame){ .region = r, .page = page, .slot = slot, .flags = flags,
                                    .prev = tail, .next = 0 };
        if (tail)
            frames[tail].next = f;
        else
            head = f;
        tail = f;
        __atomic_add_fetch(&in_use, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&frame_lock);
    return f;
}

void standby_drop(uint32_t f)
{
    pthread_mutex_lock(&frame_lock);
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
    fr->next = free_head;
    fr->prev = 0;
    free_head = f;
    __atomic_sub_fetch(&in_use, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&frame_lock);
}

struct frame *standby_frame(uint32_t f) { return &frames[f]; }
void *standby_data(uint32_t f) { return data + (size_t)f * PAGE_SZ; }

uint32_t standby_oldest(void)
{
    pthread_mutex_lock(&frame_lock);
    uint32_t f = head;
    pthread_mutex_unlock(&frame_lock);
    return f;
}

uint32_t standby_next(uint32_t f)
{
    pthread_mutex_lock(&frame_lock);
    uint32_t n = frames[f].next;
    pthread_mutex_unlock(&frame_lock);
    return n;
}
