/*
 * test_section_paging.c -- views of page-file sections paged under the
 * resident cap (docs/sections.md, "How it works"): a section far larger
 * than the cap written and read back through two views from four threads
 * while the process's resident memory stays near the cap; two processes
 * (tests/section_peer.c, fork + exec) sharing a named section under a cap
 * each; a page one process trimmed while another maps it keeps the other's
 * write; a forked child reads what its parent paged out; a copy view sees
 * pages that are out; a slot file that cannot be written (a full tmpfs)
 * loses nothing; and, in a memory cgroup just above the cap with no swap,
 * the large section is not OOM-killed.  Where the kernel has no minor
 * faults on shared memory (UFFD_FEATURE_MINOR_SHMEM) or the fault mode is
 * kernel, the tests skip with the reason.
 */
#include "section_util.h"

#include "os/vm.h"
#include "paging/cap.h"
#include "section/vtable.h"

#include <sys/mount.h>

#define PM_PRESENT (1ull << 63)

/* 0 if views can be paged here, else skips with the reason. */
static void need_view_paging(size_t cap)
{
    need_view_support();
    need_paging(cap);
}

/* Under AddressSanitizer every access to a view reads its shadow too (a
 * byte per 8 bytes): half a GiB of views written grew RssAnon by some 50 MiB
 * on Linux 6.18, ASan's and not the library's.  There the section's own
 * pages are counted: RssShmem. */
#ifdef __SANITIZE_ADDRESS__
#define RESIDENT_FIELD "RssShmem:"
#else
#define RESIDENT_FIELD "VmRSS:"
#endif

/* This process's resident memory: VmRSS (which holds RssShmem, the
 * section's pages it maps), bytes. */
static uint64_t resident(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, RESIDENT_FIELD " %llu", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return (uint64_t)kb * 1024;
}

/* ---- the large section, written and read back by four threads ------------ */

#define NTHREADS 4
#define SLACK ((uint64_t)16 << 20)

struct big {
    uint8_t *a, *b;       /* two views of the whole section */
    size_t pages;
    uint64_t cap;
    uint64_t base;        /* resident before the section */
    int t;
    int verify;           /* 0: write through a; 1: check through b */
    char err[200];
};

/* A permutation of [0, pages) (pages a power of two: any odd multiplier). */
static size_t perm(size_t q, size_t pages, unsigned salt)
{
    return (q * (40503u + 2 * salt) + 12345u * salt) & (pages - 1);
}

static void *big_worker(void *p)
{
    struct big *w = p;
    size_t mine = 0;
    for (size_t q = 0; q < w->pages; q++) {
        size_t pg = perm(q, w->pages, (unsigned)w->verify);
        if (pg % NTHREADS != (size_t)w->t)
            continue;
        if (!w->verify) {
            fill_page(w->a, pg, 7);
        } else if (!page_intact(w->b, pg, 7)) {
            snprintf(w->err, sizeof w->err, "page %zu did not read back", pg);
            return NULL;
        }
        if (++mine % 2048 == 0) {
            uint64_t r = resident() - w->base;
            if (r > w->cap + SLACK) {
                snprintf(w->err, sizeof w->err,
                         "resident %llu MiB more than before, over the cap (%llu MiB) + 16 MiB",
                         (unsigned long long)(r >> 20), (unsigned long long)(w->cap >> 20));
                return NULL;
            }
        }
    }
    return NULL;
}

