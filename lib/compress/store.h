/*
 * store.h -- the compressed store: pages that left the working set kept
 * compressed in RAM (Windows' compression store, Linux's zswap), between
 * the standby list and the page file.
 *
 * An entry holds one page: its compressed bytes in the store's arena, or
 * for a page of one repeated 8-byte word only that word.  An entry names
 * its page (region, index) so the page writer can move the oldest out to
 * the page file, and the page-file slot that still holds the same content,
 * if any (then leaving the store costs no write).  Entries are kept in age
 * order, oldest first.
 *
 * Who calls what: the page writer compresses and puts (store_compress,
 * store_put) with no lock held; the fault that claimed a COMPRESSED page
 * (as_lock shared) reads it back (store_get) and frees it; code holding
 * as_lock exclusive frees and evicts.  store_lock (a leaf lock) guards the
 * arena, the entry table and the age list; an entry's bytes do not move
 * while it lives, so a reader needs no lock, only a page claim that keeps
 * the entry from being freed.
 */
#ifndef VMEM_STORE_H
#define VMEM_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct region;

/* Up to what share of a page the compressed bytes may take (VMEM_COMPRESS_
 * THRESHOLD's default, percent): more is a reject, left to the page file. */
#define STORE_DEFAULT_THRESHOLD 73

/* A page compressed by store_compress, not yet in the store. */
struct store_blob {
    uint8_t same;             /* one repeated word: no payload */
    uint64_t word;
    size_t len;               /* payload length */
    uint8_t data[4096];
};

struct store_entry {
    struct region *region;    /* the page it holds */
    size_t page;
    uint32_t pf_slot;         /* page-file slot with the same content, 0 = none */
    uint32_t gen;             /* changes each time the entry is reused */
    uint32_t off;             /* payload: byte offset in the arena */
    uint16_t len;             /* payload length, 0 for a same-filled page */
    uint8_t live;
    uint8_t stale;            /* pf_slot is the page's slot but holds older
                                 content: leaving the store rewrites it */
    uint8_t busy;             /* STORE_WRITING, STORE_ORPHAN */
    uint32_t seq;             /* puts before this one: its age (share.c) */
    uint64_t word;            /* same-filled page: its word */
    uint32_t older, newer;    /* age list */
};

/* Sets the store up: codec (codec.h's CODEC_*), at most max_bytes of RAM
 * for payload and metadata together, payloads over threshold percent of a
 * page rejected.  Paging start only.  0, or ENOMEM. */
int store_init(int codec, uint64_t max_bytes, unsigned threshold);
/* Frees it all (paging stop; every entry is gone by then). */
void store_fini(void);

/* Whether the store is on. */
int store_on(void);

/* RAM the store takes now (payload pages and metadata), in pages: what
 * counts against the working-set cap. */
uint64_t store_charged_pages(void);
/* 1 when the store is above the mark where its oldest entries should go
 * to the page file to make room: 90 % of its share now (share.h). */
int store_wants_eviction(void);

enum { STORE_OK = 0, STORE_REJECT, STORE_FULL, STORE_NOMEM };

/* Compresses a page (library memory) into *b.  STORE_OK or STORE_REJECT.
 * The page writer thread only. */
int store_compress(const void *page, struct store_blob *b);

/* Puts *b in the store for (r, page), pf_slot its page-file slot (0: none;
 * stale: the slot is the page's but holds older content).
 * Returns the entry (> 0) or 0 with *why STORE_FULL or STORE_NOMEM.  Takes
 * store_lock. */
uint32_t store_put(const struct store_blob *b, struct region *r, size_t page, uint32_t pf_slot,
                   int stale, int *why);

/* The pages store_put(b) would add to the store's charge now: a new chunk
 * for its size class if none has room, and its entry's metadata.  The
 * page writer makes that room under the cap before the put (only it puts,
 * and frees only shrink the store, so the figure is an upper bound).
 * Takes store_lock. */
uint64_t store_put_growth(const struct store_blob *b);
/* The most it can be: a chunk of 4 pages and their metadata, with an
 * entry's, rounded up. */
#define STORE_PUT_GROWTH_MAX 5

/* Decompresses entry e into one page at dst (library memory).  The caller
 * keeps e alive (a claimed page, or as_lock exclusive).  0 or EIO. */
int store_get(uint32_t e, void *dst);

/* Frees entry e.  Takes store_lock. */
void store_free(uint32_t e);

/* The page writer is writing the entry's page out with as_lock released:
 * a fault or decommit that takes the page meanwhile marks it orphan and
 * leaves the entry and its slot to the writer, which frees both. */
#define STORE_WRITING 0x1
#define STORE_ORPHAN  0x2

/* The entry record (read it under a claim or as_lock exclusive; `busy`
 * changes under as_lock exclusive, or by the fault that claimed the page). */
struct store_entry *store_entry(uint32_t e);

/* A page leaving the store (fault, decommit): frees entry e and returns
 * the page-file slot the page keeps, or, while the writer has the entry
 * (STORE_WRITING), marks it orphan and returns 0. */
uint32_t store_release(uint32_t e);

/* store_release for a fault served from entry e (a hit): the entry's age
 * goes to the adaptive share first (share.c). */
uint32_t store_release_hit(uint32_t e);

/* Faults served from entries es[0, n) that keep them (the pages go back
 * clean, write-protected, and their copies stay here until written; a
 * fault and the neighbours it brought in): each hit's age goes to the
 * adaptive share, and each entry becomes the oldest, the first to go when
 * the store makes room (its page is resident: letting it go writes
 * nothing, where an older entry's would go to the page file).  The caller
 * keeps them alive (claimed pages).  Takes store_lock once. */
void store_hit(const uint32_t *es, size_t n);
/* Entry e's page, which kept it, left the working set again (the
 * trimmer, as_lock exclusive): the entry becomes the newest, as if just
 * put.  Takes store_lock. */
void store_requeue(uint32_t e);

/* Up to n of the oldest entries, oldest first, into out; returns how many.
 * Takes store_lock.  They stay alive while the caller holds as_lock
 * exclusive (no fault can claim and free them then). */
size_t store_oldest(uint32_t *out, size_t n);

/* Tests: the next n puts fail as if the store's memory ran out. */
void store_test_fail_puts(unsigned n);

/* Its lock, for the fork handlers only (fork_paging.c: the order). */
pthread_mutex_t *store_fork_lock(void);

#endif
