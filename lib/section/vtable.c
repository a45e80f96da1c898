/*
 * section/vtable.c -- the page-state table shared by the processes of a
 * page-file section (section/vtable.h): its layout, header, mapping, and
 * the entries' lock words and the processes' tokens, and the records of
 * which pages each process counts.
 */
#include "section/vtable.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"
#include "core/vmem_internal.h"
#include "os/file.h"
#include "os/filelock.h"
#include "os/page.h"
#include "os/process.h"
#include "os/vm.h"

#include <errno.h>
#include <string.h>

/* The layout: a header page, the entries, a page of record owners, the
 * records' bitmaps, the data. */
static uint64_t bitmap_words(uint64_t npages) { return (npages + 63) / 64; }

static uint64_t owners_off(uint64_t npages)
{
    return PAGE_SZ + round_up(npages * sizeof(struct vt_entry), PAGE_SZ);
}

uint64_t vt_data_off(uint64_t data_size)
{
    uint64_t npages = (data_size + PAGE_SZ - 1) / PAGE_SZ;
    return owners_off(npages) + PAGE_SZ +
           round_up(VT_RECORDS * bitmap_words(npages) * sizeof(uint64_t), PAGE_SZ);
}

_Static_assert(VT_RECORDS * (sizeof(uint32_t) + sizeof(uint64_t)) <= PAGE_SZ,
               "the owner and last-page words fit a page");

#define VT_VERSION 4

/* t->rec of a forked child that found no free record: it takes one when it
 * first maps a page of the section (vt_count_up), as a child that never
 * touches the views (a fork + exec) needs none. */
#define REC_WANTED (-2)

static pthread_mutex_t vtable_lock = PTHREAD_MUTEX_INITIALIZER;
static int no_record_warned; /* atomic: the warning below, once a process */
static struct vtable *tables; /* vtable_lock */
static int getlk_warned;

int vt_format(int fd, uint64_t data_size, const char *slot_path, uint64_t slot_id)
{
    struct vt_header *h = ialloc_pages(PAGE_SZ);
    if (!h)
        return ENOMEM;
    h->magic = VT_MAGIC;
    h->version = VT_VERSION;
    h->slot_id = slot_id;
    h->data_off = vt_data_off(data_size);
    h->data_size = data_size;
    if (slot_path)
        strncpy(h->slot_path, slot_path, VT_PATH_MAX - 1);
    int err = os_file_write_full(fd, h, PAGE_SZ, 0);
    ifree_pages(h, PAGE_SZ);
    return err;
}

int vt_probe(int fd, uint64_t *data_off, uint64_t *data_size, char *path, size_t path_cap,
             uint64_t *slot_id)
{
    struct vt_header *h = ialloc_pages(PAGE_SZ);
    if (!h)
        return ENOMEM;
    int err = os_file_read_full(fd, h, PAGE_SZ, 0);
    if (!err && (h->magic != VT_MAGIC || h->version != VT_VERSION ||
                 h->data_off != vt_data_off(h->data_size)))
        err = EINVAL;
    if (!err) {
        *data_off = h->data_off;
        *data_size = h->data_size;
        if (slot_id)
            *slot_id = h->slot_id;
        if (path && path_cap) {
            h->slot_path[VT_PATH_MAX - 1] = 0;
            strncpy(path, h->slot_path, path_cap - 1);
            path[path_cap - 1] = 0;
        }
    }
    ifree_pages(h, PAGE_SZ);
    return err == EIO ? EINVAL : err; /* shorter than a header: not ours */
}

/* A token for this process: a description of its own of the memory at
 * t->fd, with a byte locked on it, tried from the header's ring counter. */
static int take_token(struct vtable *t)
{
    int fd, err = os_filelock_reopen(t->fd, &fd);
    if (err)
        return err;
    uint32_t at = __atomic_fetch_add(&t->hdr->next_token, 1, __ATOMIC_RELAXED) % VT_TOKENS;
    for (unsigned tries = 0; tries < 4096; tries++, at = (at + 1) % VT_TOKENS) {
        err = os_filelock_take(fd, VT_TOKEN_BASE + at);
        if (err != EAGAIN)
            break;
    }
    if (err) {
        os_file_close(fd);
        return err == EAGAIN ? EMFILE : err;
    }
    t->tok_fd = fd;
    t->token = at + 1;
    return 0;
}