/* The scenario: NULL if all held, else what failed (msg). */
static const char *big_section(size_t size, uint64_t cap, char *msg, size_t cap_msg)
{
    uint64_t base = resident(); /* the program and the library (ASan's shadow too) */
    HANDLE s = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
                                  (DWORD)(size >> 32), (DWORD)size, NULL);
    if (!s)
        return "CreateFileMappingA failed";
    uint8_t *a = MapViewOfFile(s, FILE_MAP_WRITE, 0, 0, 0);
    uint8_t *b = MapViewOfFile(s, FILE_MAP_WRITE, 0, 0, 0);
    if (!a || !b)
        return "MapViewOfFile failed";
    for (int phase = 0; phase < 2; phase++) {
        struct big w[NTHREADS];
        pthread_t th[NTHREADS];
        for (int t = 0; t < NTHREADS; t++) {
            w[t] = (struct big){ .a = a, .b = b, .pages = size / PG, .cap = cap, .base = base,
                                 .t = t, .verify = phase };
            if (start_thread(&th[t], big_worker, &w[t]) != 0)
                return "pthread_create failed";
        }
        for (int t = 0; t < NTHREADS; t++)
            pthread_join(th[t], NULL);
        for (int t = 0; t < NTHREADS; t++)
            if (w[t].err[0]) {
                snprintf(msg, cap_msg, "%s: %s", phase ? "reading" : "writing", w[t].err);
                return msg;
            }
        /* the working-set counter holds the view pages, within the cap */
        struct vmem_stats st;
        if (vmem_get_stats(&st) != 0)
            return "vmem_get_stats failed";
        if (paging_view_pages() == 0) {
            snprintf(msg, cap_msg, "no view page counted in the working set");
            return msg;
        }
        if (st.working_set > st.cap_pages + st.cap_pages / 100 + 16) {
            snprintf(msg, cap_msg, "working set %llu pages, cap %llu",
                     (unsigned long long)st.working_set, (unsigned long long)st.cap_pages);
            return msg;
        }
    }
    if (!UnmapViewOfFile(a) || !UnmapViewOfFile(b) || !CloseHandle(s))
        return "unmap or close failed";
    if (paging_view_pages() != 0) {
        snprintf(msg, cap_msg, "%llu view pages still counted after the unmaps",
                 (unsigned long long)paging_view_pages());
        return msg;
    }
    return NULL;
}

Test(section_paging, large_section_under_the_cap)
{
    /* eight times the cap (the cgroup test below runs it at 512 MiB) */
    need_view_paging(8 * MIB);
    char msg[256];
    const char *err = big_section(64 * MIB, 8 * MIB, msg, sizeof msg);
    cr_assert_null(err, "%s", err);
}

/* ---- two processes --------------------------------------------------------- */

static void tell(struct peer *p, char c)
{
    cr_assert_eq(write(p->to, &c, 1), 1);
}

static void expect(struct peer *p, char c)
{
    char got = 0;
    if (read(p->from, &got, 1) != 1) {
        int st = child_status(p->pid);
        cr_assert_fail("the peer hung up before step %c (exit %d)", c, st);
    }
    cr_assert_eq(got, c);
}

static void peer_done(struct peer *p)
{
    close(p->to);
    close(p->from);
    child_assert_ok(p->pid, "section_peer");
}

static void fill_words(uint8_t *v, size_t page, size_t from, size_t to, uint64_t gen)
{
    uint64_t *w = (uint64_t *)(v + page * PG);
    for (size_t k = from; k < to; k++)
        w[k] = page_word(page, k, gen);
}

static int words_intact(const uint8_t *v, size_t page, size_t from, size_t to, uint64_t gen)
{
    const uint64_t *w = (const uint64_t *)(v + page * PG);
    for (size_t k = from; k < to; k++)
        if (w[k] != page_word(page, k, gen))
            return 0;
    return 1;
}

Test(section_paging, two_processes_under_a_cap_each)
{
    need_view_paging(8 * MIB);
    setenv("VMEM_MAX_RESIDENT", "8M", 1); /* the peer's cap */
    size_t size = 64 * MIB, pages = size / PG;
    const char *name = unique_name("pshare");
    uint64_t base = resident();
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, name);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    struct peer p = peer_start("pshare", name);
    expect(&p, 'r');
    tell(&p, 'g');
    /* ours, and the first half of the shared pages, while the peer writes */
    for (size_t q = 0; q < pages; q++) {
        size_t pg = perm(q, pages, 3);
        if (pg % 3 == 0)
            fill_words(v, pg, 0, 512, 1);
        else if (pg % 3 == 2)
            fill_words(v, pg, 0, 256, 1);
    }
    expect(&p, 'w');
    for (size_t pg = 0; pg < pages; pg++) {
        int ok = pg % 3 == 0 ? words_intact(v, pg, 0, 512, 1)
               : pg % 3 == 1 ? words_intact(v, pg, 0, 512, 2)
                             : words_intact(v, pg, 0, 256, 1) && words_intact(v, pg, 256, 512, 2);
        cr_assert(ok, "page %zu lost a write", pg);
    }
    tell(&p, 'v');
    expect(&p, 'd');
    peer_done(&p);
    cr_assert_lt(resident() - base, 8 * MIB + SLACK, "resident %llu MiB more than before",
                 (unsigned long long)((resident() - base) >> 20));
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* In every fault mode (kernel mode maps the view unregistered: its pages
 * are brought back at once and held) the pages another process paged out
 * read back. */
