/*
 * test_section_leftovers.c -- the map counts of a page-file section's
 * pages (docs/sections.md, "Paged views", "Map counts and the processes
 * gone") survive no process: a process (tests/section_peer.c, fork + exec)
 * that maps a section and is killed, calls _exit or exec, or returns from
 * main has its counts taken back by the survivors, whose unmap then brings
 * every page out to the slot file and out of the section's memory, every
 * byte reading back; a page a live process maps stays in; the last unmap
 * with a handle still open releases the pages' memory; two survivors
 * taking back one dead process's record (its reaper killed half way)
 * subtract each page once; and a section whose records are all taken
 * refuses a view cleanly.
 *
 * The section's table is read from its object in /dev/shm (named
 * sections).  In fault mode kernel views are pinned (every page counted
 * while mapped): the same holds.
 */
#include "section_util.h"

#include "os/shm.h"
#include "os/page.h"
#include "section/vpage.h"
#include "section/vtable.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PAGES 2048 /* 8 MiB; the peers' cap is 1 MiB */
#define LIVE 64    /* pages the live peer maps (section_peer.c, leave-live) */

static const char *obj_path(const char *name)
{
    static char obj[160];
    snprintf(obj, sizeof obj, "/dev/shm/libvmem.%u.%s", (unsigned)getuid(),
             strchr(name, '\\') + 1);
    return obj;
}

/* The entries of named section `name`'s table (PAGES of them). */
static void read_entries(const char *name, struct vt_entry *e)
{
    int fd = open(obj_path(name), O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", obj_path(name), strerror(errno));
    size_t n = PAGES * sizeof *e;
    cr_assert_eq(pread(fd, e, n, 4096), (ssize_t)n);
    close(fd);
}

/* 1 if the section's memory holds no page of data (all punched out). */
static int no_data_in_memory(const char *name)
{
    int fd = open(obj_path(name), O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", obj_path(name), strerror(errno));
    off_t at = lseek(fd, (off_t)vt_data_off((uint64_t)PAGES * PG), SEEK_DATA);
    int err = errno;
    close(fd);
    cr_assert(at >= 0 || err == ENXIO, "SEEK_DATA: %s", strerror(err));
    return at < 0;
}

static int words_intact(const uint8_t *v, size_t page, uint64_t gen)
{
    const uint64_t *w = (const uint64_t *)(v + page * PG);
    for (size_t k = 0; k < 512; k++)
        if (w[k] != page_word(page, k, gen))
            return 0;
    return 1;
}

/* Pages [from, to) all OUT and mapped by no process. */
static void assert_out(const struct vt_entry *e, size_t from, size_t to, const char *when)
{
    for (size_t pg = from; pg < to; pg++) {
        cr_assert_eq(e[pg].maps, 0, "%s: page %zu still counted %u times", when, pg,
                     (unsigned)e[pg].maps);
        cr_assert_eq(e[pg].state, VT_OUT, "%s: page %zu in state %u, not out", when, pg,
                     (unsigned)e[pg].state);
    }
}

/* Maps the whole section, checks every byte (gen 7), unmaps. */
static void assert_reads_back(HANDLE s)
{
    uint8_t *v = map_view(s, FILE_MAP_READ, 0, 0);
    for (size_t pg = 0; pg < PAGES; pg++)
        cr_assert(words_intact(v, pg, 7), "page %zu did not read back", pg);
    assert_ok(UnmapViewOfFile(v));
}

/* ---- a peer (section_peer.c) -------------------------------------------- */

static void expect(struct peer *p, char c)
{
    char got = 0;
    if (read(p->from, &got, 1) != 1) {
        int st = child_status(p->pid);
        cr_assert_fail("the peer hung up before step %c (exit %d)", c, st);
    }
    cr_assert_eq(got, c);
}

/* The peer's end, as `how` has it: killed, or its own exit status 0. */
static void peer_ends(struct peer *p, int killed)
{
    if (killed)
        cr_assert_eq(kill(p->pid, SIGKILL), 0);
    int st = child_status(p->pid);
    cr_assert_eq(st, killed ? 128 + SIGKILL : 0, "the peer ended with %d", st);
    close(p->to);
    close(p->from);
}

/* ---- a process ends with its pages counted ------------------------------- */

static void peer_leaves(const char *how)
{
    need_minor_faults();
    setenv("VMEM_MAX_RESIDENT", "1M", 1); /* the peer's */
    const char *name = unique_name(how);
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, name);
    struct peer p = peer_start(how, name);
    expect(&p, 'w'); /* every page written, some still mapped (all: pinned) */
    peer_ends(&p, strcmp(how, "leave-kill") == 0);
    /* a view mapped and unmapped untouched (pinned: every page in and
     * out again): the dead peer's counts are taken back, every page out */
    uint8_t *v = map_view(s, FILE_MAP_READ, 0, 0);
    assert_ok(UnmapViewOfFile(v));
    static struct vt_entry e[PAGES];
    read_entries(name, e);
    assert_out(e, 0, PAGES, how);
    cr_assert(no_data_in_memory(name), "%s: pages left in the section's memory", how);
    assert_reads_back(s);
    assert_ok(CloseHandle(s));
}

Test(section_leftovers, a_killed_process_counts_go) { peer_leaves("leave-kill"); }
Test(section_leftovers, an_exited_process_counts_go) { peer_leaves("leave-exit"); }
Test(section_leftovers, an_execd_process_counts_go) { peer_leaves("leave-exec"); }
/* pinned views (fault mode kernel) stay counted at a normal exit */
Test(section_leftovers, a_returned_process_counts_go) { peer_leaves("leave-ret"); }

/* ---- a page a live process maps stays ------------------------------------ */

Test(section_leftovers, a_page_a_live_process_maps_stays_in)
{
    need_minor_faults();
    setenv("VMEM_MAX_RESIDENT", "1M", 1); /* the peers' */
    const char *name = unique_name("leave-live");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, name);
    struct peer dead = peer_start("leave-kill", name);
    expect(&dead, 'w');
    struct peer live = peer_start("leave-live", name);
    expect(&live, 'w'); /* it maps pages [0, LIVE) */
    peer_ends(&dead, 1);
    uint8_t *v = map_view(s, FILE_MAP_READ, 0, 0);
    assert_ok(UnmapViewOfFile(v));
    static struct vt_entry e[PAGES];
    read_entries(name, e);
    for (size_t pg = 0; pg < LIVE; pg++) {
        cr_assert_eq(e[pg].maps, 1, "page %zu counted %u times, the live peer maps it", pg,
                     (unsigned)e[pg].maps);
        /* IN_RAM, or NEVER where a pinned view wrote it (fault mode kernel) */
        cr_assert_neq(e[pg].state, VT_OUT, "page %zu the live peer maps went out", pg);
    }
    assert_out(e, LIVE, PAGES, "the dead peer's pages");
    cr_assert_eq(write(live.to, "q", 1), 1);
    peer_ends(&live, 0); /* it checked its pages again and unmapped them */
    read_entries(name, e);
    assert_out(e, 0, PAGES, "the live peer gone");
    assert_reads_back(s);
    assert_ok(CloseHandle(s));
}

