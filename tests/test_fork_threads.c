/*
 * fork of a paging process, with threads: a multi-threaded child reading
 * pages that were paged out in the parent, and forks while the parent's
 * trimmer and page writer are busy.  Every byte is checked, the child's
 * exit status too (the parent blocks in waitpid: a child that hangs
 * shows as the test's timeout).
 */
#include <criterion/criterion.h>
#include <memoryapi.h>
#include <vmem.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define PAGE 4096
#define WORDS (PAGE / 8)

/* ---- a child with threads reading its parent's paged-out memory -------- */

#define SCAN_PAGES 2048 /* 8 MiB under a 1 MiB cap */
#define SCANNERS 4

static uint64_t *scan_mem;
static pthread_barrier_t scan_start;

/* Every thread reads every page, all in the same order from the same
 * start, so they meet on pages being brought in. */
static void *scanner(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&scan_start);
    uintptr_t bad = 0;
    for (size_t i = 0; i < SCAN_PAGES && !bad; i++) {
        const volatile uint64_t *pw = scan_mem + i * WORDS;
        for (size_t k = 0; k < WORDS; k++)
            if (pw[k] != page_word(i, k, 1)) {
                bad = i + 1;
                break;
            }
    }
    return (void *)bad;
}

static void app_segv(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)si;
    (void)uctx;
    static const char msg[] = "application SIGSEGV handler called\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(3);
    _exit(3);
}

static int scan_child(void)
{
    pthread_t t[SCANNERS];
    if (pthread_barrier_init(&scan_start, NULL, SCANNERS) != 0)
        return 10;
    for (int k = 0; k < SCANNERS; k++)
        if (start_thread(&t[k], scanner, NULL) != 0)
            return 11;
    int rc = 0;
    for (int k = 0; k < SCANNERS; k++) {
        void *bad;
        pthread_join(t[k], &bad);
        if (bad && !rc)
            rc = 1; /* a page with wrong content */
    }
    return rc;
}

static void scan_in_children(int rounds)
{
    need_paging(1 * MIB);
    scan_mem = VirtualAlloc(NULL, SCAN_PAGES * PAGE, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(scan_mem);
    for (size_t i = 0; i < SCAN_PAGES; i++)
        fill_page(scan_mem, i, 1);
    wait_within_cap();
    struct vmem_stats st = stats();
    cr_assert_gt(st.trimmed_pages, SCAN_PAGES / 2, "too little was trimmed");
    for (int n = 0; n < rounds; n++) {
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0)
            _exit(scan_child());
        child_assert_ok(pid, "4 threads scanning");
    }
    /* the parent's copy is intact */
    for (size_t i = 0; i < SCAN_PAGES; i++)
        for (size_t k = 0; k < WORDS; k++)
            cr_assert_eq(scan_mem[i * WORDS + k], page_word(i, k, 1), "parent: page %zu", i);
}

Test(fork_threads, child_threads_scan_paged_out_memory)
{
    scan_in_children(3);
}

/* With an application handler chained behind libvmem's: a thread that
 * loses the race to bring a page in must not reach it. */
Test(fork_threads, child_threads_scan_with_application_handler)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = app_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0); /* before libvmem starts */
    scan_in_children(3);
}

/* A child of the child reads the pages the child had not brought in yet,
 * with its own threads, and the child then reads them too. */
static int grandchild_scan(void)
{
    /* the child brings in the first half only */
    for (size_t i = 0; i < SCAN_PAGES / 2; i++)
        for (size_t k = 0; k < WORDS; k++)
            if (scan_mem[i * WORDS + k] != page_word(i, k, 1))
                return 20;
    pid_t pid = fork();
    if (pid < 0)
        return 21;
    if (pid == 0)
        _exit(scan_child());
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 22;
    return scan_child();
}