Test(section_paging, pages_another_process_paged_out_read_back)
{
    need_minor_faults();
    setenv("VMEM_MAX_RESIDENT", "1M", 1);   /* the peer's cap */
    setenv("VMEM_FAULT_MODE", "thread", 1); /* the peer pages */
    const char *name = unique_name("pwrite");
    struct peer p = peer_start("pwrite", name);
    expect(&p, 'w');
    HANDLE s = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
    cr_assert_not_null(s, "OpenFileMappingA: %u", (unsigned)GetLastError());
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (size_t q = 0; q < 4096; q++) {
        size_t pg = perm(q, 4096, 4);
        cr_assert(words_intact(v, pg, 0, 512, 1), "page %zu", pg);
    }
    tell(&p, 'x');
    peer_done(&p);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* 1 if this process maps the page at addr (its page-table entry). */
static int mapped_here(int pm, const void *addr)
{
    uint64_t e = 0;
    cr_assert_eq(vm_pagemap(pm, (uintptr_t)addr, 1, &e), 0);
    return (e & PM_PRESENT) != 0;
}

Test(section_paging, trimming_keeps_another_process_write)
{
    need_view_paging(1 * MIB);
    unsetenv("VMEM_MAX_RESIDENT"); /* the peer keeps every page it maps */
    size_t size = 16 * MIB, pages = size / PG;
    const char *name = unique_name("psharepage");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, name);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    fill_words(v, 0, 0, 512, 1);
    struct peer p = peer_start("psharepage", name);
    tell(&p, 'a');
    expect(&p, 'm'); /* the peer maps page 0 */
    /* other pages until this process's page 0 is trimmed */
    int pm;
    cr_assert_eq(vm_self_open("pagemap", &pm), 0);
    volatile uint64_t sum = 0;
    for (int pass = 0; pass < 100 && mapped_here(pm, v); pass++)
        for (size_t pg = 1; pg < pages; pg++)
            sum += v[pg * PG];
    cr_assert(!mapped_here(pm, v), "page 0 was never trimmed");
    tell(&p, 't');
    expect(&p, 'y'); /* the peer wrote it after our trim */
    cr_assert(words_intact(v, 0, 0, 512, 5), "the peer's write after our trim is lost");
    fill_words(v, 0, 0, 512, 6);
    tell(&p, 'q');
    peer_done(&p);
    vm_self_close(pm);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* ---- fork ------------------------------------------------------------------ */

struct reader {
    uint8_t *v;
    size_t pages;
    int stop;
    int bad;
};

static void *keep_reading(void *p)
{
    struct reader *r = p;
    for (size_t q = 0; !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE); q++) {
        size_t pg = perm(q, r->pages, 5);
        if (pg > 1 && !page_intact(r->v, pg, 3))
            r->bad = 1;
    }
    return NULL;
}

static uint8_t *fork_view;
static size_t fork_pages;

static int child_reads(void *arg)
{
    (void)arg;
    for (size_t q = 0; q < fork_pages; q++) {
        size_t pg = perm(q, fork_pages, 9);
        if (!page_intact(fork_view, pg, 3))
            return 10;
    }
    fill_page(fork_view, 1, 9); /* a shared view: the parent sees it */
    return 0;
}