int vt_map(int fd, uint64_t data_off, uint64_t data_size, struct vtable *t)
{
    void *p;
    int err = vm_map_file(fd, (size_t)data_off, 1, &p);
    if (err)
        return err;
    t->hdr = p;
    t->ent = (struct vt_entry *)((char *)p + PAGE_SZ);
    t->npages = (data_size + PAGE_SZ - 1) / PAGE_SZ;
    t->map_len = (size_t)data_off;
    t->fd = fd;
    t->data_off = data_off;
    t->tok_fd = -1;
    t->owners = (uint32_t *)((char *)p + owners_off(t->npages));
    t->bits = (uint64_t *)((char *)t->owners + PAGE_SZ);
    t->last = (uint64_t *)(t->owners + VT_RECORDS);
    t->words = bitmap_words(t->npages);
    t->rec = -1;
    t->held = NULL;
    t->counted = 0;
    t->out_held = 0;
    if ((err = take_token(t)) != 0) {
        vm_unmap((uintptr_t)p, t->map_len);
        t->hdr = NULL;
        t->ent = NULL;
        return err;
    }
    mutex_take("vtable_lock", &vtable_lock);
    t->next = tables;
    tables = t;
    mutex_give("vtable_lock", &vtable_lock);
    return 0;
}

void vt_unmap(struct vtable *t)
{
    if (!t->hdr)
        return;
    mutex_take("vtable_lock", &vtable_lock);
    for (struct vtable **pp = &tables; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    mutex_give("vtable_lock", &vtable_lock);
    /* a record still counting pages stays: it is taken back once the
     * token below is let go */
    vt_record_put(t);
    if (t->held)
        ifree_pages(t->held, t->npages * sizeof(uint32_t));
    t->held = NULL;
    vm_unmap((uintptr_t)t->hdr, t->map_len);
    t->hdr = NULL;
    t->ent = NULL;
    /* the token goes last: no lock word of ours is left in the table */
    if (t->tok_fd >= 0)
        os_file_close(t->tok_fd);
    t->tok_fd = -1;
}

/* 1 if the process whose token is tok (a lock word) is alive. */
static int token_alive(const struct vtable *t, uint32_t tok)
{
    int held = os_filelock_held(t->tok_fd, VT_TOKEN_BASE + tok - 1);
    if (held < 0) {
        /* cannot tell: wait on it as if alive, rather than take a lock
         * a live process may hold */
        if (!__atomic_exchange_n(&getlk_warned, 1, __ATOMIC_RELAXED))
            vmem_log("section: cannot test a page lock holder's token: %s", strerror(-held));
        return 1;
    }
    return held;
}

/* e's lock, taken over from a dead holder: what it may have left half done
 * put in order.  Its steps (vpage.c) store a page's state only once the
 * data is where the state says, except a page coming in from its slot
 * (state OUT until the memory has the whole page): its memory copy goes,
 * and the slot, checked by its crc at the next fault, is the page. */
static void repair(struct vtable *t, struct vt_entry *e)
{
    if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != VT_OUT)
        return;
    uint64_t pg = (uint64_t)(e - t->ent);
    os_file_punch(t->fd, (off_t)(t->data_off + pg * PAGE_SZ), PAGE_SZ);
}