/* ---- a faulting thread goes on with its page recorded --------------------- */

/* Set by the faulting thread once it has read the table after its fault. */
static int fault_back;

/* The view thread, between installing a page and recording it: waits a
 * while for the faulting thread (bounded: with the page recorded first,
 * that thread is not woken until this returns). */
static void hold_the_record(void)
{
    for (unsigned k = 0; k < 100000 && !__atomic_load_n(&fault_back, __ATOMIC_ACQUIRE); k++)
        sched_yield();
}

/* A thread that goes on after its fault finds its page recorded: state
 * IN_RAM and counted.  Were it woken first (by the UFFDIO_COPY or
 * UFFDIO_ZEROPAGE itself), a process that ended there would leave a page
 * copied in but still OUT, whose memory copy the next taker punches: a
 * write made meanwhile would be lost. */
static void fault_finds_page_recorded(uint8_t *v, size_t pg, const char *name, const char *what)
{
    static struct vt_entry e[PAGES];
    __atomic_store_n(&fault_back, 0, __ATOMIC_RELEASE);
    vpage_test_installed = hold_the_record;
    uint8_t got = ((volatile uint8_t *)v)[pg * PG + 8];
    read_entries(name, e);
    __atomic_store_n(&fault_back, 1, __ATOMIC_RELEASE);
    vpage_test_installed = NULL;
    (void)got;
    cr_assert_eq(e[pg].state, VT_IN_RAM, "%s: the faulting thread went on with page %zu in "
                 "state %u", what, pg, (unsigned)e[pg].state);
    cr_assert_eq(e[pg].maps, 1, "%s: the faulting thread went on with page %zu counted %u "
                 "times", what, pg, (unsigned)e[pg].maps);
}

