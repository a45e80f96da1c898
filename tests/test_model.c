/*
 * test_model.c -- randomized model test of VirtualAlloc / VirtualFree /
 * VirtualProtect / VirtualQuery, and of page-file sections and their views
 * (CreateFileMappingA / MapViewOfFile(Ex) / UnmapViewOfFile / CloseHandle).
 *
 * Thousands of random calls, valid and invalid, are made inside a sandbox
 * window of address space (plus wherever NULL-address allocations land).
 * After every call the return value and GetLastError are compared with the
 * prediction of a small model written here from the documented rules, then
 * VirtualQuery at several addresses and the contents of a few committed
 * readable pages are compared with the model.
 *
 * The model is a list of reservations; each has its base, size and
 * AllocationProtect, and per page: committed or reserved, protection, and a
 * content tag (every byte of a page holds its tag; 0 for a page never
 * written since it was committed).  A view is a reservation too, of a
 * section: its pages' contents are the section's tags (one byte array per
 * section, shared by its views), except in a FILE_MAP_COPY view, where a
 * page written through the view has a tag of its own (its private copy).
 * A SEC_RESERVE section knows which of its pages are committed; a commit
 * through one view commits the page in every view of the section.
 *
 * The run sets a small resident cap (vmem_set_max_resident, CAP below) so
 * that both private memory and views are paged while the model runs
 * (unless VMEM_MAX_RESIDENT is set: that cap is kept; in fault mode kernel
 * nothing pages, which the run says).
 *
 * Environment:
 *   VMEM_MODEL_SEED   seed of the "random" test (default: from the clock);
 *                     a failure message names its seed, so
 *                     VMEM_MODEL_SEED=<seed> ./test_model --filter model/random
 *                     replays it
 *   VMEM_MODEL_STEPS  calls per test (default 3000)
 *   VMEM_MODEL_TRACE  if set, print every call to stderr
 */
#include <memoryapi.h>
#include <vmem.h>
#include <criterion/criterion.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PG          ((uintptr_t)4096)
#define GR          ((uintptr_t)65536)
#define WINDOW_SIZE ((uintptr_t)64 << 20)   /* sandbox */
#define HOLE_SIZE   ((uintptr_t)192 << 20)  /* sandbox and the space above it */
#define HOT_SIZE    ((uintptr_t)2 << 20)    /* its crowded first part */
#define MAX_SIZE    ((size_t)320 << 10)     /* largest random size */
/* Largest reservation: base rounded down by < 64K, plus MAX_SIZE. */
#define PRIV_PAGES  ((GR + MAX_SIZE) / PG + 2)
#define SEC_PAGES   320                     /* largest section, in pages */
#define MAX_PAGES   (SEC_PAGES > PRIV_PAGES ? SEC_PAGES : PRIV_PAGES)
#define MAX_RES     1024
#define MAX_SECS    6                       /* sections alive at once */
#define MAX_CLOSED  8                       /* closed handles kept to reuse */
#define DEFAULT_STEPS 3000
#define CAP         ((uint64_t)1 << 20)     /* resident cap of the run */

/* ---- the model ----------------------------------------------------------- */

struct page {
    uint8_t committed;
    uint8_t tag;        /* every byte of the page (committed private pages;
                           a copy view's copied pages) */
    uint8_t maybe_zero; /* MEM_RESET: reads tag or all zeros */
    uint8_t copied;     /* copy view: written through it, tag is its own */
    DWORD prot;         /* committed pages only */
};

struct res {
    uintptr_t base;     /* 64K-aligned */
    size_t size;        /* page multiple */
    DWORD aprot;        /* AllocationProtect */
    int sec;            /* a view of S[sec]; -1: private memory */
    size_t sec_page;    /* a view: the section page of its first page */
    int copy;           /* a FILE_MAP_COPY view */
    struct page pg[MAX_PAGES];
};

static struct res M[MAX_RES];
static int nres;

/* A page-file section (unnamed): alive while its handle is open or a view
 * of it is mapped. */
struct sec {
    int live;
    int open;           /* its handle not yet closed */
    HANDLE h;
    size_t np;          /* pages */
    int reserve;        /* SEC_RESERVE */
    DWORD prot;         /* PAGE_READONLY, PAGE_READWRITE, ... */
    int nviews;
    uint8_t committed[SEC_PAGES]; /* SEC_RESERVE only */
    uint8_t tag[SEC_PAGES];       /* the contents: every byte of the page */
};

static struct sec S[MAX_SECS];
static DWORD sec_prot(int k) { return S[k].prot; }
static HANDLE closed_h[MAX_CLOSED]; /* handles closed: invalid for good */
static int nclosed;

static uintptr_t win, win_end; /* the sandbox window */

static uintptr_t down(uintptr_t a, uintptr_t al) { return a & ~(al - 1); }
static uintptr_t up(uintptr_t a, uintptr_t al) { return (a + al - 1) & ~(al - 1); }
static size_t npages(const struct res *r) { return r->size / PG; }
static uintptr_t res_end(const struct res *r) { return r->base + r->size; }
static uintptr_t span_end(const struct res *r) { return r->base + up(r->size, GR); }

static int in_window(uintptr_t a) { return a >= win && a < win_end; }

/* A range not within the user address space (up to 0x7FFFFFFEFFFF): a bad
 * parameter for every call, as on Windows. */
static int beyond_user(uintptr_t a, size_t size)
{
    const uintptr_t top = 0x7FFFFFFF0000ull;
    return a >= top || size > top - a;
}

/* The reservation whose pages (not its granule tail) hold a. */
static struct res *res_at(uintptr_t a)
{
    for (int i = 0; i < nres; i++)
        if (a >= M[i].base && a < res_end(&M[i]))
            return &M[i];
    return NULL;
}

/* The reservation whose 64K granules hold a (its pages or its tail). */
static struct res *res_span_at(uintptr_t a)
{
    for (int i = 0; i < nres; i++)
        if (a >= M[i].base && a < span_end(&M[i]))
            return &M[i];
    return NULL;
}

static struct res *res_based(uintptr_t a)
{
    for (int i = 0; i < nres; i++)
        if (M[i].base == a)
            return &M[i];
    return NULL;
}

/* The reservation holding all pages of [start, end), start < end. */
static struct res *res_holding(uintptr_t start, uintptr_t end)
{
    struct res *r = res_at(start);
    return r && end <= res_end(r) ? r : NULL;
}

static int span_in_use(uintptr_t b, uintptr_t e)
{
    for (int i = 0; i < nres; i++)
        if (b < span_end(&M[i]) && M[i].base < e)
            return 1;
    return 0;
}

/* Lowest model reservation base above a (0 if none). */
static uintptr_t next_base_above(uintptr_t a)
{
    uintptr_t best = 0;
    for (int i = 0; i < nres; i++)
        if (M[i].base > a && (best == 0 || M[i].base < best))
            best = M[i].base;
    return best;
}

static void commit_page(struct page *p, DWORD prot)
{
    if (!p->committed) {
        p->committed = 1;
        p->tag = 0;
        p->maybe_zero = 0;
    }
    p->prot = prot;
}

static void decommit_page(struct page *p)
{
    p->committed = 0;
    p->tag = 0;
    p->maybe_zero = 0;
    p->prot = 0;
}

static void model_remove(struct res *r)
{
    int i = (int)(r - M);
    if (i != nres - 1)
        memcpy(&M[i], &M[nres - 1], sizeof M[i]);
    nres--;
}

static DWORD base_of(DWORD prot) { return prot & 0xffu; }

