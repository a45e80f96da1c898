/*
 * store.c -- the compressed store's memory: an arena of size classes, the
 * entry table and the age list.
 *
 * Packing: payloads are rounded up to 32 bytes; each of the 128 size
 * classes fills "chunks" of 1 to 4 contiguous arena pages, the count chosen
 * per class to leave the least tail unused (as zsmalloc's zspages), so a
 * 2112-byte object wastes 2 % of its chunk instead of half a page.  Each
 * chunk keeps a bitmap of its free objects; a class keeps a list of its
 * chunks with room.  A chunk whose last object goes is emptied
 * (MADV_DONTNEED) and its pages return to the arena.  Fragmentation:
 * rounding costs 16 bytes an object on average; chunks partly used stay
 * (no compaction), which the charged size counts: the store is charged for
 * its chunks' whole pages, not for the bytes in them.
 *
 * Accounting: the store's charge is its chunks' pages plus the metadata
 * of its live entries and chunks, so VMEM_COMPRESS_MAX and the working-set
 * cap bound what it really holds.
 *
 * Lock: store_lock (a leaf) guards the arena maps, the class lists, the
 * entry table's free list and the age list.  The payload of a live entry
 * never moves, so it is read without the lock.
 */
#include "compress/store.h"
#include "compress/codec.h"
#include "compress/share.h"
#include "core/mutex.h"
#include "core/stats.h"
#include "os/page.h"
#include "os/time.h"
#include "os/vm.h"

#include <errno.h>
#include <string.h>

#define GRAIN      32u
#define NCLASS     (PAGE_SZ / GRAIN)        /* classes of 32 .. 4096 bytes */
#define MAX_CHUNK  4u                       /* pages of a chunk at most */
#define MAX_OBJS   (MAX_CHUNK * PAGE_SZ / GRAIN)