Test(section_leftovers, a_faulting_thread_goes_on_with_its_page_recorded)
{
    need_view_support();
    const char *name = unique_name("recorded");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, name);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    fill_page(v, 0, 7);
    assert_ok(UnmapViewOfFile(v)); /* page 0 goes out to its slot */
    v = map_view(s, FILE_MAP_WRITE, 0, 0);
    fault_finds_page_recorded(v, 0, name, "a page read back (UFFDIO_COPY)");
    fault_finds_page_recorded(v, 1, name, "a page never written (UFFDIO_ZEROPAGE)");
    cr_assert(words_intact(v, 0, 7), "page 0 did not read back");
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* ---- a view is not readable before it is registered --------------------- */

/* The permissions /proc/self/maps gives the mapping at base, at the moment
 * its view is attached (before its registration). */
static char attach_perms[8];

static void note_perms(uintptr_t base, size_t len)
{
    (void)len;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo <= base && base < hi) {
            memcpy(attach_perms, perms, sizeof perms);
            break;
        }
    }
    if (f)
        fclose(f);
}

/* A read through the shared mapping before it is registered would put a
 * zero page into the section's memory where a page is out (a thread may
 * still hold a pointer into an earlier view at the same address): the
 * mapping gives no access until then. */
Test(section_leftovers, a_view_gives_no_access_before_it_is_registered)
{
    need_view_support();
    const char *name = unique_name("noaccess");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, name);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    fill_page(v, 0, 7);
    assert_ok(UnmapViewOfFile(v)); /* page 0 goes out */
    attach_perms[0] = 0;
    vpage_test_attaching = note_perms;
    v = map_view(s, FILE_MAP_WRITE, 0, 0);
    vpage_test_attaching = NULL;
    cr_assert(attach_perms[0], "the view's mapping not found in /proc/self/maps");
    cr_assert(attach_perms[0] != 'r' && attach_perms[1] != 'w',
              "the view was mapped %s before its registration", attach_perms);
    cr_assert(words_intact(v, 0, 7), "page 0 did not read back");
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* ---- a relative page-file directory ---------------------------------------- */

/* A named section made now (the working directory relative paths were
 * given from): its table records its slot file absolute, and the name
 * opens from another directory. */
static void recorded_absolute(const char *name)
{
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, name);
    int fd = open(obj_path(name), O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", obj_path(name), strerror(errno));
    static struct vt_header h;
    cr_assert_eq(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    close(fd);
    cr_assert_eq(h.slot_path[0], '/', "the slot file is recorded as %s", h.slot_path);
    cr_assert_eq(chdir("/"), 0); /* another directory: the name still opens */
    HANDLE o = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    cr_assert_not_null(o, "OpenFileMappingA: %lu", (unsigned long)GetLastError());
    assert_ok(CloseHandle(o));
    assert_ok(CloseHandle(s));
    scratch_done();
}

/* A named section's table records its slot file for other processes (and
 * for its removal): an absolute path, whatever their working directories. */
Test(section_leftovers, a_relative_pagefile_directory_is_recorded_absolute)
{
    need_minor_faults();
    const char *dir = scratch_path("pf");
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %s", dir, strerror(errno));
    cr_assert_eq(chdir(scratch_dir), 0);
    setenv("VMEM_PAGEFILE", "pf", 1); /* read at start-up: before any call */
    const char *name = unique_name("relative");
    recorded_absolute(name);
}

/* The same with no VMEM_PAGEFILE and a relative TMPDIR (slot files go
 * there): made absolute when the section is made. */
Test(section_leftovers, a_relative_tmpdir_is_recorded_absolute)
{
    need_minor_faults();
    const char *dir = scratch_path("tmp");
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %s", dir, strerror(errno));
    cr_assert_eq(chdir(scratch_dir), 0);
    unsetenv("VMEM_PAGEFILE");
    setenv("TMPDIR", "tmp", 1);
    const char *name = unique_name("relative-tmp");
    recorded_absolute(name);
}

/* ---- the last unmap with a handle open ----------------------------------- */

Test(section_leftovers, the_last_unmap_releases_the_memory)
{
    need_minor_faults();
    const char *name = unique_name("lastunmap");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, name);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < PAGES; pg++)
        fill_page(v, pg, 7);
    for (size_t pg = 0; pg < PAGES; pg++) /* fill_page's words are page_word's */
        cr_assert(words_intact(v, pg, 7));
    assert_ok(UnmapViewOfFile(v));
    static struct vt_entry e[PAGES];
    read_entries(name, e);
    assert_out(e, 0, PAGES, "after the unmap");
    cr_assert(no_data_in_memory(name), "pages left in the section's memory");
    assert_reads_back(s);
    assert_ok(CloseHandle(s));
}