/* (copy-on-write protections exist on copy views only) */
static int readable(const struct page *p)
{
    if (!p->committed)
        return 0;
    DWORD b = base_of(p->prot);
    return b == PAGE_READONLY || b == PAGE_READWRITE || b == PAGE_EXECUTE_READ ||
           b == PAGE_EXECUTE_READWRITE || b == PAGE_WRITECOPY || b == PAGE_EXECUTE_WRITECOPY;
}

static int writable(const struct page *p)
{
    if (!p->committed)
        return 0;
    DWORD b = base_of(p->prot);
    return b == PAGE_READWRITE || b == PAGE_EXECUTE_READWRITE || b == PAGE_WRITECOPY ||
           b == PAGE_EXECUTE_WRITECOPY;
}

/* What page i of r holds. */
static uint8_t page_tag(const struct res *r, size_t i)
{
    if (r->sec < 0 || (r->copy && r->pg[i].copied))
        return r->pg[i].tag;
    return S[r->sec].tag[r->sec_page + i];
}

static int valid_prot(DWORD p)
{
    DWORD b = p & 0xffu, mod = p & ~0xffu;
    if (b != PAGE_NOACCESS && b != PAGE_READONLY && b != PAGE_READWRITE &&
        b != PAGE_EXECUTE && b != PAGE_EXECUTE_READ && b != PAGE_EXECUTE_READWRITE)
        return 0;
    if (mod == 0)
        return 1;
    if (mod != PAGE_GUARD && mod != PAGE_NOCACHE && mod != PAGE_WRITECOMBINE)
        return 0;
    return b != PAGE_NOACCESS;
}

/* A copy-on-write protection valid on a copy view (as its read-write form
 * with the same modifiers would be anywhere). */
static int copy_form(DWORD p)
{
    DWORD b = p & 0xffu, mod = p & ~0xffu;
    if (b == PAGE_WRITECOPY)
        return valid_prot(mod | PAGE_READWRITE);
    if (b == PAGE_EXECUTE_WRITECOPY)
        return valid_prot(mod | PAGE_EXECUTE_READWRITE);
    return 0;
}

/* The rights of a view's protection as Windows weighs them (Wine's tests):
 * read, write, copy-on-write, execute.  PAGE_WRITECOPY grants no more than
 * PAGE_READONLY, PAGE_EXECUTE as much as PAGE_EXECUTE_READ, and
 * PAGE_EXECUTE_READWRITE copy-on-write too. */
#define RT_R 1u
#define RT_W 2u
#define RT_C 4u
#define RT_X 8u
static unsigned rights(DWORD p)
{
    switch (p & 0xffu) {
    case PAGE_READONLY:
    case PAGE_WRITECOPY:         return RT_R;
    case PAGE_READWRITE:         return RT_R | RT_W;
    case PAGE_EXECUTE:
    case PAGE_EXECUTE_READ:      return RT_R | RT_X;
    case PAGE_EXECUTE_READWRITE: return RT_R | RT_W | RT_C | RT_X;
    case PAGE_EXECUTE_WRITECOPY: return RT_R | RT_C | RT_X;
    default:                     return 0;
    }
}

static DWORD sec_prot(int k);

/* A protection asked on a view: the view's own again, or one within both
 * the view's and the section's rights; a shared view's page cannot become
 * copy-on-write alone (docs/api.md, "Differences from Windows"). */
static int view_allows(const struct res *r, DWORD p)
{
    DWORD b = p & 0xffu;
    if (!r->copy && (b == PAGE_WRITECOPY || b == PAGE_EXECUTE_WRITECOPY))
        return 0;
    unsigned want = rights(p), view = rights(r->aprot), sec = rights(sec_prot(r->sec));
    if (want == view)
        return 1;
    return view && (want & view) == want && (want & sec) == want;
}

/* ---- run state, PRNG, failure reporting ---------------------------------- */

static uint64_t g_seed;
static uint64_t g_rng;
static int g_step;
static int g_trace;
static char g_op[256];
static char g_hist[16][256];
static int g_nhist;

/* What a run exercised, printed at its end. */
static struct {
    unsigned calls, ok, err87, err50, err487, err998, resets, pages_read, pages_written;
    unsigned err5, err6, err1132, sections, views, view_commits, view_pages_written, copied,
        shared_checks;
    int max_res;
} g_st;

static uint64_t rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
static int chance(unsigned pct) { return below(100) < pct; }

__attribute__((format(printf, 1, 2))) static void set_op(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_op, sizeof g_op, fmt, ap);
    va_end(ap);
    memcpy(g_hist[g_nhist++ % 16], g_op, sizeof g_op);
    if (g_trace)
        fprintf(stderr, "model step %d: %s\n", g_step, g_op);
}

static void dump_context(void)
{
    fprintf(stderr, "model: FAILED, seed %" PRIu64 " step %d; window %p-%p; last calls:\n",
            g_seed, g_step, (void *)win, (void *)win_end);
    int first = g_nhist > 16 ? g_nhist - 16 : 0;
    for (int i = first; i < g_nhist; i++)
        fprintf(stderr, "  %s\n", g_hist[i % 16]);
    /* The kernel's view of the window, to tell a mapping made by someone
     * else from one the library should not have. */
    FILE *f = fopen("/proc/self/maps", "r");
    if (f) {
        char line[512];
        fprintf(stderr, "model: mappings in the window:\n");
        while (fgets(line, sizeof line, f)) {
            unsigned long lo, hi;
            if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < win_end && hi > win)
                fprintf(stderr, "  %s", line);
        }
        fclose(f);
    }
    fprintf(stderr, "model: %d reservations and views:\n", nres);
    for (int i = 0; i < nres; i++) {
        if (M[i].sec < 0)
            fprintf(stderr, "  %p size %#zx aprot %#x\n", (void *)M[i].base, M[i].size,
                    (unsigned)M[i].aprot);
        else
            fprintf(stderr, "  %p size %#zx aprot %#x: %sview of section %d at page %zu\n",
                    (void *)M[i].base, M[i].size, (unsigned)M[i].aprot, M[i].copy ? "copy " : "",
                    M[i].sec, M[i].sec_page);
    }
    for (int k = 0; k < MAX_SECS; k++)
        if (S[k].live)
            fprintf(stderr, "  section %d: handle %p%s, %zu pages, %#x%s, %d views\n", k,
                    (void *)S[k].h, S[k].open ? "" : " (closed)", S[k].np, (unsigned)S[k].prot,
                    S[k].reserve ? " SEC_RESERVE" : "", S[k].nviews);
}

#define CHECK(cond, fmt, ...)                                                          \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            dump_context();                                                            \
            cr_assert_fail("seed %" PRIu64 " step %d, %s: " fmt                        \
                           " (replay: VMEM_MODEL_SEED=%" PRIu64 " --filter model/random)", \
                           g_seed, g_step, g_op, ##__VA_ARGS__, g_seed);               \
        }                                                                              \
    } while (0)

/* ---- checks against the model -------------------------------------------- */

static int same_run(const struct page *a, const struct page *b)
{
    return a->committed == b->committed && (!a->committed || a->prot == b->prot);
}

/* Compares VirtualQuery(a) with the model; returns the model's RegionSize
 * (for free space not in a granule tail: what the library said). */