Test(section_paging, forked_child_reads_paged_out_pages)
{
    need_view_paging(4 * MIB);
    size_t size = 32 * MIB, pages = size / PG;
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, NULL);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < pages; pg++)
        fill_page(v, pg, 3);
    struct reader r = { .v = v, .pages = pages };
    pthread_t t;
    cr_assert_eq(start_thread(&t, keep_reading, &r), 0);
    fork_view = v;
    fork_pages = pages;
    child_run(child_reads, NULL, "child reading the view");
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    cr_assert_eq(r.bad, 0, "the parent's reader saw a page change");
    cr_assert(page_intact(v, 1, 9), "the child's write is not in the parent's view");
    for (size_t pg = 2; pg < pages; pg++)
        cr_assert(page_intact(v, pg, 3), "page %zu", pg);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_paging, copy_view_sees_paged_out_pages)
{
    need_view_paging(1 * MIB);
    size_t size = 8 * MIB, pages = size / PG;
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, NULL);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < pages; pg++)
        fill_page(v, pg, 4);
    uint8_t *c = map_view(s, FILE_MAP_COPY, 0, 0);
    for (size_t pg = 0; pg < pages; pg++)
        cr_assert(page_intact(c, pg, 4), "page %zu of the copy view", pg);
    fill_page(c, 0, 8);
    cr_assert(page_intact(v, 0, 4), "a copy view's write reached the section");
    assert_ok(UnmapViewOfFile(c));
    for (size_t pg = 0; pg < pages; pg++)
        cr_assert(page_intact(v, pg, 4), "page %zu", pg);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* ---- protections, VirtualLock, MEM_RESET ---------------------------------------- */

/* n pages written in view v under a 1 MiB cap (most go out); in fault
 * mode kernel, with no cap (the view is the kernel's: the calls must work
 * on it all the same). */
static uint8_t *paged_view(HANDLE *s, size_t pages, uint64_t gen)
{
    const char *mode = getenv("VMEM_FAULT_MODE");
    if (!mode || strcmp(mode, "kernel") != 0)
        need_view_paging(1 * MIB);
    *s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, pages * PG, NULL);
    uint8_t *v = map_view(*s, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < pages; pg++)
        fill_page(v, pg, gen);
    return v;
}

Test(section_paging, protection_changes_keep_the_data)
{
    HANDLE s;
    size_t pages = 2048;
    uint8_t *v = paged_view(&s, pages, 13);
    DWORD old;
    assert_ok(VirtualProtect(v, pages * PG, PAGE_READONLY, &old));
    cr_assert_eq(old, PAGE_READWRITE);
    for (size_t q = 0; q < pages; q++) {
        size_t pg = perm(q, pages, 6);
        cr_assert(page_intact(v, pg, 13), "page %zu read-only", pg);
    }
    assert_ok(VirtualProtect(v, pages * PG, PAGE_READWRITE, &old));
    for (size_t pg = 0; pg < pages; pg += 2)
        fill_page(v, pg, 14);
    for (size_t pg = 0; pg < pages; pg++)
        cr_assert(page_intact(v, pg, pg % 2 ? 13 : 14), "page %zu", pg);
    MEMORY_BASIC_INFORMATION m = query(v);
    cr_assert_eq(m.Type, MEM_MAPPED);
    cr_assert_eq(m.Protect, PAGE_READWRITE);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_paging, noaccess_view_page_is_an_access_violation, .signal = SIGSEGV)
{
    HANDLE s;
    size_t pages = 2048;
    uint8_t *v = paged_view(&s, pages, 15);
    DWORD old;
    assert_ok(VirtualProtect(v, PG, PAGE_NOACCESS, &old));
    for (size_t pg = 1; pg < pages; pg++)
        cr_assert(page_intact(v, pg, 15), "page %zu", pg);
    assert_ok(VirtualProtect(v, PG, PAGE_READWRITE, &old));
    cr_assert(page_intact(v, 0, 15), "page 0 after PAGE_NOACCESS and back");
    assert_ok(VirtualProtect(v, PG, PAGE_NOACCESS, &old));
    fprintf(stderr, "%d\n", (int)*(volatile uint8_t *)v); /* the access violation */
}