/* ---- records run out ------------------------------------------------------- */

Test(section_leftovers, no_free_record_fails_the_view_cleanly)
{
    need_minor_faults();
    const char *name = unique_name("records");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, name);
    int fd = open(obj_path(name), O_RDWR);
    cr_assert_geq(fd, 0);
    uint64_t off = vt_data_off((uint64_t)PAGES * PG);
    /* VT_RECORDS live holders (each description is a process to the
     * section): every record taken */
    static struct vtable t[VT_RECORDS];
    for (int i = 0; i < VT_RECORDS; i++) {
        cr_assert_eq(vt_map(fd, off, (uint64_t)PAGES * PG, &t[i]), 0);
        cr_assert_eq(vt_record_take(&t[i]), 0, "record %d", i);
    }
    assert_null_fails(ERROR_NOT_ENOUGH_MEMORY, MapViewOfFile(s, FILE_MAP_WRITE, 0, 0, 0));
    vt_record_put(&t[0]);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    fill_page(v, 0, 3);
    assert_ok(UnmapViewOfFile(v));
    for (int i = 0; i < VT_RECORDS; i++)
        vt_unmap(&t[i]);
    close(fd);
    assert_ok(CloseHandle(s));
}

/* ---- two survivors, one dead record ---------------------------------------- */

#define NP 256 /* pages of the bare table */

static int mem_fd = -1;
static uint32_t *calls; /* per page: unmapped() calls, in every process */

static void unmapped(void *arg, struct vt_entry *e, uint64_t pg)
{
    (void)arg;
    (void)e;
    __atomic_add_fetch(&calls[pg], 1, __ATOMIC_RELAXED);
}

/* In a process of the raw fork system call (no fork handler: it shares
 * nothing of the parent's tables it uses): run fn and exit with its
 * status. */
static int in_raw_child(void (*fn)(void))
{
    pid_t pid = (pid_t)syscall(SYS_fork);
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        fn();
        syscall(SYS_exit_group, 0);
    }
    return child_status(pid);
}

static uint64_t table_off(void) { return vt_data_off(NP * PAGE_SZ); }

/* A process that counts every page, then dies. */
static void count_all_and_die(void)
{
    struct vtable t;
    if (vt_map(mem_fd, table_off(), NP * PAGE_SZ, &t) || vt_record_take(&t))
        syscall(SYS_exit_group, 3);
    for (size_t pg = 0; pg < NP; pg++) {
        vt_lock(&t, &t.ent[pg]);
        vt_count_up(&t, &t.ent[pg]);
        vt_unlock(&t.ent[pg]);
    }
}

/* A survivor killed half way through taking a record back: it dies
 * holding a page's lock, the record claimed. */
static int reaped_before_death;
static void die_in_the_fifth(void *arg, struct vt_entry *e, uint64_t pg)
{
    unmapped(arg, e, pg);
    if (++reaped_before_death == 5)
        syscall(SYS_exit_group, 0);
}

static void reap_and_die(void)
{
    struct vtable t;
    if (vt_map(mem_fd, table_off(), NP * PAGE_SZ, &t))
        syscall(SYS_exit_group, 3);
    vt_reap(&t, die_in_the_fifth, NULL);
    syscall(SYS_exit_group, 4); /* never: the record had pages */
}

struct survivor {
    struct vtable t;
    int *go;
    unsigned reaped;
};

static void *survive(void *p)
{
    struct survivor *s = p;
    while (!__atomic_load_n(s->go, __ATOMIC_ACQUIRE))
        ;
    s->reaped = vt_reap(&s->t, unmapped, NULL);
    return NULL;
}