static size_t check_query(uintptr_t a)
{
    MEMORY_BASIC_INFORMATION m;
    memset(&m, 0xCC, sizeof m);
    SIZE_T n = VirtualQuery((LPCVOID)a, &m, sizeof m);
    CHECK(n == sizeof m, "VirtualQuery(%p) returned %zu, error %u", (void *)a, (size_t)n,
          (unsigned)GetLastError());
    uintptr_t pa = down(a, PG);
    CHECK(m.BaseAddress == (void *)pa, "VirtualQuery(%p): BaseAddress %p, want %p",
          (void *)a, m.BaseAddress, (void *)pa);

    struct res *r = res_span_at(a);
    if (r && a < res_end(r)) {
        size_t i = (pa - r->base) / PG, j = i + 1;
        while (j < npages(r) && same_run(&r->pg[j], &r->pg[i]))
            j++;
        const struct page *p = &r->pg[i];
        DWORD state = p->committed ? MEM_COMMIT : MEM_RESERVE;
        DWORD prot = p->committed ? p->prot : 0;
        size_t region = (j - i) * PG;
        CHECK(m.AllocationBase == (void *)r->base,
              "VirtualQuery(%p): AllocationBase %p, want %p", (void *)a, m.AllocationBase,
              (void *)r->base);
        CHECK(m.AllocationProtect == r->aprot,
              "VirtualQuery(%p): AllocationProtect %#x, want %#x", (void *)a,
              (unsigned)m.AllocationProtect, (unsigned)r->aprot);
        CHECK(m.State == state, "VirtualQuery(%p): State %#x, want %#x", (void *)a,
              (unsigned)m.State, (unsigned)state);
        CHECK(m.Protect == prot, "VirtualQuery(%p): Protect %#x, want %#x", (void *)a,
              (unsigned)m.Protect, (unsigned)prot);
        DWORD type = r->sec < 0 ? MEM_PRIVATE : MEM_MAPPED;
        CHECK(m.Type == type, "VirtualQuery(%p): Type %#x, want %#x", (void *)a,
              (unsigned)m.Type, (unsigned)type);
        CHECK(m.RegionSize == region, "VirtualQuery(%p): RegionSize %#zx, want %#zx",
              (void *)a, (size_t)m.RegionSize, region);
        return region;
    }

    CHECK(m.State == MEM_FREE, "VirtualQuery(%p) (free%s): State %#x, want MEM_FREE",
          (void *)a, r ? ", granule tail" : "", (unsigned)m.State);
    CHECK(m.Protect == PAGE_NOACCESS,
          "VirtualQuery(%p) (free%s): Protect %#x, want PAGE_NOACCESS", (void *)a,
          r ? ", granule tail" : "", (unsigned)m.Protect);
    CHECK(m.AllocationBase == NULL, "VirtualQuery(%p) (free%s): AllocationBase %p, want NULL",
          (void *)a, r ? ", granule tail" : "", m.AllocationBase);
    if (r) {
        size_t region = span_end(r) - pa;
        CHECK(m.RegionSize == region,
              "VirtualQuery(%p) (granule tail of %p): RegionSize %#zx, want %#zx", (void *)a,
              (void *)r->base, (size_t)m.RegionSize, region);
        return region;
    }
    CHECK(m.RegionSize > 0 && m.RegionSize % PG == 0,
          "VirtualQuery(%p) (free): RegionSize %#zx", (void *)a, (size_t)m.RegionSize);
    uintptr_t nb = next_base_above(pa);
    CHECK(nb == 0 || m.RegionSize <= nb - pa,
          "VirtualQuery(%p) (free): RegionSize %#zx runs into the reservation at %p",
          (void *)a, (size_t)m.RegionSize, (void *)nb);
    return m.RegionSize;
}

static void check_page(const struct res *r, size_t i)
{
    const struct page *p = &r->pg[i];
    if (!readable(p))
        return;
    const volatile uint8_t *b = (const volatile uint8_t *)(r->base + i * PG);
    uint8_t first = b[0], tag = page_tag(r, i);
    CHECK(first == tag || (p->maybe_zero && first == 0),
          "page %p (%s %p, prot %#x) reads %#x, want %#x%s", (void *)b,
          r->sec < 0 ? "reservation" : r->copy ? "copy view" : "view", (void *)r->base,
          (unsigned)p->prot, first, tag, p->maybe_zero ? " or 0 (MEM_RESET)" : "");
    g_st.pages_read++;
    for (size_t k = 1; k < PG; k++)
        if (b[k] != first)
            CHECK(0, "page %p: byte %zu is %#x, byte 0 is %#x (want the whole page %#x)",
                  (void *)b, k, b[k], first, tag);
}

static void write_page(struct res *r, size_t i)
{
    struct page *p = &r->pg[i];
    if (!writable(p))
        return;
    uint8_t tag = (uint8_t)(1 + below(255));
    memset((void *)(r->base + i * PG), tag, PG);
    if (r->sec >= 0 && !r->copy) {
        S[r->sec].tag[r->sec_page + i] = tag; /* every view of the section sees it */
        g_st.view_pages_written++;
    } else {
        g_st.copied += r->copy && !p->copied;
        g_st.view_pages_written += r->copy;
        p->copied = (uint8_t)r->copy;
        p->tag = tag;
        p->maybe_zero = 0;
    }
    g_st.pages_written++;
}

/* Every run of every reservation, and every readable page. */
static void full_sweep(void)
{
    for (int k = 0; k < nres; k++) {
        struct res *r = &M[k];
        for (uintptr_t a = r->base; a < span_end(r);)
            a += check_query(a);
        for (size_t i = 0; i < npages(r); i++)
            check_page(r, i);
    }
}

static uintptr_t random_window_addr(void)
{
    switch (below(4)) {
    case 0: return win + below(HOT_SIZE);
    case 1: return win + below(HOT_SIZE / GR) * GR;
    case 2: return win + below(WINDOW_SIZE);
    default: return win + below(WINDOW_SIZE / PG) * PG;
    }
}

static void step_checks(uintptr_t op_addr)
{
    check_query(random_window_addr());
    check_query(random_window_addr());
    if (op_addr && (in_window(op_addr) || res_span_at(op_addr)))
        check_query(op_addr);
    for (int k = 0; k < 3 && nres > 0; k++) {
        struct res *r = &M[below(nres)];
        check_query(r->base + below(span_end(r) - r->base));
    }
    for (int k = 0; k < 4 && nres > 0; k++) {
        struct res *r = &M[below(nres)];
        check_page(r, below(npages(r)));
    }
    /* The pages the call touched, or the ones at its address. */
    struct res *r = op_addr ? res_at(op_addr) : NULL;
    if (r) {
        size_t i = (op_addr - r->base) / PG;
        for (size_t k = 0; k < 4 && i + k < npages(r); k++)
            check_page(r, i + k);
    }
}

/* ---- random arguments ------------------------------------------------------ */

static DWORD gen_base_prot(void)
{
    unsigned k = (unsigned)below(100);
    if (k < 35) return PAGE_READWRITE;
    if (k < 50) return PAGE_READONLY;
    if (k < 65) return PAGE_EXECUTE_READWRITE;
    if (k < 75) return PAGE_EXECUTE_READ;
    if (k < 90) return PAGE_NOACCESS;
    return PAGE_EXECUTE;
}

static DWORD gen_prot(void)
{
    static const DWORD bad[] = {
        0,
        PAGE_WRITECOPY,
        PAGE_EXECUTE_WRITECOPY,
        PAGE_READONLY | PAGE_READWRITE,
        PAGE_READWRITE | PAGE_EXECUTE,
        PAGE_NOACCESS | PAGE_NOCACHE,
        PAGE_NOACCESS | PAGE_WRITECOMBINE,
        PAGE_READWRITE | PAGE_NOCACHE | PAGE_WRITECOMBINE,
        PAGE_READWRITE | 0x800,
        PAGE_EXECUTE_READ | 0x80000000u,
        PAGE_WRITECOPY | PAGE_NOCACHE,
    };
    unsigned k = (unsigned)below(100);
    if (k < 88)
        return gen_base_prot();
    if (k < 94) {
        DWORD b;
        do
            b = gen_base_prot();
        while (b == PAGE_NOACCESS);
        return b | (chance(50) ? PAGE_NOCACHE : PAGE_WRITECOMBINE);
    }
    return bad[below(sizeof bad / sizeof bad[0])];
}