/* One per arena page; only a chunk's first page's is used. */
struct chunk {
    uint16_t cls;                 /* class + 1; 0 = free page */
    uint16_t used;                /* objects in use */
    uint32_t head;                /* the chunk's first page */
    uint32_t prev, next;          /* class list of chunks with room: page + 1 */
    uint64_t freemap[MAX_OBJS / 64]; /* bit set = object free */
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *store_fork_lock(void) { return &store_lock; }

static int on;
static unsigned threshold_bytes;
static uint8_t *arena;
static size_t arena_pages, arena_used, arena_hint;
static struct chunk *chunks;
static uint32_t partial[NCLASS];   /* first chunk with room, page + 1 */
static uint8_t class_pages[NCLASS];
static uint16_t class_objs[NCLASS];

static struct store_entry *ents;
static size_t nents, ents_hw, ents_live; /* capacity, high water, live */
static uint32_t free_ent;                /* free list through `newer` */
static uint32_t oldest_ent, newest_ent;
static uint64_t charged;                 /* atomic: bytes charged */
static uint32_t put_seq;                 /* atomic: puts so far (wraps) */
static unsigned fail_puts;               /* atomic: test hook */

static void lock(void) { mutex_take("store_lock", &store_lock); }
static void unlock(void) { mutex_give("store_lock", &store_lock); }

/* What the store is charged for: its chunks' pages with their metadata,
 * and its live entries. */
static uint64_t charge_of(size_t pages, size_t entries)
{
    return (uint64_t)pages * (PAGE_SZ + sizeof(struct chunk)) +
           (uint64_t)entries * sizeof(struct store_entry);
}

static void charge(void)
{
    uint64_t b = charge_of(arena_used, ents_live);
    __atomic_store_n(&charged, b, __ATOMIC_RELEASE);
    __atomic_store_n(&vmem_ctr.compress_charged, b, __ATOMIC_RELAXED); /* published */
}

int store_on(void) { return __atomic_load_n(&on, __ATOMIC_ACQUIRE); }

uint64_t store_charged_pages(void)
{
    return (__atomic_load_n(&charged, __ATOMIC_ACQUIRE) + PAGE_SZ - 1) / PAGE_SZ;
}

int store_wants_eviction(void)
{
    /* the mark follows the adaptive share (share.c): a share that shrank
     * sends the oldest pages out, giving their frames back */
    return store_on() && __atomic_load_n(&charged, __ATOMIC_ACQUIRE) > share_limit() / 10 * 9;
}

void store_test_fail_puts(unsigned n)
{
    __atomic_store_n(&fail_puts, n, __ATOMIC_RELEASE);
}

static void *mem(size_t len)
{
    void *p = NULL;
    return vm_alloc(len, &p) ? NULL : p;
}

int store_init(int codec, uint64_t max, unsigned threshold)
{
    if (codec_init(codec))
        return ENOMEM;
    share_init(max);
    threshold_bytes = (unsigned)(PAGE_SZ * threshold / 100);
    arena_pages = (size_t)(max / PAGE_SZ);
    if (arena_pages < MAX_CHUNK)
        arena_pages = MAX_CHUNK;
    /* at most one entry per 32 bytes of the cap on the store */
    nents = (size_t)(max / sizeof(struct store_entry)) + 2;
    if (nents > UINT32_MAX / 2)
        nents = UINT32_MAX / 2;
    /* address space only: pages are touched as they are used */
    arena = mem(arena_pages * PAGE_SZ);
    chunks = mem(arena_pages * sizeof(*chunks));
    ents = mem(nents * sizeof(*ents));
    if (!arena || !chunks || !ents) {
        store_fini();
        return ENOMEM;
    }
    for (unsigned c = 0; c < NCLASS; c++) {
        size_t size = (c + 1) * GRAIN, best = 1, waste = PAGE_SZ;
        for (size_t k = 1; k <= MAX_CHUNK; k++) {
            size_t w = (k * PAGE_SZ) % size;
            if (w * best < waste * k) { /* w / k < waste / best */
                best = k;
                waste = w;
            }
        }
        class_pages[c] = (uint8_t)best;
        class_objs[c] = (uint16_t)(best * PAGE_SZ / size);
        partial[c] = 0;
    }
    arena_used = arena_hint = 0;
    ents_hw = 1; /* entry 0 means none */
    ents_live = 0;
    free_ent = oldest_ent = newest_ent = 0;
    charge();
    __atomic_store_n(&on, 1, __ATOMIC_RELEASE);
    return 0;
}

void store_fini(void)
{
    __atomic_store_n(&on, 0, __ATOMIC_RELEASE);
    if (arena)
        vm_unmap((uintptr_t)arena, arena_pages * PAGE_SZ);
    if (chunks)
        vm_unmap((uintptr_t)chunks, round_up(arena_pages * sizeof(*chunks), PAGE_SZ));
    if (ents)
        vm_unmap((uintptr_t)ents, round_up(nents * sizeof(*ents), PAGE_SZ));
    arena = NULL;
    chunks = NULL;
    ents = NULL;
    __atomic_store_n(&charged, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&vmem_ctr.compress_charged, 0, __ATOMIC_RELAXED);
    share_stop();
    codec_fini();
}

int store_compress(const void *page, struct store_blob *b)
{
    uint64_t t0 = os_now_ns();
    int rc = STORE_OK;
    b->len = 0;
    b->same = (uint8_t)codec_same_filled(page, &b->word);
    if (!b->same) {
        b->len = codec_compress(page, b->data, threshold_bytes);
        if (!b->len)
            rc = STORE_REJECT;
    }
    ctr_add(&vmem_ctr.compress_ns, os_now_ns() - t0);
    return rc;
}

/* Class list links: chunk numbers + 1.  store_lock held. */
static void list_add(unsigned c, size_t ch)
{
    struct chunk *k = &chunks[ch];
    k->prev = 0;
    k->next = partial[c];
    if (partial[c])
        chunks[partial[c] - 1].prev = (uint32_t)ch + 1;
    partial[c] = (uint32_t)ch + 1;
}

static void list_del(unsigned c, size_t ch)
{
    struct chunk *k = &chunks[ch];
    if (k->prev)
        chunks[k->prev - 1].next = k->next;
    else
        partial[c] = k->next;
    if (k->next)
        chunks[k->next - 1].prev = k->prev;
    k->prev = k->next = 0;
}

/* A new chunk of class c: n free contiguous arena pages, next fit.
 * Returns its first page, or SIZE_MAX.  store_lock held. */
static size_t chunk_new(unsigned c)
{
    size_t n = class_pages[c];
    if ((uint64_t)(arena_used + n) * PAGE_SZ > share_limit())
        return SIZE_MAX;
    for (size_t tries = 0, at = arena_hint; tries < arena_pages; tries++, at++) {
        if (at + n > arena_pages)
            at = 0;
        size_t k = 0;
        while (k < n && !chunks[at + k].cls)
            k++;
        if (k < n) {
            at += k;
            continue;
        }
        for (k = 0; k < n; k++) {
            chunks[at + k].cls = (uint16_t)(c + 1);
            chunks[at + k].head = (uint32_t)at;
        }
        struct chunk *h = &chunks[at];
        h->used = 0;
        memset(h->freemap, 0, sizeof(h->freemap));
        for (unsigned o = 0; o < class_objs[c]; o++)
            h->freemap[o / 64] |= 1ull << (o % 64);
        arena_used += n;
        arena_hint = at + n;
        list_add(c, at);
        return at;
    }
    return SIZE_MAX;
}

/* An object of class c: its byte offset in the arena, or UINT32_MAX. */
static uint32_t obj_alloc(unsigned c)
{
    size_t ch = partial[c] ? partial[c] - 1 : chunk_new(c);
    if (ch == SIZE_MAX)
        return UINT32_MAX;
    struct chunk *h = &chunks[ch];
    unsigned o = 0;
    for (unsigned w = 0; w < MAX_OBJS / 64; w++) {
        if (h->freemap[w]) {
            o = w * 64 + (unsigned)__builtin_ctzll(h->freemap[w]);
            break;
        }
    }
    h->freemap[o / 64] &= ~(1ull << (o % 64));
    if (++h->used == class_objs[c])
        list_del(c, ch);
    return (uint32_t)(ch * PAGE_SZ + o * (c + 1) * GRAIN);
}

static void obj_free(uint32_t off, unsigned len)
{
    unsigned c = (len + GRAIN - 1) / GRAIN - 1;
    size_t size = (size_t)(c + 1) * GRAIN, ch = chunks[off / PAGE_SZ].head;
    struct chunk *h = &chunks[ch];
    unsigned o = (unsigned)((off - ch * PAGE_SZ) / size);
    int was_full = h->used == class_objs[c];
    h->freemap[o / 64] |= 1ull << (o % 64);
    h->used--;
    if (was_full)
        list_add(c, ch);
    if (!h->used) {
        list_del(c, ch);
        for (size_t k = 0; k < class_pages[c]; k++)
            chunks[ch + k].cls = 0;
        arena_used -= class_pages[c];
        vm_discard((uintptr_t)arena + ch * PAGE_SZ, class_pages[c] * PAGE_SZ);
    }
}

uint64_t store_put_growth(const struct store_blob *b)
{
    lock();
    size_t pages = arena_used;
    if (!b->same) {
        unsigned c = (unsigned)((b->len + GRAIN - 1) / GRAIN - 1);
        if (!partial[c])
            pages += class_pages[c]; /* a new chunk for its class */
    }
    uint64_t now = charge_of(arena_used, ents_live), after = charge_of(pages, ents_live + 1);
    unlock();
    return (after + PAGE_SZ - 1) / PAGE_SZ - (now + PAGE_SZ - 1) / PAGE_SZ;
}

/* Puts entry x (number e, in no list) at the newest end of the age list.
 * store_lock held. */
static void link_newest(struct store_entry *x, uint32_t e)
{
    x->older = newest_ent;
    x->newer = 0;
    if (newest_ent)
        ents[newest_ent].newer = e;
    else
        oldest_ent = e;
    newest_ent = e;
}

/* Takes live entry x out of the age list.  store_lock held. */
static void unlink_ent(struct store_entry *x)
{
    if (x->older)
        ents[x->older].newer = x->newer;
    else
        oldest_ent = x->newer;
    if (x->newer)
        ents[x->newer].older = x->older;
    else
        newest_ent = x->older;
}

uint32_t store_put(const struct store_blob *b, struct region *r, size_t page, uint32_t pf_slot,
                   int stale, int *why)
{
    unsigned n = __atomic_load_n(&fail_puts, __ATOMIC_ACQUIRE);
    if (n && __atomic_compare_exchange_n(&fail_puts, &n, n - 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
        *why = STORE_NOMEM;
        return 0;
    }
    lock();
    uint32_t e = free_ent;
    if (!e && ents_hw < nents)
        e = (uint32_t)ents_hw;
    uint32_t off = 0;
    *why = STORE_FULL;
    if (!e || charge_of(arena_used, ents_live + 1) > share_limit() ||
        (!b->same && (off = obj_alloc((unsigned)((b->len + GRAIN - 1) / GRAIN - 1))) ==
                         UINT32_MAX)) {
        unlock();
        return 0;
    }
    if (e == free_ent)
        free_ent = ents[e].newer;
    else
        ents_hw++;
    struct store_entry *x = &ents[e];
    uint32_t gen = x->gen + 1;
    *x = (struct store_entry){ .region = r, .page = page, .pf_slot = pf_slot, .gen = gen,
                               .off = off, .len = (uint16_t)(b->same ? 0 : b->len),
                               .live = 1, .stale = (uint8_t)(stale && pf_slot),
                               .word = b->word,
                               .seq = __atomic_fetch_add(&put_seq, 1, __ATOMIC_RELAXED) };
    link_newest(x, e);
    ents_live++;
    charge();
    unlock();
    if (!b->same)
        memcpy(arena + off, b->data, b->len);
    ctr_add(&vmem_ctr.compress_stored, 1);
    ctr_add(&vmem_ctr.compress_pages, 1);
    ctr_add(&vmem_ctr.compress_bytes, x->len);
    if (b->same)
        ctr_add(&vmem_ctr.compress_same, 1);
    return e;
}

int store_get(uint32_t e, void *dst)
{
    const struct store_entry *x = &ents[e];
    if (!x->len) {
        uint64_t *w = dst;
        for (size_t i = 0; i < PAGE_SZ / 8; i++)
            w[i] = x->word;
        return 0;
    }
    uint64_t t0 = os_now_ns();
    int err = codec_decompress(arena + x->off, x->len, dst);
    ctr_add(&vmem_ctr.decompress_ns, os_now_ns() - t0);
    return err;
}

void store_free(uint32_t e)
{
    lock();
    struct store_entry *x = &ents[e];
    if (!x->live) {
        unlock();
        return;
    }
    ctr_sub(&vmem_ctr.compress_pages, 1);
    ctr_sub(&vmem_ctr.compress_bytes, x->len);
    if (x->len)
        obj_free(x->off, x->len);
    unlink_ent(x);
    x->live = 0;
    x->busy = 0;
    x->region = NULL;
    x->older = 0;
    x->newer = free_ent;
    free_ent = e;
    ents_live--;
    charge();
    unlock();
}

struct store_entry *store_entry(uint32_t e)
{
    return &ents[e];
}

uint32_t store_release(uint32_t e)
{
    struct store_entry *x = &ents[e];
    if (x->busy & STORE_WRITING) {
        x->busy |= STORE_ORPHAN;
        return 0;
    }
    uint32_t slot = x->pf_slot;
    store_free(e);
    return slot;
}

uint32_t store_release_hit(uint32_t e)
{
    share_hit(__atomic_load_n(&put_seq, __ATOMIC_RELAXED) - ents[e].seq,
              store_charged_pages());
    return store_release(e);
}

void store_hit(const uint32_t *es, size_t n)
{
    if (!n)
        return;
    uint32_t seq = __atomic_load_n(&put_seq, __ATOMIC_RELAXED);
    uint64_t charged = store_charged_pages();
    for (size_t k = 0; k < n; k++)
        share_hit(seq - ents[es[k]].seq, charged);
    lock();
    for (size_t k = 0; k < n; k++) {
        uint32_t e = es[k];
        struct store_entry *x = &ents[e];
        if (!x->live || oldest_ent == e)
            continue;
        /* the oldest: the first to go when the store makes room, and the
         * cheapest (its page is resident: nothing is written) */
        unlink_ent(x);
        x->newer = oldest_ent;
        x->older = 0;
        ents[oldest_ent].older = e;
        oldest_ent = e;
    }
    unlock();
}

void store_requeue(uint32_t e)
{
    struct store_entry *x = &ents[e];
    lock();
    if (x->live && newest_ent != e) {
        unlink_ent(x);
        link_newest(x, e);
    }
    x->seq = __atomic_fetch_add(&put_seq, 1, __ATOMIC_RELAXED);
    unlock();
}

size_t store_oldest(uint32_t *out, size_t n)
{
    size_t k = 0;
    lock();
    for (uint32_t e = oldest_ent; e && k < n; e = ents[e].newer)
        out[k++] = e;
    unlock();
    return k;
}
