/*
 * test_section_teardown.c -- a paged view (docs/sections.md, "Paged
 * views") that goes while the section has pages out in its slot file
 * never puts zeros into the section: a process that ends (exit, return
 * from main, vmem_shutdown) while its threads read a view
 * (tests/section_peer.c, fork + exec), UnmapViewOfFile racing with reads
 * of that view, and a child of the raw fork system call (no fork
 * handlers) reading a view.  Each checks every page through another view
 * afterwards.  Where views are not paged (fault mode kernel, no minor
 * faults on shared memory) the tests skip with the reason.
 */
#include "section_util.h"


#include <pthread.h>
#include <setjmp.h>
#include <sys/syscall.h>

#define PAGES 1024 /* 4 MiB under a 1 MiB cap: most pages are out */

static void need_view_paging(void)
{
    need_view_support();
    need_paging(1 * MIB);
}

/* Pages of v not as written with gen. */
static size_t bad_pages(const uint8_t *v, uint64_t gen)
{
    size_t bad = 0;
    for (size_t pg = 0; pg < PAGES; pg++)
        bad += !page_intact(v, pg, gen);
    return bad;
}

static void fill(uint8_t *v, uint64_t gen)
{
    for (size_t pg = 0; pg < PAGES; pg++)
        fill_page(v, pg, gen);
}

/* ---- a process ending while its threads read ------------------------------ */

static void peer_ends(const char *scenario, int exits_0)
{
    need_view_paging();
    const char *exe = getenv("SECTION_PEER");
    if (!exe)
        cr_skip_test("SECTION_PEER is not set (run the test through meson)");
    setenv("VMEM_MAX_RESIDENT", "1M", 1); /* the peer's cap */
    const char *name = unique_name("pend");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, name);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (uint64_t round = 1; round <= 3; round++) {
        fill(v, round);
        int up[2];
        cr_assert_eq(pipe(up), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            char w[16];
            snprintf(w, sizeof w, "%d", up[1]);
            close(up[0]);
            execl(exe, exe, scenario, name, "0", w, (char *)NULL);
            _exit(127);
        }
        close(up[1]);
        char c = 0;
        cr_assert_eq(read(up[0], &c, 1), 1, "the peer ended before reading");
        close(up[0]);
        int st = child_status(pid);
        if (exits_0)
            cr_assert_eq(st, 0, "the peer exited with %d", st);
        size_t bad = bad_pages(v, round);
        cr_assert_eq(bad, 0, "round %d: %zu pages changed when the reading peer ended",
                     (int)round, bad);
    }
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_teardown, exit_while_threads_read) { peer_ends("pend-exit", 1); }
Test(section_teardown, return_from_main_while_threads_read) { peer_ends("pend-ret", 1); }
/* the readers then touch a view vmem_shutdown unmapped: how the peer ends
 * is not the point, the section's pages are */
Test(section_teardown, shutdown_while_threads_read) { peer_ends("pend-shutdown", 0); }

/* ---- UnmapViewOfFile racing with reads of the view ------------------------ */

static __thread sigjmp_buf *reader_jb;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    if (reader_jb)
        siglongjmp(*reader_jb, sig);
    signal(sig, SIG_DFL);
    raise(sig);
}

struct racer {
    volatile uint8_t *v;
    unsigned seed;
    unsigned long reads;
    int bad, sig;
};

static void *race_reader(void *p)
{
    struct racer *r = p;
    sigjmp_buf jb;
    int sig = sigsetjmp(jb, 1);
    if (sig) {
        /* the view went: an access violation, as on Windows */
        reader_jb = NULL;
        r->sig = sig;
        return NULL;
    }
    reader_jb = &jb;
    for (;;) {
        size_t pg = (size_t)rand_r(&r->seed) % PAGES;
        uint64_t w = ((volatile uint64_t *)(r->v + pg * PG))[pg % 512];
        if (w != page_word(pg, pg % 512, 1))
            r->bad = 1;
        __atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

Test(section_teardown, unmap_racing_reads_keeps_the_data)
{
    need_view_paging();
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, NULL);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    fill(v, 1);
    /* SIGBUS stays libvmem's (fault mode signal serves private faults) */
    struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER }, old;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGSEGV, &sa, &old), 0);
    for (int round = 0; round < 10; round++) {
        uint8_t *w = map_view(s, FILE_MAP_READ, 0, 0);
        struct racer r[3];
        pthread_t t[3];
        for (int i = 0; i < 3; i++) {
            r[i] = (struct racer){ .v = w, .seed = (unsigned)(round * 3 + i + 1) };
            cr_assert_eq(start_thread(&t[i], race_reader, &r[i]), 0);
        }
        for (int i = 0; i < 3; i++)
            while (__atomic_load_n(&r[i].reads, __ATOMIC_RELAXED) < 1000)
                sched_yield();
        assert_ok(UnmapViewOfFile(w));
        for (int i = 0; i < 3; i++) {
            pthread_join(t[i], NULL);
            cr_assert_eq(r[i].bad, 0, "round %d: a reader saw a changed page", round);
            cr_assert_eq(r[i].sig, SIGSEGV, "round %d: the unmapped view raised signal %d",
                         round, r[i].sig);
        }
        size_t bad = bad_pages(v, 1);
        cr_assert_eq(bad, 0, "round %d: %zu pages changed by the unmap", round, bad);
    }
    sigaction(SIGSEGV, &old, NULL);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* ---- the raw fork system call ------------------------------------------- */

Test(section_teardown, raw_fork_child_leaves_the_section_alone)
{
    need_view_paging();
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, NULL);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    fill(v, 1);
    pid_t pid = (pid_t)syscall(SYS_fork);
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* no fork handler ran: the view is not this process's (an access
         * is SIGSEGV) or reads the data, never zeros into the section */
        size_t zeros = 0;
        for (size_t pg = 0; pg < PAGES; pg++)
            zeros += ((volatile uint64_t *)(v + pg * PG))[0] == 0;
        syscall(SYS_exit_group, zeros ? 1 : 0);
    }
    int st = child_status(pid);
    cr_assert(st == 0 || st == 128 + SIGSEGV, "the child ended with %d", st);
    size_t bad = bad_pages(v, 1);
    cr_assert_eq(bad, 0, "%zu pages changed by the child's reads", bad);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}