static DWORD gen_alloc_type(void)
{
    if (below(100) < 90) {
        unsigned c = (unsigned)below(4);
        DWORD t = c < 2 ? MEM_COMMIT : c == 2 ? MEM_RESERVE : MEM_RESERVE | MEM_COMMIT;
        if (chance(10))
            t |= MEM_TOP_DOWN;
        return t;
    }
    static const DWORD odd[] = {
        MEM_COMMIT | 0x1,                       /* unknown bit */
        MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,  /* unknown here */
        MEM_RESERVE | MEM_REPLACE_PLACEHOLDER,
        MEM_COMMIT | MEM_ROTATE,
        MEM_RESERVE | MEM_4MB_PAGES,
        MEM_COMMIT | MEM_LARGE_PAGES,
        MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES,
        MEM_RESERVE | MEM_PHYSICAL,
        MEM_COMMIT | MEM_64K_PAGES,
        0,
        MEM_TOP_DOWN,
        MEM_COMMIT | MEM_WRITE_WATCH,
        MEM_WRITE_WATCH,
        MEM_LARGE_PAGES,
    };
    return odd[below(sizeof odd / sizeof odd[0])];
}

/* An address: mostly near an existing reservation (rel_pct percent of the
 * time), else somewhere in the window.  *rp gets the reservation used. */
static uintptr_t gen_addr(unsigned rel_pct, struct res **rp)
{
    *rp = NULL;
    if (nres > 0 && below(100) < rel_pct) {
        struct res *r = &M[below(nres)];
        uintptr_t a;
        *rp = r;
        switch (below(8)) {
        case 0: a = r->base; break;
        case 1: a = r->base + below(npages(r)) * PG; break;
        case 2: a = r->base + below(span_end(r) - r->base); break;
        case 3: a = res_end(r) - PG * (1 + below(npages(r) < 3 ? npages(r) : 3)); break;
        case 4: a = res_end(r) + below(span_end(r) - res_end(r) + 1); break;
        case 5: a = r->base - PG * (1 + below(20)); break;
        case 6: a = r->base + below(npages(r)) * PG + below(PG); break;
        default: {
            /* a committed page, if there is one */
            size_t i = below(npages(r));
            for (size_t k = 0; k < npages(r); k++)
                if (r->pg[(i + k) % npages(r)].committed) {
                    i = (i + k) % npages(r);
                    break;
                }
            a = r->base + i * PG;
            break;
        }
        }
        /* Outside the window stay inside this reservation's granules: what
         * lies next to it is not the model's. */
        if (!in_window(a) && !(a >= r->base && a < span_end(r)))
            a = r->base;
        return a;
    }
    return random_window_addr();
}

static size_t gen_size(const struct res *r, uintptr_t a)
{
    unsigned k = (unsigned)below(100);
    size_t s;
    if (k < 3)
        return 0;
    if (k < 23)
        s = 1 + below(PG);
    else if (k < 45)
        s = PG * (1 + below(32));
    else if (k < 58)
        s = PG * (1 + below(32)) - PG / 2 + below(PG);
    else if (k < 70)
        s = 1 + below(MAX_SIZE);
    else if (r && a >= r->base && a < res_end(r)) {
        size_t rem = res_end(r) - a;
        size_t i = (a - r->base) / PG, j = i + 1;
        while (j < npages(r) && same_run(&r->pg[j], &r->pg[i]))
            j++;
        size_t run = r->base + j * PG - a;
        switch (below(7)) {
        case 0: s = rem; break;
        case 1: s = rem - 1; break;
        case 2: s = rem + 1; break;
        case 3: s = rem + PG; break;
        case 4: s = run; break;
        case 5: s = 1 + below(run); break;
        default: s = 1 + below(rem); break;
        }
        if (s == 0)
            s = 1;
    } else
        s = PG * (1 + below(8));
    return s > MAX_SIZE ? MAX_SIZE : s;
}

/* Address and size; in the window the range stays in the window. */
static void gen_range(unsigned rel_pct, int allow_null, uintptr_t *pa, size_t *ps)
{
    struct res *r = NULL;
    uintptr_t a = allow_null && chance(2) ? 0 : gen_addr(rel_pct, &r);
    size_t s = gen_size(a ? r : NULL, a);
    if (a && in_window(a) && s > win_end - a)
        s = win_end - a;
    *pa = a;
    *ps = s;
}

/* ---- the calls --------------------------------------------------------------- */

static void view_commit(const struct res *r, size_t first, size_t end);

static void expect_failure(int failed, DWORD want_err)
{
    DWORD e = GetLastError();
    g_st.calls++;
    g_st.err87 += want_err == ERROR_INVALID_PARAMETER;
    g_st.err50 += want_err == ERROR_NOT_SUPPORTED;
    g_st.err487 += want_err == ERROR_INVALID_ADDRESS;
    g_st.err998 += want_err == ERROR_NOACCESS;
    g_st.err5 += want_err == ERROR_ACCESS_DENIED;
    g_st.err6 += want_err == ERROR_INVALID_HANDLE;
    g_st.err1132 += want_err == ERROR_MAPPED_ALIGNMENT;
    CHECK(failed, "succeeded, want failure with error %u", (unsigned)want_err);
    CHECK(e == want_err, "GetLastError %u, want %u", (unsigned)e, (unsigned)want_err);
}

static void expect_success(int ok)
{
    g_st.calls++;
    g_st.ok++;
    CHECK(ok, "failed with error %u, want success", (unsigned)GetLastError());
}

#define KNOWN_ALLOC_TYPES                                                              \
    (MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_RESET_UNDO | MEM_TOP_DOWN |            \
     MEM_WRITE_WATCH | MEM_LARGE_PAGES | MEM_PHYSICAL)

static uintptr_t do_alloc(uintptr_t addr, size_t size, DWORD type, DWORD prot)
{
    set_op("VirtualAlloc(%p, %#zx, %#x, %#x)", (void *)addr, size, (unsigned)type,
           (unsigned)prot);

    /* The model's prediction. */
    DWORD err = 0;
    int reserve = 0;
    uintptr_t start = 0, end = 0;
    struct res *r = NULL;
    /* Windows checks every parameter before refusing what is unsupported */
    if ((type & ~(DWORD)KNOWN_ALLOC_TYPES) || size == 0 || !(type & (MEM_COMMIT | MEM_RESERVE)) ||
        ((type & MEM_WRITE_WATCH) && !(type & MEM_RESERVE)) ||
        ((type & MEM_LARGE_PAGES) && !(type & MEM_COMMIT)) || !valid_prot(prot) ||
        beyond_user(addr, size))
        err = ERROR_INVALID_PARAMETER;
    else if (type & (MEM_LARGE_PAGES | MEM_PHYSICAL))
        err = ERROR_NOT_SUPPORTED;
    else if (addr && !(type & MEM_RESERVE)) {
        start = down(addr, PG);
        end = up(addr + size, PG);
        r = res_holding(start, end);
        if (!r)
            err = ERROR_INVALID_ADDRESS;
        else if (r->sec >= 0 && !view_allows(r, prot))
            err = ERROR_INVALID_PARAMETER; /* beyond the view's access */
    } else {
        reserve = 1;
        if (addr) {
            start = down(addr, GR);
            end = up(addr + size, PG);
            if (span_in_use(start, up(end, GR)))
                err = ERROR_INVALID_ADDRESS;
        } else {
            end = up(size, PG); /* the size, for now */
        }
    }
    if (!err && reserve && nres == MAX_RES)
        return 0; /* the model is full: skip the call */

    SetLastError(0);
    void *p = VirtualAlloc((LPVOID)addr, size, type, prot);
    if (err) {
        expect_failure(p == NULL, err);
        return 0;
    }
    expect_success(p != NULL);

    if (!reserve) {
        CHECK(p == (void *)start, "returned %p, want %p", p, (void *)start);
        for (uintptr_t a = start; a < end; a += PG)
            commit_page(&r->pg[(a - r->base) / PG], prot);
        if (r->sec >= 0)
            view_commit(r, (start - r->base) / PG, (end - r->base) / PG);
        return start;
    }

    size_t rsize;
    if (addr) {
        CHECK(p == (void *)start, "returned %p, want %p", p, (void *)start);
        rsize = end - start;
    } else {
        uintptr_t b = (uintptr_t)p;
        rsize = end;
        CHECK(b % GR == 0, "returned %p, not 64K-aligned", p);
        CHECK(!span_in_use(b, b + up(rsize, GR)),
              "returned %p (size %#zx), which overlaps a live reservation", p, rsize);
        start = b;
    }
    r = &M[nres++];
    memset(r, 0, sizeof *r);
    r->base = start;
    r->size = rsize;
    r->aprot = prot;
    r->sec = -1;
    if (type & MEM_COMMIT)
        for (size_t i = 0; i < npages(r); i++)
            commit_page(&r->pg[i], prot);
    return start;
}