Test(section_leftovers, two_survivors_take_a_dead_record_back_once)
{
    cr_assert_eq(os_memfd("test-records", &mem_fd), 0);
    cr_assert_eq(ftruncate(mem_fd, (off_t)(table_off() + NP * PAGE_SZ)), 0);
    cr_assert_eq(vt_format(mem_fd, NP * PAGE_SZ, "", 0), 0);
    calls = mmap(NULL, NP * sizeof *calls, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
    cr_assert_neq(calls, MAP_FAILED);
    /* a live process (this one) counts the even pages */
    struct vtable live;
    cr_assert_eq(vt_map(mem_fd, table_off(), NP * PAGE_SZ, &live), 0);
    cr_assert_eq(vt_record_take(&live), 0);
    for (size_t pg = 0; pg < NP; pg += 2) {
        vt_lock(&live, &live.ent[pg]);
        vt_count_up(&live, &live.ent[pg]);
        vt_unlock(&live.ent[pg]);
    }
    static struct survivor sv[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(vt_map(mem_fd, table_off(), NP * PAGE_SZ, &sv[i].t), 0);
    for (int round = 0; round < 40; round++) {
        memset(calls, 0, NP * sizeof *calls);
        cr_assert_eq(in_raw_child(count_all_and_die), 0);
        for (size_t pg = 0; pg < NP; pg++)
            cr_assert_eq(live.ent[pg].maps, pg % 2 ? 1u : 2u, "round %d: page %zu counted %u",
                         round, pg, (unsigned)live.ent[pg].maps);
        /* every other round a first reaper dies half way */
        if (round % 2)
            cr_assert_eq(in_raw_child(reap_and_die), 0);
        int go = 0;
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            sv[i].go = &go;
            sv[i].reaped = 0;
            cr_assert_eq(start_thread(&th[i], survive, &sv[i]), 0);
        }
        __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        cr_assert_eq(sv[0].reaped + sv[1].reaped, 1, "round %d: the record taken back %u times",
                     round, sv[0].reaped + sv[1].reaped);
        for (size_t pg = 0; pg < NP; pg++) {
            /* odd pages: subtracted once, no process maps them now, said
             * so (the dead process's last page maybe twice); even: the
             * live record's count stays */
            cr_assert_eq(live.ent[pg].maps, pg % 2 ? 0u : 1u, "round %d: page %zu counted %u",
                         round, pg, (unsigned)live.ent[pg].maps);
            if (pg % 2)
                cr_assert_geq(calls[pg], 1, "round %d: page %zu never said unmapped", round, pg);
            else
                cr_assert_eq(calls[pg], 0, "round %d: page %zu said unmapped", round, pg);
            /* free, or held by the dead reaper: taken over */
            cr_assert_eq(vt_trylock(&live, &live.ent[pg]), 0, "round %d: page %zu held", round,
                         pg);
            vt_unlock(&live.ent[pg]);
        }
        for (int r = 0; r < VT_RECORDS; r++)
            cr_assert(r == live.rec || live.owners[r] == 0, "round %d: record %d left %#x",
                      round, r, live.owners[r]);
    }
    for (int i = 0; i < 2; i++)
        vt_unmap(&sv[i].t);
    vt_unmap(&live);
    munmap(calls, NP * sizeof *calls);
    close(mem_fd);
}

/* A page of the dead record held by a live process (stopped, say): the
 * survivor does not wait on it; the record stays for a later look, which
 * finishes it. */
Test(section_leftovers, a_page_a_live_process_holds_delays_the_record)
{
    cr_assert_eq(os_memfd("test-records", &mem_fd), 0);
    cr_assert_eq(ftruncate(mem_fd, (off_t)(table_off() + NP * PAGE_SZ)), 0);
    cr_assert_eq(vt_format(mem_fd, NP * PAGE_SZ, "", 0), 0);
    calls = mmap(NULL, NP * sizeof *calls, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
    cr_assert_neq(calls, MAP_FAILED);
    struct vtable holder, survivor;
    cr_assert_eq(vt_map(mem_fd, table_off(), NP * PAGE_SZ, &holder), 0);
    cr_assert_eq(vt_map(mem_fd, table_off(), NP * PAGE_SZ, &survivor), 0);
    cr_assert_eq(in_raw_child(count_all_and_die), 0);
    vt_lock(&holder, &holder.ent[100]);
    cr_assert_eq(vt_reap(&survivor, unmapped, NULL), 0, "taken back past a held page");
    for (size_t pg = 0; pg < 100; pg++)
        cr_assert_eq(survivor.ent[pg].maps, 0, "page %zu", pg);
    for (size_t pg = 100; pg < NP; pg++)
        cr_assert_eq(survivor.ent[pg].maps, 1, "page %zu", pg);
    vt_unlock(&holder.ent[100]);
    cr_assert_eq(vt_reap(&survivor, unmapped, NULL), 1);
    for (size_t pg = 0; pg < NP; pg++) {
        cr_assert_eq(survivor.ent[pg].maps, 0, "page %zu", pg);
        cr_assert_geq(calls[pg], 1, "page %zu", pg);
    }
    for (int r = 0; r < VT_RECORDS; r++)
        cr_assert_eq(survivor.owners[r], 0, "record %d left %#x", r, survivor.owners[r]);
    vt_unmap(&survivor);
    vt_unmap(&holder);
    munmap(calls, NP * sizeof *calls);
    close(mem_fd);
}
