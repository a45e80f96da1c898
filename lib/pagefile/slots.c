/*
 * pagefile/slots.c -- the slot allocator: a first-fit bitmap over the
 * file's 4 KiB slots, and freeing runs with their blocks punched out.
 *
 * Slots are 4 KiB, numbered from 1 (slot s is at file offset (s-1)*4096).
 * The bitmap is first-fit, so runs allocated together are neighbours on
 * disk; freed runs are punched out of the file.  While the file is held
 * for a forked child, frees are set aside (hold.c); a child that borrowed
 * the file allocates and frees nothing.
 *
 * Lock: slot_lock guards the bitmap, counters and set-aside list; a leaf
 * lock, never held across I/O.
 */
#include "pagefile/pagefile.h"
#include "pagefile/file.h"
#include "pagefile/hold.h"
#include "pagefile/slots.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"
#include "core/vmem_internal.h"
#include "os/fd.h"
#include "os/file.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *pagefile_fork_lock(void) { return &slot_lock; }

static uint64_t *bitmap;            /* bit set = slot in use; bit i = slot i+1 */
static size_t bitmap_bytes;
static uint64_t capacity, used, peak, hint;

void (*pagefile_test_free_hook)(uint32_t first, size_t n);

void pf_slot_lock(void) { mutex_take("slot_lock", &slot_lock); }
void pf_slot_unlock(void) { mutex_give("slot_lock", &slot_lock); }

static size_t bitmap_size(uint64_t cap)
{
    return (size_t)((cap + 63) / 64) * 8;
}

uint64_t *pf_slots_make(uint64_t cap)
{
    return ialloc_pages(bitmap_size(cap));
}

void pf_slots_unmake(uint64_t *bm, uint64_t cap)
{
    ifree_pages(bm, bitmap_size(cap));
}

void pf_slots_install_locked(uint64_t *bm, uint64_t cap)
{
    bitmap = bm;
    bitmap_bytes = bitmap_size(cap);
    capacity = cap;
    used = peak = hint = 0;
}

void pf_slots_reset_locked(void)
{
    ifree_pages(bitmap, bitmap_bytes);
    bitmap = NULL;
    capacity = used = hint = 0;
}

uint64_t pagefile_capacity(void) { return __atomic_load_n(&capacity, __ATOMIC_RELAXED); }
uint64_t pagefile_used(void) { return __atomic_load_n(&used, __ATOMIC_RELAXED); }
uint64_t pagefile_peak(void) { return __atomic_load_n(&peak, __ATOMIC_RELAXED); }

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
    pf_slot_lock();
    if (pagefile_is_borrowed()) {
        pf_slot_unlock();
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
        pf_slot_unlock();
        return ENOSPC;
    }
    set_bits(start, n, 1);
    if (n == 1 || start == hint)
        hint = start + n; /* everything below stays full until a free */
    __atomic_store_n(&used, used + n, __ATOMIC_RELAXED);
    if (used > peak)
        __atomic_store_n(&peak, used, __ATOMIC_RELAXED);
    pf_slot_unlock();
    *first = (uint32_t)(start + 1);
    return 0;
}

void pagefile_free(uint32_t first, size_t n)
{
    if (!first || !n)
        return;
    pf_slot_lock();
    if (pagefile_is_borrowed()) {
        pf_slot_unlock();
        return; /* the parent's slots */
    }
    if (pagefile_held()) {
        /* a child may still read it: keep it allocated until the hold ends */
        pf_hold_set_aside_locked(first, n);
        pf_slot_unlock();
        return;
    }
    /* Punch while the slots are still allocated, then free them: a slot
     * freed first could be taken and written by the page writer before the
     * punch, which would erase the new data. */
    unsigned gen = pf_file_generation();
    pf_slot_unlock();
    if (pagefile_test_free_hook)
        pagefile_test_free_hook(first, n);
    uint64_t i = first - 1;
    /* give the blocks back to the file system (a failure only keeps them),
     * through a checked duplicate: never a hole in a file the application
     * put on the number */
    int fd;
    if (pf_file_dup(&fd) == 0) { /* else (no descriptor left) the blocks stay */
        (void)os_file_punch(fd, (off_t)i * PAGE_SZ, (off_t)n * PAGE_SZ);
        os_fd_close(fd);
    }
    pf_slot_lock();
    if (pf_file_generation() == gen) { /* else the file was closed meanwhile */
        set_bits(i, n, 0);
        __atomic_store_n(&used, used - n, __ATOMIC_RELAXED);
        if (i < hint)
            hint = i;
    }
    pf_slot_unlock();
}