Test(section_paging, locked_view_pages_stay_mapped)
{
    HANDLE s;
    size_t pages = 2048, locked = 16;
    uint8_t *v = paged_view(&s, pages, 16);
    assert_ok(VirtualLock(v, locked * PG));
    int pm;
    cr_assert_eq(vm_self_open("pagemap", &pm), 0);
    for (int pass = 0; pass < 3; pass++)
        for (size_t pg = locked; pg < pages; pg++)
            fill_page(v, pg, 17);
    for (size_t pg = 0; pg < locked; pg++)
        cr_assert(mapped_here(pm, v + pg * PG), "locked page %zu was trimmed", pg);
    vm_self_close(pm);
    for (size_t pg = 0; pg < pages; pg++)
        cr_assert(page_intact(v, pg, pg < locked ? 16 : 17), "page %zu", pg);
    assert_ok(VirtualUnlock(v, locked * PG));
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_paging, mem_reset_keeps_view_contents)
{
    HANDLE s;
    size_t pages = 2048;
    uint8_t *v = paged_view(&s, pages, 18);
    cr_assert_eq(VirtualAlloc(v, pages * PG, MEM_RESET, PAGE_READWRITE), v);
    for (size_t pg = 0; pg < pages; pg++)
        cr_assert(page_intact(v, pg, 18), "page %zu", pg);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* ---- a slot the device changed ----------------------------------------------- */

/* The header and page 0's entry of named section obj's table, read from
 * its object in /dev/shm. */
static void read_table(const char *obj_path, struct vt_header *h, struct vt_entry *e0)
{
    int fd = open(obj_path, O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", obj_path, strerror(errno));
    cr_assert_eq(pread(fd, h, sizeof *h, 0), (ssize_t)sizeof *h);
    cr_assert_eq(pread(fd, e0, sizeof *e0, 4096), (ssize_t)sizeof *e0);
    close(fd);
}

Test(section_paging, changed_slot_is_an_inpage_error)
{
    need_view_support();
    catch_sigbus(); /* before the runtime starts (signal mode chains to it) */
    need_paging(1 * MIB);
    size_t size = 16 * MIB, pages = size / PG;
    const char *name = unique_name("crc");
    char obj[160];
    snprintf(obj, sizeof obj, "/dev/shm/libvmem.%u.%s", (unsigned)getuid(),
             strchr(name, '\\') + 1);
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, name);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < pages; pg++)
        fill_page(v, pg, 12);
    struct vt_header h;
    struct vt_entry e0;
    volatile uint64_t sum = 0;
    read_table(obj, &h, &e0);
    for (int pass = 0; pass < 100 && e0.state != VT_OUT; pass++) {
        for (size_t pg = 1; pg < pages; pg++)
            sum += v[pg * PG];
        read_table(obj, &h, &e0);
    }
    cr_assert_eq(e0.state, VT_OUT, "page 0 never went out");
    cr_assert_neq(h.slot_path[0], 0, "no slot file named");
    /* one byte of page 0's slot changed behind libvmem's back */
    int fd = open(h.slot_path, O_RDWR);
    cr_assert_geq(fd, 0, "open %s: %s", h.slot_path, strerror(errno));
    uint8_t byte;
    cr_assert_eq(pread(fd, &byte, 1, 100), 1);
    byte ^= 0x40;
    cr_assert_eq(pwrite(fd, &byte, 1, 100), 1);
    close(fd);
    uint64_t before = stats().checksum_errors, got;
    cr_assert(read_faults((volatile uint64_t *)v, &got), "a changed slot read back as data");
    cr_assert_eq(got_code, BUS_MCEERR_AR, "si_code %d", (int)got_code);
    cr_assert_eq(got_addr, (void *)v, "si_addr %p", got_addr);
    cr_assert_gt(stats().checksum_errors, before);
    for (size_t pg = 1; pg < pages; pg++)
        cr_assert(page_intact(v, pg, 12), "page %zu", pg);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* Every page out lost at once (the slot file overwritten): each access to
 * one raises SIGBUS with BUS_MCEERR_AR, however many there are. */
Test(section_paging, every_lost_page_is_an_inpage_error)
{
    need_view_support();
    catch_sigbus(); /* before the runtime starts (signal mode chains to it) */
    need_paging(1 * MIB);
    size_t size = 8 * MIB, pages = size / PG; /* more pages than vpage.c's LOST_MAX */
    const char *name = unique_name("lost");
    char obj[160];
    snprintf(obj, sizeof obj, "/dev/shm/libvmem.%u.%s", (unsigned)getuid(),
             strchr(name, '\\') + 1);
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, name);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < pages; pg++)
        fill_page(v, pg, 13);
    struct vt_header h;
    struct vt_entry e0;
    read_table(obj, &h, &e0);
    cr_assert_neq(h.slot_path[0], 0, "no slot file named");
    /* every slot overwritten behind libvmem's back */
    int fd = open(h.slot_path, O_RDWR);
    cr_assert_geq(fd, 0, "open %s: %s", h.slot_path, strerror(errno));
    static uint8_t junk[PG];
    memset(junk, 0xa5, sizeof junk);
    for (size_t pg = 0; pg < pages; pg++)
        cr_assert_eq(pwrite(fd, junk, PG, (off_t)(pg * PG)), PG);
    close(fd);
    size_t lost = 0, intact = 0;
    for (size_t pg = 0; pg < pages; pg++) {
        uint64_t got;
        if (read_faults((volatile uint64_t *)(v + pg * PG), &got)) {
            cr_assert_eq(got_code, BUS_MCEERR_AR, "page %zu (the %zuth lost): si_code %d", pg,
                         lost + 1, (int)got_code);
            lost++;
        } else {
            cr_assert(page_intact(v, pg, 13), "page %zu read back wrong", pg);
            intact++;
        }
    }
    cr_assert_gt(lost, 1100, "only %zu pages were out (%zu in RAM)", lost, intact);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* ---- a slot file that cannot be written ------------------------------------- */