static void do_free(uintptr_t addr, size_t size, DWORD type)
{
    set_op("VirtualFree(%p, %#zx, %#x)", (void *)addr, size, (unsigned)type);

    DWORD err = 0;
    struct res *r = NULL;
    uintptr_t start = 0, end = 0;
    if (!addr || beyond_user(addr, size))
        err = ERROR_INVALID_PARAMETER;
    else if (type == MEM_RELEASE) {
        if (size != 0)
            err = ERROR_INVALID_PARAMETER;
        else if (!(r = res_based(down(addr, PG)))) /* the base's page will do */
            err = ERROR_INVALID_ADDRESS;
    } else if (type == MEM_DECOMMIT) {
        if (size == 0) {
            if (!(r = res_based(down(addr, PG))))
                err = ERROR_INVALID_ADDRESS;
            else {
                start = r->base;
                end = res_end(r);
            }
        } else {
            start = down(addr, PG);
            end = up(addr + size, PG);
            if (!(r = res_holding(start, end))) /* past the end: STATUS_UNABLE_TO_FREE_VM */
                err = res_at(start) ? ERROR_INVALID_PARAMETER : ERROR_INVALID_ADDRESS;
        }
    } else
        err = ERROR_INVALID_PARAMETER;

    if (!err && r->sec >= 0)
        err = ERROR_INVALID_PARAMETER; /* a view goes with UnmapViewOfFile */

    SetLastError(0);
    BOOL ok = VirtualFree((LPVOID)addr, size, type);
    if (err) {
        expect_failure(!ok, err);
        return;
    }
    expect_success(ok);
    if (type == MEM_RELEASE)
        model_remove(r);
    else
        for (uintptr_t a = start; a < end; a += PG)
            decommit_page(&r->pg[(a - r->base) / PG]);
}

static void do_protect(uintptr_t addr, size_t size, DWORD prot, int null_old)
{
    set_op("VirtualProtect(%p, %#zx, %#x, %s)", (void *)addr, size, (unsigned)prot,
           null_old ? "NULL" : "&old");

    DWORD err = 0, want_old = 0;
    struct res *r = NULL;
    uintptr_t start = down(addr, PG), end = up(addr + size, PG);
    /* the copy-on-write forms are valid where addr is in a view */
    int cf = copy_form(prot);
    struct res *at = res_at(addr);
    if (!valid_prot(prot) && !(cf && at && at->sec >= 0))
        err = ERROR_INVALID_PARAMETER;
    else if (null_old)
        err = ERROR_NOACCESS;
    else if (size == 0 || beyond_user(addr, size))
        err = ERROR_INVALID_PARAMETER;
    else if (!(r = res_holding(start, end)))
        err = cf ? ERROR_INVALID_PARAMETER : ERROR_INVALID_ADDRESS;
    else if (r->sec >= 0 && !view_allows(r, prot))
        err = ERROR_INVALID_PARAMETER; /* beyond the view's access */
    else {
        for (uintptr_t a = start; a < end; a += PG)
            if (!r->pg[(a - r->base) / PG].committed)
                err = ERROR_INVALID_ADDRESS;
        want_old = r->pg[(start - r->base) / PG].prot;
    }

    DWORD old = 0xDEADBEEF;
    SetLastError(0);
    BOOL ok = VirtualProtect((LPVOID)addr, size, prot, null_old ? NULL : &old);
    if (err) {
        expect_failure(!ok, err);
        return;
    }
    expect_success(ok);
    CHECK(old == want_old, "old protection %#x, want %#x", (unsigned)old, (unsigned)want_old);
    for (uintptr_t a = start; a < end; a += PG)
        r->pg[(a - r->base) / PG].prot = prot;
}

/* MEM_RESET of a run of committed pages: succeeds and changes no state; the
 * pages then read either as before or as zeros. */
static uintptr_t do_reset(void)
{
    if (nres == 0)
        return 0;
    struct res *r = &M[below(nres)];
    size_t i = below(npages(r));
    if (!r->pg[i].committed)
        return 0;
    size_t j = i + 1, lim = i + 1 + below(16);
    while (j < npages(r) && j < lim && r->pg[j].committed)
        j++;
    uintptr_t a = r->base + i * PG;
    size_t size = (j - i) * PG;
    set_op("VirtualAlloc(%p, %#zx, MEM_RESET, PAGE_NOACCESS)", (void *)a, size);
    SetLastError(0);
    void *p = VirtualAlloc((LPVOID)a, size, MEM_RESET, PAGE_NOACCESS);
    expect_success(p != NULL);
    CHECK(p == (void *)a, "returned %p, want %p", p, (void *)a);
    g_st.resets++;
    /* a view's pages are the section's: kept */
    for (size_t k = i; k < j && r->sec < 0; k++)
        if (r->pg[k].tag)
            r->pg[k].maybe_zero = 1;
    return a;
}

/* Writes new tags into up to 8 random writable pages. */
static void do_writes(void)
{
    int done = 0;
    for (int k = 0; k < 64 && done < 8 && nres > 0; k++) {
        struct res *r = &M[below(nres)];
        size_t i = below(npages(r));
        if (writable(&r->pg[i])) {
            write_page(r, i);
            done++;
        }
    }
}

/* ---- sections and views ------------------------------------------------------ */

/* A section goes with its handle and its last view. */
static void sec_check_gone(int k)
{
    if (!S[k].open && S[k].nviews == 0)
        S[k].live = 0;
}

/* Pages [first, end) of view r were committed: in a SEC_RESERVE section
 * they are committed in every view of it, each with its own protection. */
static void view_commit(const struct res *r, size_t first, size_t end)
{
    struct sec *s = &S[r->sec];
    if (!s->reserve)
        return;
    g_st.view_commits++;
    for (size_t i = first; i < end; i++)
        s->committed[r->sec_page + i] = 1;
    for (int v = 0; v < nres; v++) {
        struct res *o = &M[v];
        if (o == r || o->sec != r->sec)
            continue;
        for (size_t i = first; i < end; i++) {
            size_t sp = r->sec_page + i;
            if (sp < o->sec_page || sp >= o->sec_page + npages(o))
                continue;
            struct page *p = &o->pg[sp - o->sec_page];
            if (!p->committed) {
                p->committed = 1;
                p->prot = o->aprot;
            }
        }
    }
}