int vt_trylock(struct vtable *t, struct vt_entry *e)
{
    /* named before it is taken: a reaper of this process's record finds
     * the page it may have died holding */
    if (t->rec >= 0)
        __atomic_store_n(&t->last[t->rec], (uint64_t)(e - t->ent) + 1, __ATOMIC_RELAXED);
    for (unsigned spins = 0; spins < 4096; spins++) {
        uint32_t cur = 0;
        if (__atomic_compare_exchange_n(&e->lock, &cur, t->token, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return 0;
        /* this process's own trim writing the page out (vpage.c), off
         * vpage_lock: ask again later, never taken over */
        if (cur == t->token && __atomic_load_n(&t->out_held, __ATOMIC_ACQUIRE))
            return EBUSY;
        if (spins < 64) {
            __builtin_ia32_pause();
            continue;
        }
        /* held long: by a process that died holding it?  (cur == our own
         * token: a dead process's before the ring came round, since this
         * process takes entry locks under vpage_lock but for a trim's
         * write-out, counted in out_held) */
        if ((spins & 63) == 0 && (cur == t->token || !token_alive(t, cur)) &&
            __atomic_compare_exchange_n(&e->lock, &cur, t->token, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            repair(t, e);
            return 0;
        }
        os_yield();
    }
    return EBUSY;
}

int vt_trylock_now(struct vtable *t, struct vt_entry *e)
{
    uint32_t cur = 0;
    return __atomic_compare_exchange_n(&e->lock, &cur, t->token, 0, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED) ? 0 : EBUSY;
}

void vt_lock(struct vtable *t, struct vt_entry *e)
{
    while (vt_trylock(t, e) != 0)
        os_yield();
}

void vt_unlock(struct vt_entry *e)
{
    __atomic_store_n(&e->lock, 0, __ATOMIC_RELEASE);
}

/* ---- records ---------------------------------------------------------------- */

static uint64_t *record_bits(const struct vtable *t, int r) { return t->bits + (uint64_t)r * t->words; }

static int take_record(struct vtable *t)
{
    for (int r = 0; r < VT_RECORDS; r++) {
        uint32_t free_word = 0;
        /* a free record's bits are all clear: its owner or its reaper
         * cleared each before letting it go */
        if (__atomic_compare_exchange_n(&t->owners[r], &free_word, t->token, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            t->rec = r;
            __atomic_store_n(&t->last[r], 0, __ATOMIC_RELAXED);
            return 0;
        }
    }
    return EUSERS;
}

int vt_record_take(struct vtable *t)
{
    if (t->rec >= 0)
        return 0;
    if (!t->held && !(t->held = ialloc_pages(t->npages * sizeof(uint32_t))))
        return ENOMEM;
    return take_record(t);
}

void vt_record_put(struct vtable *t)
{
    if (t->rec < 0 || t->counted)
        return;
    __atomic_store_n(&t->owners[t->rec], 0, __ATOMIC_RELEASE);
    t->rec = -1;
}

void vt_count_up(struct vtable *t, struct vt_entry *e)
{
    uint64_t pg = (uint64_t)(e - t->ent);
    if (t->held[pg]++)
        return;
    /* a record is taken only while nothing is counted: it then holds
     * every page this process counts (a trim's write-out only counts
     * down, off vpage_lock: a count seen above 0 here is taken at a later
     * page) */
    if (t->rec == REC_WANTED && !__atomic_load_n(&t->counted, __ATOMIC_RELAXED) &&
        take_record(t) != 0 &&
        !__atomic_exchange_n(&no_record_warned, 1, __ATOMIC_RELAXED))
        vmem_log("section: a forked child found no free record of a section's views (%d "
                 "processes map it): if it dies without unmapping them, the pages it maps "
                 "stay counted, kept in memory until the section goes; their data is not "
                 "affected (said once per process)", VT_RECORDS);
    __atomic_add_fetch(&t->counted, 1, __ATOMIC_RELAXED);
    if (t->rec >= 0)
        __atomic_fetch_or(&record_bits(t, t->rec)[pg / 64], 1ull << (pg % 64), __ATOMIC_RELAXED);
    e->maps++;
}

int vt_last_count(const struct vtable *t, const struct vt_entry *e)
{
    uint64_t pg = (uint64_t)(e - t->ent);
    return t->held && t->held[pg] == 1 && e->maps == 1 &&
           (t->rec < 0 || (record_bits(t, t->rec)[pg / 64] >> (pg % 64) & 1));
}

int vt_count_down(struct vtable *t, struct vt_entry *e)
{
    uint64_t pg = (uint64_t)(e - t->ent);
    if (!t->held || !t->held[pg] || --t->held[pg])
        return 0;
    __atomic_sub_fetch(&t->counted, 1, __ATOMIC_RELAXED);
    if (t->rec >= 0) {
        uint64_t bit = 1ull << (pg % 64);
        uint64_t had = __atomic_fetch_and(&record_bits(t, t->rec)[pg / 64], ~bit, __ATOMIC_RELAXED);
        if (!(had & bit))
            return 0; /* subtracted already (never while this process lives) */
    }
    return e->maps && --e->maps == 0;
}

/* Record r, claimed from a dead owner: every page it counts subtracted,
 * each under its entry lock, where the bit is cleared -- a page whose bit
 * is clear was subtracted already (by a reaper that died after it) --,
 * then the page it locked last looked at.  EBUSY: a live process holds
 * one of those pages long (stopped?): the rest waits for another look,
 * so the caller's other faults and trims go on. */
static int reap_record(struct vtable *t, int r,
                       void (*unmapped)(void *arg, struct vt_entry *e, uint64_t pg), void *arg)
{
    uint64_t *bits = record_bits(t, r);
    for (uint64_t w = 0; w < t->words; w++) {
        uint64_t word = __atomic_load_n(&bits[w], __ATOMIC_RELAXED);
        while (word) {
            unsigned b = (unsigned)__builtin_ctzll(word);
            word &= word - 1;
            uint64_t pg = w * 64 + b;
            struct vt_entry *e = &t->ent[pg];
            if (vt_trylock(t, e) != 0)
                return EBUSY;
            uint64_t had = __atomic_fetch_and(&bits[w], ~(1ull << b), __ATOMIC_RELAXED);
            if ((had >> b & 1) && e->maps && --e->maps == 0 && unmapped)
                unmapped(arg, e, pg);
            vt_unlock(e);
        }
    }
    /* the page the owner locked last: maybe held still, a step half done
     * (vt_trylock puts it in order), maybe left in the memory unmapped */
    uint64_t last = __atomic_load_n(&t->last[r], __ATOMIC_RELAXED);
    if (last && last <= t->npages) {
        struct vt_entry *e = &t->ent[last - 1];
        if (vt_trylock(t, e) != 0)
            return EBUSY;
        if (!e->maps && unmapped)
            unmapped(arg, e, last - 1);
        vt_unlock(e);
    }
    return 0;
}

unsigned vt_reap(struct vtable *t, void (*unmapped)(void *arg, struct vt_entry *e, uint64_t pg),
                 void *arg)
{
    unsigned n = 0;
    for (int r = 0; r < VT_RECORDS; r++) {
        uint32_t own = __atomic_load_n(&t->owners[r], __ATOMIC_ACQUIRE);
        uint32_t tok = own & ~VT_REAPING;
        /* ours, or our token's (a dead process's before the ring came
         * round, or a forked child that could not take a token of its own):
         * left alone */
        if (!own || r == t->rec || tok == t->token || token_alive(t, tok))
            continue;
        /* one survivor at a time; one that dies reaping is succeeded */
        if (!__atomic_compare_exchange_n(&t->owners[r], &own, VT_REAPING | t->token, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            continue;
        if (reap_record(t, r, unmapped, arg) != 0) {
            /* back to its dead owner: the next look goes on from here */
            __atomic_store_n(&t->owners[r], own, __ATOMIC_RELEASE);
            continue;
        }
        __atomic_store_n(&t->owners[r], 0, __ATOMIC_RELEASE);
        n++;
    }
    return n;
}

int vt_shared(const struct vtable *t)
{
    int held = os_filelock_held_range(t->tok_fd, VT_TOKEN_BASE, VT_TOKENS);
    return held != 0; /* cannot tell (< 0): as if shared */
}

void vt_fork_prepare(void) { mutex_take("vtable_lock", &vtable_lock); }
void vt_fork_parent(void) { mutex_give("vtable_lock", &vtable_lock); }

void vt_fork_child(void)
{
    for (struct vtable *t = tables; t; t = t->next) {
        int inherited = t->tok_fd;
        if (take_token(t) != 0) {
            /* the parent's token then: this child's locks look alive
             * while either lives (never taken from a live holder) */
            vmem_log("section: a forked child could not take a token of its own; a page lock "
                     "it holds when it dies waits for its parent's end");
            continue;
        }
        os_file_close(inherited); /* the parent's description: its token */
    }
    for (struct vtable *t = tables; t; t = t->next) {
        /* the parent's counts are the parent's: the child counts afresh,
         * in a record of its own */
        if (t->held)
            vm_discard((uintptr_t)t->held, round_up(t->npages * sizeof(uint32_t), PAGE_SZ));
        t->counted = 0;
        t->out_held = 0; /* the parent's write-outs are the parent's */
        if (t->rec >= 0 && take_record(t) != 0)
            t->rec = REC_WANTED; /* taken, or warned of, at its first page */
    }
    mutex_give("vtable_lock", &vtable_lock);
}