Test(section_paging, full_slot_file_keeps_every_byte)
{
    need_view_support();
    if (geteuid() != 0)
        cr_skip_test("not root: cannot mount a small tmpfs");
    const char *dir = scratch_path("tiny");
    cr_assert_eq(mkdir(dir, 0700), 0);
    if (mount("tmpfs", dir, "tmpfs", 0, "size=512k") != 0)
        cr_skip_test("cannot mount a tmpfs at %s: %s", dir, strerror(errno));
    setenv("VMEM_PAGEFILE", dir, 1); /* read at start-up: before any call */
    need_paging(1 * MIB);
    size_t size = 16 * MIB, pages = size / PG;
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, NULL);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < pages; pg++)
        fill_page(v, pg, 11);
    for (size_t q = 0; q < pages; q++) {
        size_t pg = perm(q, pages, 2);
        cr_assert(page_intact(v, pg, 11), "page %zu", pg);
    }
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    vmem_shutdown(); /* the page file goes: the tmpfs can go */
    cr_assert_eq(umount(dir), 0, "umount: %s", strerror(errno));
    scratch_done();
}

/* ---- a memory cgroup just above the cap, no swap ------------------------------ */

/* Built into test_section_paging_cg only (SECTION_PAGING_CGROUP), run alone
 * and once as the meson test test_section_paging-cgroup: under the limit
 * the kernel's write-back of the slot file sets its pace, too slow to
 * share a test program's time. */
#ifdef SECTION_PAGING_CGROUP

static char cg_dir[128];