static int nviews(void)
{
    int n = 0;
    for (int i = 0; i < nres; i++)
        n += M[i].sec >= 0;
    return n;
}

/* Page sp of section k through every view of it: contents and query. */
static void check_section_page(int k, size_t sp)
{
    int n = 0;
    for (int v = 0; v < nres; v++) {
        struct res *o = &M[v];
        if (o->sec != k || sp < o->sec_page || sp >= o->sec_page + npages(o))
            continue;
        check_page(o, sp - o->sec_page);
        check_query(o->base + (sp - o->sec_page) * PG);
        n++;
    }
    g_st.shared_checks += n > 1;
}

/* A page of view v that another view of its section maps too, if there
 * is one; else i. */
static size_t shared_page(const struct res *v, size_t i)
{
    for (int k = 0; k < nres; k++) {
        const struct res *o = &M[k];
        if (o == v || o->sec != v->sec)
            continue;
        size_t lo = o->sec_page > v->sec_page ? o->sec_page : v->sec_page;
        size_t hi = o->sec_page + npages(o) < v->sec_page + npages(v)
                        ? o->sec_page + npages(o) : v->sec_page + npages(v);
        if (lo < hi)
            return lo - v->sec_page + below(hi - lo);
    }
    return i;
}

/* A random view (NULL if none). */
static struct res *pick_view(void)
{
    int n = nviews();
    if (n == 0)
        return NULL;
    int k = (int)below((uint64_t)n);
    for (int i = 0; i < nres; i++)
        if (M[i].sec >= 0 && k-- == 0)
            return &M[i];
    return NULL;
}

/* CreateFileMappingA of the page file: SEC_COMMIT or SEC_RESERVE, a few to
 * a few hundred pages; now and then an invalid one. */
static void do_create_section(void)
{
    int k = 0;
    while (k < MAX_SECS && S[k].live)
        k++;
    static const DWORD prots[] = {
        PAGE_READWRITE, PAGE_READWRITE, PAGE_READWRITE, PAGE_READWRITE, PAGE_READONLY,
        PAGE_WRITECOPY, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_READ, PAGE_EXECUTE_WRITECOPY,
    };
    DWORD prot = prots[below(sizeof prots / sizeof prots[0])];
    DWORD attr = chance(45) ? SEC_RESERVE : chance(50) ? SEC_COMMIT : 0;
    size_t size = chance(15) ? 1 + below(4 * PG) : PG * (1 + below(SEC_PAGES));
    if (size > PG && chance(20))
        size -= below(PG); /* rounded up to pages */
    DWORD err = 0;
    switch (chance(6) ? below(4) : 4) {
    case 0: size = 0; err = ERROR_INVALID_PARAMETER; break; /* the page file has no size */
    case 1: prot = PAGE_NOACCESS; err = ERROR_INVALID_PARAMETER; break;
    case 2: prot = PAGE_EXECUTE; err = ERROR_INVALID_PARAMETER; break;
    case 3: attr = SEC_COMMIT | SEC_RESERVE; err = ERROR_INVALID_PARAMETER; break;
    default:
        if (k == MAX_SECS)
            return; /* the model is full */
    }
    set_op("CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, %#x, 0, %#zx, NULL)",
           (unsigned)(prot | attr), size);
    SetLastError(1234);
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, prot | attr, 0, (DWORD)size, NULL);
    if (err) {
        expect_failure(h == NULL, err);
        return;
    }
    DWORD e = GetLastError();
    expect_success(h != NULL);
    CHECK(e == ERROR_SUCCESS, "returned %p, GetLastError %u, want 0", (void *)h, (unsigned)e);
    struct sec *s = &S[k];
    memset(s, 0, sizeof *s);
    s->live = 1;
    s->open = 1;
    s->h = h;
    s->np = up(size, PG) / PG;
    s->reserve = (attr & SEC_RESERVE) != 0;
    s->prot = prot;
    g_st.sections++;
}

/* A random section: alive (its handle open or not), or -1 and a closed
 * handle in *h. */
static int pick_section(HANDLE *h)
{
    int live[MAX_SECS], n = 0;
    for (int k = 0; k < MAX_SECS; k++)
        if (S[k].live)
            live[n++] = k;
    if (nclosed > 0 && (n == 0 || chance(5))) {
        *h = closed_h[below((uint64_t)(nclosed < MAX_CLOSED ? nclosed : MAX_CLOSED))];
        return -1;
    }
    if (n == 0) {
        *h = NULL;
        return -1;
    }
    int k = live[below((uint64_t)n)];
    /* mostly one that has views already: sections with several */
    for (int t = 0; t < 2 && S[k].nviews == 0; t++)
        k = live[below((uint64_t)n)];
    *h = S[k].h;
    return k;
}

/* MapViewOfFile(Ex) of a section, at NULL or a 64K address of the
 * window, with the rules of docs/sections.md. */
static uintptr_t do_map(void)
{
    HANDLE h;
    int k = pick_section(&h);
    if (!h)
        return 0;
    struct sec *s = k >= 0 ? &S[k] : NULL; /* its handle may be closed */
    static const DWORD accs[] = {
        FILE_MAP_READ, FILE_MAP_READ, FILE_MAP_WRITE, FILE_MAP_WRITE, FILE_MAP_ALL_ACCESS,
        FILE_MAP_COPY, FILE_MAP_COPY, FILE_MAP_READ | FILE_MAP_WRITE, 0,
    };
    DWORD access = accs[below(sizeof accs / sizeof accs[0])];
    if (chance(12))
        access |= FILE_MAP_EXECUTE;
    uint64_t ssize = s ? s->np * PG : 64 * PG;
    uint64_t offset = GR * below(up(ssize, GR) / GR + (chance(5) ? 1 : 0));
    if (s && s->nviews > 0 && chance(50)) {
        /* where a view of it is: views sharing pages */
        for (int i = 0; i < nres; i++)
            if (M[i].sec == k && chance(50)) {
                offset = M[i].sec_page * PG;
                break;
            }
    }
    if (chance(3))
        offset += PG * (1 + below(GR / PG - 1));
    size_t size = 0;
    if (offset < ssize) {
        uint64_t rem = ssize - offset;
        unsigned c = (unsigned)below(100);
        if (c < 40)
            size = 0; /* to the section's end */
        else if (c < 80)
            size = 1 + below(rem);
        else if (c < 90)
            size = rem;
        else if (c < 95)
            size = rem - PG + 1 + below(PG); /* within the last page */
        else
            size = rem + 1 + below(2 * PG); /* past the end */
    } else
        size = chance(50) ? 0 : 1 + below(4 * PG);
    uintptr_t at = 0;
    if (chance(55)) {
        at = win + below(HOT_SIZE / GR) * GR;
        if (chance(3))
            at += PG;
    }
    set_op("MapViewOfFileEx(%p, %#x, 0, %#" PRIx64 ", %#zx, %p)", (void *)h, (unsigned)access,
           offset, size, (void *)at);

    /* Windows' view protection: copy-on-write for FILE_MAP_COPY alone,
     * execute only added to a view that reads; any page-file section may
     * have execute views */
    int copy = 0;
    DWORD prot;
    if ((access & ~(DWORD)FILE_MAP_EXECUTE) == FILE_MAP_COPY)
        prot = PAGE_WRITECOPY, copy = 1;
    else if (access & FILE_MAP_WRITE)
        prot = PAGE_READWRITE;
    else if (access & FILE_MAP_READ)
        prot = PAGE_READONLY;
    else
        prot = PAGE_NOACCESS;
    if ((access & FILE_MAP_EXECUTE) && prot != PAGE_NOACCESS)
        prot <<= 4; /* PAGE_EXECUTE_WRITECOPY, _READWRITE, _READ */
    DWORD err = 0;
    size_t vsize = size ? size : (size_t)(ssize - (offset < ssize ? offset : 0));
    if (offset % GR || at % GR)
        err = ERROR_MAPPED_ALIGNMENT;
    else if (!s || !s->open)
        err = ERROR_INVALID_HANDLE;
    else if ((rights(prot) & RT_W) && !(rights(s->prot) & RT_W))
        err = ERROR_ACCESS_DENIED; /* the section's protection */
    else if (offset >= ssize || size > ssize - offset)
        err = ERROR_ACCESS_DENIED; /* STATUS_INVALID_VIEW_SIZE */
    else if (at && span_in_use(at, at + up(vsize, GR)))
        err = ERROR_INVALID_ADDRESS;
    if (!err && nres == MAX_RES)
        return 0; /* the model is full */

    SetLastError(1234);
    void *p = MapViewOfFileEx(h, access, 0, (DWORD)offset, size, (LPVOID)at);
    if (err) {
        expect_failure(p == NULL, err);
        return at;
    }
    DWORD e = GetLastError();
    expect_success(p != NULL);
    CHECK(e == ERROR_SUCCESS, "returned %p, GetLastError %u, want 0", p, (unsigned)e);
    uintptr_t b = (uintptr_t)p;
    if (at)
        CHECK(b == at, "returned %p, want %p", p, (void *)at);
    CHECK(b % GR == 0, "returned %p, not 64K-aligned", p);
    CHECK(!span_in_use(b, b + up(vsize, GR)),
          "returned %p (size %#zx), which overlaps a live reservation or view", p, vsize);
    struct res *r = &M[nres++];
    memset(r, 0, sizeof *r);
    r->base = b;
    r->size = up(vsize, PG);
    r->aprot = prot;
    r->sec = k;
    r->sec_page = (size_t)(offset / PG);
    r->copy = copy;
    for (size_t i = 0; i < npages(r); i++)
        if (!s->reserve || s->committed[r->sec_page + i]) {
            r->pg[i].committed = 1;
            r->pg[i].prot = prot;
        }
    s->nviews++;
    g_st.views++;
    return b;
}