Test(fork_threads, grandchild_scans_pages_absent_in_child)
{
    need_paging(1 * MIB);
    scan_mem = VirtualAlloc(NULL, SCAN_PAGES * PAGE, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(scan_mem);
    for (size_t i = 0; i < SCAN_PAGES; i++)
        fill_page(scan_mem, i, 1);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(grandchild_scan());
    child_assert_ok(pid, "child and grandchild scanning");
}

/* ---- forks while the trimmer and the page writer are busy -------------- */

#define BUSY_PAGES 1024 /* 4 MiB: 4x a 1 MiB cap */
#define WRITERS 2
#define BUSY_FORKS 8

static uint64_t *busy_mem;
static uint64_t busy_gen[BUSY_PAGES]; /* generation of each page's content */
static int busy_stop, busy_pause, busy_paused; /* atomics */
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pause_cond = PTHREAD_COND_INITIALIZER;

/* The application's writers stop at a page boundary while the main thread
 * forks (so the child's snapshot is known exactly); libvmem's threads do
 * not: they keep trimming and writing what was written before. */
static void *busy_writer(void *arg)
{
    size_t me = (size_t)(uintptr_t)arg;
    for (uint64_t gen = 1; !__atomic_load_n(&busy_stop, __ATOMIC_ACQUIRE); gen++) {
        for (size_t i = me; i < BUSY_PAGES; i += WRITERS) {
            if (__atomic_load_n(&busy_pause, __ATOMIC_ACQUIRE)) {
                pthread_mutex_lock(&pause_lock);
                busy_paused++;
                pthread_cond_broadcast(&pause_cond);
                while (busy_pause)
                    pthread_cond_wait(&pause_cond, &pause_lock);
                busy_paused--;
                pthread_mutex_unlock(&pause_lock);
            }
            fill_page(busy_mem, i, gen);
            busy_gen[i] = gen;
        }
    }
    return NULL;
}

static void pause_writers(void)
{
    pthread_mutex_lock(&pause_lock);
    __atomic_store_n(&busy_pause, 1, __ATOMIC_RELEASE);
    while (busy_paused < WRITERS && !__atomic_load_n(&busy_stop, __ATOMIC_ACQUIRE))
        pthread_cond_wait(&pause_cond, &pause_lock);
    pthread_mutex_unlock(&pause_lock);
}

static void resume_writers(void)
{
    pthread_mutex_lock(&pause_lock);
    __atomic_store_n(&busy_pause, 0, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pause_cond);
    pthread_mutex_unlock(&pause_lock);
}

/* The test's fork handlers: registered after libvmem's, so the pause
 * comes before libvmem's prepare and the resume after its parent
 * handler. */
static int fork_registered;
static void busy_prepare(void)
{
    if (fork_registered)
        pause_writers();
}
static void busy_parent(void)
{
    if (fork_registered)
        resume_writers();
}
static void busy_child(void)
{
    if (fork_registered) {
        /* the writers are not in the child */
        pthread_mutex_init(&pause_lock, NULL);
        fork_registered = 0;
    }
}

static int busy_check(void)
{
    for (size_t i = 0; i < BUSY_PAGES; i++)
        for (size_t k = 0; k < WORDS; k++)
            if (busy_mem[i * WORDS + k] != page_word(i, k, busy_gen[i]))
                return 1;
    return 0;
}

Test(fork_threads, fork_while_trimmer_and_writer_are_busy)
{
    need_paging(1 * MIB);
    busy_mem = VirtualAlloc(NULL, BUSY_PAGES * PAGE, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(busy_mem);
    for (size_t i = 0; i < BUSY_PAGES; i++)
        fill_page(busy_mem, i, 0);
    fork_registered = 1;
    cr_assert_eq(pthread_atfork(busy_prepare, busy_parent, busy_child), 0);
    pthread_t t[WRITERS];
    for (size_t k = 0; k < WRITERS; k++)
        cr_assert_eq(start_thread(&t[k], busy_writer, (void *)(uintptr_t)k), 0);
    int failed = 0;
    int last = 0;
    for (int n = 0; n < BUSY_FORKS; n++) {
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0)
            _exit(busy_check());
        int st = child_status(pid);
        if (st)
            failed++, last = st;
    }
    __atomic_store_n(&busy_stop, 1, __ATOMIC_RELEASE);
    resume_writers();
    for (size_t k = 0; k < WRITERS; k++)
        pthread_join(t[k], NULL);
    fork_registered = 0;
    cr_assert_eq(failed, 0,
                 "%d of %d children saw wrong data or died (last: exit %d, 128+ a signal)",
                 failed, BUSY_FORKS, last);
    for (size_t i = 0; i < BUSY_PAGES; i++)
        for (size_t k = 0; k < WORDS; k++)
            cr_assert_eq(busy_mem[i * WORDS + k], page_word(i, k, busy_gen[i]), "parent: page %zu",
                         i);
}

/* ---- every lock a child may take is free in the child ------------------- */

#include "fault/fork_paging.h"
#include "core/internal_alloc.h"
#include "pagefile/pagefile.h"
#include "paging/prefetch.h"
#include "paging/replacement.h"
#include "fault/sigchain.h"
#include "paging/standby.h"

/* A thread of the parent holds one of libvmem's locks, as its own threads
 * do without as_lock (the working-set manager emptying frames under the
 * frame lock, the reaper ending the page-file hold under the slot lock,
 * ...), when another thread forks.  It lets go as soon as the fork's
 * prepare handler asks for the lock, or else once the fork is over. */
static pthread_mutex_t *held_lock;
static int held, released; /* under hl_lock */
static pthread_mutex_t hl_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hl_cond = PTHREAD_COND_INITIALIZER;
static int hl_registered;

static void let_go(void)
{
    pthread_mutex_lock(&hl_lock);
    released = 1;
    pthread_cond_broadcast(&hl_cond);
    pthread_mutex_unlock(&hl_lock);
}

static void *holder(void *arg)
{
    (void)arg;
    cr_assert_eq(pthread_mutex_lock(held_lock), 0);
    pthread_mutex_lock(&hl_lock);
    held = 1;
    pthread_cond_broadcast(&hl_cond);
    while (!released)
        pthread_cond_wait(&hl_cond, &hl_lock);
    pthread_mutex_unlock(&hl_lock);
    cr_assert_eq(pthread_mutex_unlock(held_lock), 0);
    return NULL;
}

static void wants(pthread_mutex_t *m)
{
    if (m == held_lock)
        let_go();
}

static void hl_parent(void)
{
    if (hl_registered)
        let_go();
}

static void hl_child(void)
{
    if (hl_registered)
        pthread_mutex_init(&hl_lock, NULL); /* the holder is not in the child */
}

/* 1 if the child inherited m held. */
static int fork_with_lock_held(pthread_mutex_t *m, const char *name)
{
    held_lock = m;
    held = released = 0;
    pthread_t t;
    cr_assert_eq(start_thread(&t, holder, NULL), 0);
    pthread_mutex_lock(&hl_lock);
    while (!held)
        pthread_cond_wait(&hl_cond, &hl_lock);
    pthread_mutex_unlock(&hl_lock);
    fork_paging_lock_hook = wants;
    pid_t pid = fork();
    if (pid == 0) {
        int e = pthread_mutex_trylock(m);
        if (e)
            _exit(1); /* inherited held: the first thing needing it hangs */
        pthread_mutex_unlock(m);
        /* and the API works in the child */
        uint64_t *q = VirtualAlloc(NULL, 64 * PAGE, MEM_COMMIT, PAGE_READWRITE);
        if (!q)
            _exit(2);
        for (size_t i = 0; i < 64; i++)
            fill_page(q, i, 7);
        for (size_t i = 0; i < 64 * WORDS; i++)
            if (q[i] != page_word(i / WORDS, i % WORDS, 7))
                _exit(2);
        _exit(VirtualFree(q, 0, MEM_RELEASE) ? 0 : 2);
    }
    fork_paging_lock_hook = NULL;
    cr_assert_neq(pid, -1);
    pthread_join(t, NULL);
    int st = child_status(pid);
    cr_assert(st < 128, "%s: the child died of signal %d", name, st - 128);
    if (st == 1) {
        cr_log_error("the child inherited the %s held", name);
        return 1;
    }
    cr_assert_eq(st, 0, "%s: the API failed in the child", name);
    return 0;
}

/* No paging here: a holder of an inner lock that waits for the fork would
 * also stop libvmem's own threads that need it under as_lock, which the
 * prepare handler waits for -- a deadlock of the test's making. */
Test(fork_threads, no_lock_inherited_held)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0); /* libvmem started, its handlers registered */
    hl_registered = 1;
    cr_assert_eq(pthread_atfork(NULL, hl_parent, hl_child), 0);
    int bad = fork_with_lock_held(sigchain_fork_lock(), "signal chain lock") +
              fork_with_lock_held(replacement_fork_lock(), "replacement policy lock") +
              fork_with_lock_held(prefetch_fork_lock(), "prefetch lock") +
              fork_with_lock_held(standby_fork_lock(), "standby frame lock") +
              fork_with_lock_held(pagefile_fork_lock(), "page-file slot lock") +
              fork_with_lock_held(ialloc_fork_lock(), "internal allocator lock");
    cr_assert_eq(bad, 0, "%d of 6 locks were inherited held", bad);
}