static void cg_child(void)
{
    char path[192], pid[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", cg_dir);
    FILE *f = fopen(path, "w");
    CHILD_CHECK(f, "cannot open %s", path);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    CHILD_CHECK(fputs(pid, f) >= 0 && fclose(f) == 0, "cannot join %s", cg_dir);
    setenv("VMEM_MAX_RESIDENT", "64M", 1); /* a fresh runtime: read at start-up */
    char msg[256];
    const char *err = big_section(512 * MIB, 64 * MIB, msg, sizeof msg);
    CHILD_CHECK(!err, "%s", err);
}

Test(section_paging, no_oom_in_a_cgroup_just_above_the_cap)
{
    need_view_support();
    if (geteuid() != 0)
        cr_skip_test("not root: cannot make a memory cgroup");
    if (access("/sys/fs/cgroup/memory/cgroup.procs", W_OK) != 0)
        cr_skip_test("no cgroup v1 memory controller at /sys/fs/cgroup/memory");
    FILE *sw = fopen("/proc/swaps", "r");
    char line[256];
    int swaps = 0;
    while (sw && fgets(line, sizeof line, sw))
        swaps++;
    if (sw)
        fclose(sw);
    if (swaps > 1)
        cr_skip_test("swap is on: the kernel could swap the section out instead");
    snprintf(cg_dir, sizeof cg_dir, "/sys/fs/cgroup/memory/vmem-test-%d", (int)getpid());
    cr_assert_eq(mkdir(cg_dir, 0755), 0, "mkdir %s: %s", cg_dir, strerror(errno));
    char path[192];
    snprintf(path, sizeof path, "%s/memory.limit_in_bytes", cg_dir);
    FILE *f = fopen(path, "w");
    /* the cap, the section's table (2 MiB), the program and the library;
     * under AddressSanitizer the shadow of the two views (1 GiB of address
     * space, a byte per 8) as well, which the kernel charges to the group */
    unsigned long long limit = 64 * MIB + 32 * MIB;
#ifdef __SANITIZE_ADDRESS__
    limit += 128 * MIB;
#endif
    int set = f && fprintf(f, "%llu", limit) > 0;
    set = f && fclose(f) == 0 && set;
    int st = -1;
    if (set) {
        child_msg = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        cr_assert_neq(child_msg, MAP_FAILED);
        pid_t pid = fork();
        if (pid == 0) {
            cg_child();
            _exit(0);
        }
        st = pid > 0 ? child_status(pid) : -1;
    }
    int removed = rmdir(cg_dir) == 0; /* the child gone, the group is empty */
    cr_assert(set, "cannot set the limit of %s", cg_dir);
    cr_assert_neq(st, 128 + SIGKILL, "the child was killed (OOM): %s", child_msg);
    cr_assert_eq(st, 0, "the child failed (%d): %s", st, child_msg);
    cr_assert(removed, "rmdir %s: %s", cg_dir, strerror(errno));
}
#endif

/* ---- VirtualLock of paged-out view pages with the cap full ---------------- */

/* The cap full of private pages, a view's pages paged out: VirtualLock of
 * 128 of them brings them in and locks them, with no page over the cap (the
 * view fault thread makes room through the working-set manager, which
 * VirtualLock must not keep out by holding the address-space lock while
 * the view's pages fault in). */
Test(section_paging, virtuallock_of_paged_out_view_pages)
{
    need_view_paging(1 * MIB);
    size_t priv_pages = 1024, view_pages = 512, lock_pages = 128;
    uint8_t *priv = VirtualAlloc(NULL, priv_pages * 4096, MEM_COMMIT | MEM_RESERVE,
                                 PAGE_READWRITE);
    cr_assert_not_null(priv);
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                  (DWORD)(view_pages * 4096), NULL);
    cr_assert_not_null(h);
    uint8_t *v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    cr_assert_not_null(v);
    for (size_t p = 0; p < view_pages; p++)
        fill_page(v, p, 7);
    for (size_t p = 0; p < priv_pages; p++) /* pushes the view's pages out */
        fill_page(priv, p, 8);
    uint64_t over = stats().cap_overruns;
    cr_assert(VirtualLock(v, lock_pages * 4096), "VirtualLock: error %lu",
              (unsigned long)GetLastError());
    cr_assert_eq(stats().cap_overruns, over, "%llu pages went over the cap",
                 (unsigned long long)(stats().cap_overruns - over));
    for (size_t p = 0; p < view_pages; p++)
        cr_assert(page_intact(v, p, 7), "view page %zu lost", p);
    for (size_t p = 0; p < priv_pages; p++)
        cr_assert(page_intact(priv, p, 8), "private page %zu lost", p);
    cr_assert(VirtualUnlock(v, lock_pages * 4096));
    cr_assert(UnmapViewOfFile(v));
    cr_assert(CloseHandle(h));
    cr_assert(VirtualFree(priv, 0, MEM_RELEASE));
}