/* UnmapViewOfFile: an address in a view (any page of it), or one that is
 * not (a reservation, its granule tail, free space). */
static uintptr_t do_unmap(void)
{
    struct res *v = pick_view();
    uintptr_t a;
    if (v && chance(85))
        a = v->base + (chance(50) ? 0 : below(v->size));
    else if (nres > 0 && chance(50)) {
        struct res *r = &M[below(nres)];
        a = r->base + below(span_end(r) - r->base);
    } else
        a = random_window_addr();
    set_op("UnmapViewOfFile(%p)", (void *)a);
    struct res *r = res_at(a);
    int ok_want = r && r->sec >= 0;
    SetLastError(1234);
    BOOL ok = UnmapViewOfFile((LPCVOID)a);
    if (!ok_want) {
        expect_failure(!ok, ERROR_INVALID_ADDRESS);
        return a;
    }
    expect_success(ok);
    int k = r->sec;
    S[k].nviews--;
    model_remove(r);
    sec_check_gone(k);
    return a;
}

/* CloseHandle of a section, with views mapped or not; or of a closed
 * handle. */
static void do_close(void)
{
    HANDLE h;
    int k = pick_section(&h);
    if (!h)
        return;
    int ok_want = k >= 0 && S[k].open;
    set_op("CloseHandle(%p)", (void *)h);
    SetLastError(1234);
    BOOL ok = CloseHandle(h);
    if (!ok_want) {
        expect_failure(!ok, ERROR_INVALID_HANDLE);
        return;
    }
    expect_success(ok);
    S[k].open = 0;
    closed_h[nclosed++ % MAX_CLOSED] = h;
    sec_check_gone(k);
}

static DWORD gen_view_prot(void)
{
    static const DWORD ps[] = {
        PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE,
        PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY,
        PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
    };
    if (chance(10))
        return gen_prot();
    return ps[below(sizeof ps / sizeof ps[0])];
}

/* A range in a view: mostly within it, now and then running past it. */
static void gen_view_range(const struct res *v, uintptr_t *pa, size_t *ps)
{
    size_t i = below(npages(v));
    uintptr_t a = v->base + i * PG + (chance(10) ? below(PG) : 0);
    size_t rem = res_end(v) - a, s;
    unsigned c = (unsigned)below(100);
    if (c < 50)
        s = 1 + below(rem < 8 * PG ? rem : 8 * PG);
    else if (c < 80)
        s = rem;
    else if (c < 90)
        s = 1 + below(rem);
    else
        s = rem + 1 + below(PG); /* past the view */
    *pa = a;
    *ps = s;
}

/* VirtualProtect, VirtualAlloc(MEM_COMMIT) or writes in a view. */
static uintptr_t do_view_op(unsigned kind)
{
    struct res *v = pick_view();
    if (!v)
        return 0;
    uintptr_t a;
    size_t size;
    gen_view_range(v, &a, &size);
    switch (kind) {
    case 0:
        do_protect(a, size, gen_view_prot(), chance(2));
        break;
    case 1:
        do_alloc(a, size, MEM_COMMIT, gen_view_prot());
        break;
    default:
        for (int n = 0; n < 4; n++) {
            size_t i = below(npages(v));
            if (chance(50))
                i = shared_page(v, i);
            if (writable(&v->pg[i])) {
                write_page(v, i);
                /* seen by the section's other views (not by a copy's
                 * written pages; not by the others if a copy) */
                check_section_page(v->sec, v->sec_page + i);
            }
        }
        return v->base;
    }
    /* the section's pages around the call, through every view of it */
    size_t i = (a - v->base) / PG;
    check_section_page(v->sec, v->sec_page + i);
    if (i + 1 < npages(v))
        check_section_page(v->sec, v->sec_page + i + 1);
    return a;
}

