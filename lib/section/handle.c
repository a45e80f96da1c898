/*
 * section/handle.c -- the handle table (section/handle.h): slots in chunks
 * of the library's own memory, found by index; a free slot keeps its
 * generation, bumped at each close, so a stale handle never names the
 * slot's next object; a slot whose 32-bit generation is used up is never
 * used again, so no value is ever given out twice.
 */
#include "section/handle.h"
#include "section/section.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"

#include <errno.h>

#define SLOT_BITS   16
#define CHUNK_SLOTS 256
#define MAX_CHUNKS  ((1u << SLOT_BITS) / CHUNK_SLOTS)

struct slot {
    struct handle_obj obj;
    uint32_t gen;         /* 1..UINT32_MAX, never 0 once used */
    int retired;          /* every generation used: never reused */
};

static pthread_mutex_t handle_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *chunks[MAX_CHUNKS];
static unsigned nslots;   /* slots made so far */
static unsigned hint;     /* where the search for a free slot starts */

static void lock(void) { mutex_take("handle_lock", &handle_lock); }
static void unlock(void) { mutex_give("handle_lock", &handle_lock); }

static struct slot *slot_at(unsigned i)
{
    return &chunks[i / CHUNK_SLOTS][i % CHUNK_SLOTS];
}

/* A handle's value: never NULL (the generation is at least 1) nor
 * INVALID_HANDLE_VALUE (its low two bits are 0). */
static uintptr_t value_of(unsigned i, uint32_t gen)
{
    return (((uintptr_t)gen << SLOT_BITS) | i) << 2;
}

int handle_add(const struct handle_obj *obj, uintptr_t *value)
{
    lock();
    unsigned i = 0;
    for (unsigned k = 0; k < nslots; k++) {
        unsigned j = 1 + (hint + k) % nslots;
        if (j < nslots && slot_at(j)->obj.kind == HANDLE_FREE && !slot_at(j)->retired) {
            i = j;
            break;
        }
    }
    if (!i) {
        if (nslots == 0)
            nslots = 1; /* slot 0 stays unused */
        if (nslots >= MAX_CHUNKS * CHUNK_SLOTS) {
            unlock();
            return EMFILE;
        }
        if (!chunks[nslots / CHUNK_SLOTS]) {
            struct slot *c = ialloc_pages(CHUNK_SLOTS * sizeof(struct slot));
            if (!c) {
                unlock();
                return ENOMEM;
            }
            chunks[nslots / CHUNK_SLOTS] = c;
        }
        i = nslots++;
    }
    struct slot *s = slot_at(i);
    if (s->gen == 0)
        s->gen = 1;
    s->obj = *obj;
    hint = i;
    *value = value_of(i, s->gen);
    unlock();
    return 0;
}

/* The slot of value, if it is open (handle_lock held). */
static struct slot *lookup(uintptr_t value)
{
    if (value & 3)
        return NULL;
    unsigned i = (unsigned)(value >> 2) & ((1u << SLOT_BITS) - 1);
    uint32_t gen = (uint32_t)(value >> (2 + SLOT_BITS));
    if (i == 0 || i >= nslots || value >> (2 + SLOT_BITS) >> 32)
        return NULL;
    struct slot *s = slot_at(i);
    return s->obj.kind != HANDLE_FREE && s->gen == gen ? s : NULL;
}

int handle_get(uintptr_t value, enum handle_kind kind, struct handle_obj *obj)
{
    lock();
    struct slot *s = lookup(value);
    if (!s || (kind != HANDLE_FREE && s->obj.kind != kind)) {
        unlock();
        return EBADF;
    }
    *obj = s->obj;
    if (s->obj.kind == HANDLE_SECTION)
        section_view_ref(s->obj.sec); /* the section outlives a racing close */
    unlock();
    return 0;
}

int handle_remove(uintptr_t value, struct handle_obj *obj)
{
    lock();
    struct slot *s = lookup(value);
    if (!s) {
        unlock();
        return EBADF;
    }
    *obj = s->obj;
    s->obj.kind = HANDLE_FREE;
    if (s->gen == UINT32_MAX)
        s->retired = 1;
    else
        s->gen++;
    unlock();
    return 0;
}

void handle_fork_prepare(void) { lock(); }
void handle_fork_parent(void) { unlock(); }
void handle_fork_child(void) { unlock(); }