static uintptr_t one_step(void)
{
    uintptr_t addr;
    size_t size;
    unsigned w_alloc = 30, w_null = 5, w_free = 16 + (unsigned)nres / 2, w_prot = 22,
             w_reset = 3, w_write = 10;
    /* sections and views */
    unsigned w_sec = 3, w_map = 6, w_unmap = 2 + (unsigned)nviews() / 2, w_close = 2, w_view = 14;
    unsigned k = (unsigned)below(w_alloc + w_null + w_free + w_prot + w_reset + w_write + w_sec +
                                 w_map + w_unmap + w_close + w_view);

    if (k < w_sec) {
        do_create_section();
        return 0;
    }
    k -= w_sec;
    if (k < w_map)
        return do_map();
    k -= w_map;
    if (k < w_unmap)
        return do_unmap();
    k -= w_unmap;
    if (k < w_close) {
        do_close();
        return 0;
    }
    k -= w_close;
    if (k < w_view)
        return do_view_op((unsigned)below(3));
    k -= w_view;

    if (k < w_alloc) {
        DWORD type = gen_alloc_type();
        gen_range(type & MEM_RESERVE ? 40 : 80, 0, &addr, &size);
        do_alloc(addr, size, type, gen_prot());
        return addr;
    }
    k -= w_alloc;
    if (k < w_null) {
        static const DWORD types[] = {MEM_RESERVE, MEM_COMMIT, MEM_RESERVE | MEM_COMMIT,
                                      MEM_RESERVE | MEM_COMMIT | MEM_TOP_DOWN};
        DWORD type = chance(90) ? types[below(4)] : gen_alloc_type();
        size = gen_size(NULL, 0);
        return do_alloc(0, size, type, gen_prot());
    }
    k -= w_null;
    if (k < w_free) {
        unsigned t = (unsigned)below(100);
        if (t < 45) {
            /* MEM_RELEASE */
            if (nres > 0 && chance(75))
                addr = M[below(nres)].base, size = 0;
            else
                gen_range(60, 1, &addr, &size);
            if (chance(85))
                size = 0;
            else if (size == 0)
                size = 1 + below(PG);
            do_free(addr, size, MEM_RELEASE);
        } else if (t < 90) {
            /* MEM_DECOMMIT */
            if (chance(25)) {
                if (nres > 0 && chance(75))
                    addr = M[below(nres)].base;
                else
                    gen_range(70, 1, &addr, &size);
                size = 0;
            } else
                gen_range(85, 1, &addr, &size);
            do_free(addr, size, MEM_DECOMMIT);
        } else {
            static const DWORD odd[] = {
                0, MEM_RELEASE | MEM_DECOMMIT, MEM_COALESCE_PLACEHOLDERS,
                MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER, MEM_DECOMMIT | 0x1, MEM_FREE,
                0x80000000u | MEM_RELEASE,
            };
            if (nres > 0 && chance(50))
                addr = M[below(nres)].base, size = 0;
            else
                gen_range(60, 1, &addr, &size);
            do_free(addr, size, odd[below(sizeof odd / sizeof odd[0])]);
        }
        return addr;
    }
    k -= w_free;
    if (k < w_prot) {
        gen_range(85, 1, &addr, &size);
        do_protect(addr, size, gen_prot(), chance(3));
        return addr;
    }
    k -= w_prot;
    if (k < w_reset)
        return do_reset();
    do_writes();
    return 0;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *e;
    unsigned long long v = strtoull(s, &e, 0);
    cr_assert(*e == '\0', "%s=%s: not a number", name, s);
    return v;
}

static void run_model(uint64_t seed)
{
    int steps = (int)env_u64("VMEM_MODEL_STEPS", DEFAULT_STEPS);
    g_seed = seed;
    g_rng = seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
    if (g_rng == 0) /* xorshift's one bad state */
        g_rng = 1;
    g_trace = getenv("VMEM_MODEL_TRACE") != NULL;
    g_step = 0;
    g_nhist = 0;
    nres = 0;
    memset(S, 0, sizeof S);
    nclosed = 0;
    memset(&g_st, 0, sizeof g_st);
    fprintf(stderr, "model: seed %" PRIu64 ", %d steps (replay: VMEM_MODEL_SEED=%" PRIu64
                    " --filter model/random)\n",
            seed, steps, seed);

    /* Start the runtime and let its fault path run once, so whatever it maps
     * on first use is mapped before the window is chosen. */
    set_op("warm-up");
    volatile char *w = VirtualAlloc(NULL, 16 * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(w != NULL, "warm-up VirtualAlloc failed: %u", (unsigned)GetLastError());
    w[0] = 1;
    w[5 * PG] = 2;
    CHECK(w[0] == 1 && w[PG] == 0, "warm-up page contents");
    CHECK(VirtualFree((LPVOID)w, 0, MEM_RELEASE), "warm-up release: %u",
          (unsigned)GetLastError());

    /* A small cap, so that pages are trimmed and paged in again while the
     * model runs; set before the window is chosen (paging maps memory of
     * its own). */
    set_op("cap");
    const char *cap_env = getenv("VMEM_MAX_RESIDENT");
    if (cap_env && *cap_env) {
        fprintf(stderr, "model: cap VMEM_MAX_RESIDENT=%s (from the environment)\n", cap_env);
    } else {
        int e = vmem_set_max_resident(CAP);
        if (e == ENOTSUP)
            fprintf(stderr, "model: no cap: this fault mode does not page (nothing is trimmed)\n");
        else
            CHECK(e == 0, "vmem_set_max_resident(%" PRIu64 "): %s", CAP, strerror(e));
    }

    /* The sandbox: a window of address space known to be free.  It is the
     * bottom of a larger hole: the kernel hands out addresses top-down, so
     * what the process maps from now on (NULL-address reservations, and the
     * library's and libc's own mappings, which the model knows nothing
     * about) fills the hole from its top and stays out of the window. */
    set_op("window");
    void *wp = VirtualAlloc(NULL, HOLE_SIZE, MEM_RESERVE, PAGE_NOACCESS);
    CHECK(wp != NULL, "window reservation failed: %u", (unsigned)GetLastError());
    CHECK(VirtualFree(wp, 0, MEM_RELEASE), "window release: %u", (unsigned)GetLastError());
    win = (uintptr_t)wp;
    win_end = win + WINDOW_SIZE;

    for (g_step = 1; g_step <= steps; g_step++) {
        uintptr_t a = one_step();
        if (nres > g_st.max_res)
            g_st.max_res = nres;
        step_checks(a);
        if (g_step % 250 == 0)
            full_sweep();
    }

    g_step = steps + 1;
    set_op("final sweep");
    full_sweep();
    /* views go with UnmapViewOfFile, sections with their handle */
    for (int i = nres - 1; i >= 0; i--)
        if (M[i].sec >= 0) {
            set_op("UnmapViewOfFile(%p) (the end)", (void *)M[i].base);
            int k = M[i].sec;
            CHECK(UnmapViewOfFile((LPCVOID)M[i].base), "failed with error %u",
                  (unsigned)GetLastError());
            S[k].nviews--;
            model_remove(&M[i]);
            sec_check_gone(k);
        }
    for (int k = 0; k < MAX_SECS; k++)
        if (S[k].live && S[k].open) {
            set_op("CloseHandle(%p) (the end)", (void *)S[k].h);
            CHECK(CloseHandle(S[k].h), "failed with error %u", (unsigned)GetLastError());
            S[k].open = 0;
            sec_check_gone(k);
        }
    while (nres > 0)
        do_free(M[nres - 1].base, 0, MEM_RELEASE);
    set_op("after releasing everything");
    for (int k = 0; k < 16; k++)
        check_query(random_window_addr());
    fprintf(stderr,
            "model: seed %" PRIu64 " passed: %u calls, %u succeeded (%u MEM_RESET), failed "
            "with 87: %u, 50: %u, 487: %u, 998: %u, 5: %u, 6: %u, 1132: %u; up to %d "
            "reservations and views; %u pages read, %u written; %u sections, %u views, %u "
            "commits in SEC_RESERVE views, %u view pages written, %u copied, %u pages "
            "checked through several views\n",
            seed, g_st.calls, g_st.ok, g_st.resets, g_st.err87, g_st.err50, g_st.err487,
            g_st.err998, g_st.err5, g_st.err6, g_st.err1132, g_st.max_res, g_st.pages_read,
            g_st.pages_written, g_st.sections, g_st.views, g_st.view_commits,
            g_st.view_pages_written, g_st.copied, g_st.shared_checks);
    struct vmem_stats vs;
    if (vmem_get_stats(&vs) == 0)
        fprintf(stderr,
                "model: seed %" PRIu64 ": cap %" PRIu64 " pages, %" PRIu64 " pages trimmed, %"
                PRIu64 " soft and %" PRIu64 " hard faults, peak working set %" PRIu64 ", %" PRIu64
                " pages written to the "
                "page file\n",
                seed, vs.cap_pages, vs.trimmed_pages, vs.transition_faults, vs.hard_faults,
                vs.peak_working_set,
                vs.pages_written);
}

Test(model, seed_1) { run_model(1); }
Test(model, seed_2) { run_model(0xC0FFEE); }
Test(model, seed_3) { run_model(20240607); }

Test(model, random)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t dflt = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
    run_model(env_u64("VMEM_MODEL_SEED", dflt));
}
