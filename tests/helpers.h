/*
 * helpers.h -- what the Criterion tests share: sizes; Win32 calls that must
 * fail with one last error, and the run VirtualQuery reports; committed
 * memory; the invalid protections; scenarios run in a forked child or a
 * thread of their own; paging under a small cap; counter snapshots and page
 * states; SIGBUS caught around one access; and waits for the working-set
 * manager and the page writer to reach a state.
 *
 * Every wait here is on the state itself: a blocking call where there is an
 * event (waitpid, pthread_join, a pipe), else a loop that re-checks the
 * state and yields the CPU in between.  None has a deadline: a hang is
 * caught by the harness's per-test timeout (tests/meson.build), never by a
 * clock in the test.  Header only: each test file is one program.
 */
#ifndef VMEM_TEST_HELPERS_H
#define VMEM_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vmem.h>

#include "core/pte.h"
#include "core/region.h"
#include "core/runtime.h"
#include "paging/page_writer.h"

#define PG   ((size_t)4096)
#define GRAN ((size_t)65536)
#define MIB  ((size_t)1 << 20)

/* ---- Win32 checks ---------------------------------------------------------- */

/* VirtualQuery of p, which must succeed; the buffer starts as garbage so a
 * field left unset shows. */
static inline MEMORY_BASIC_INFORMATION query(const void *p)
{
    MEMORY_BASIC_INFORMATION m;
    memset(&m, 0xCC, sizeof m);
    cr_assert_eq(VirtualQuery(p, &m, sizeof m), sizeof m, "VirtualQuery(%p): error %u", p,
                 (unsigned)GetLastError());
    return m;
}

/* The run at p has exactly this base, size, state and protection. */
static inline void assert_run(const char *p, size_t size, DWORD state, DWORD protect)
{
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.BaseAddress, (void *)p);
    cr_assert_eq(m.State, state, "%p: State %#x, want %#x", (void *)p, (unsigned)m.State,
                 (unsigned)state);
    cr_assert_eq(m.RegionSize, size, "%p: RegionSize %#zx, want %#zx", (void *)p,
                 m.RegionSize, size);
    cr_assert_eq(m.Protect, protect, "%p: Protect %#x, want %#x", (void *)p,
                 (unsigned)m.Protect, (unsigned)protect);
}

/* Releases the reservation at p, which must succeed. */
static inline void release(void *p)
{
    cr_assert(VirtualFree(p, 0, MEM_RELEASE), "release %p: error %u", p,
              (unsigned)GetLastError());
}

/* size bytes reserved and committed with protection prot. */
static inline void *alloc_committed(size_t size, DWORD prot)
{
    void *p = VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, prot);
    cr_assert_not_null(p, "VirtualAlloc %#zx, %#x: error %u", size, (unsigned)prot,
                       (unsigned)GetLastError());
    return p;
}

/* VirtualProtect, which must succeed; returns the old protection. */
static inline DWORD protect(void *p, size_t size, DWORD prot)
{
    DWORD old = 0xDEADBEEF;
    cr_assert(VirtualProtect(p, size, prot, &old), "VirtualProtect(%p, %#zx, %#x): error %u",
              p, size, (unsigned)prot, (unsigned)GetLastError());
    return old;
}

/* `call` (a BOOL) must succeed. */
#define assert_ok(call)                                                             \
    cr_assert((call), "%s failed: GetLastError %u", #call, (unsigned)GetLastError())

/* `call` (a BOOL) must return FALSE with exactly this last error. */
#define assert_fails(err, call)                                                     \
    do {                                                                            \
        SetLastError(0);                                                            \
        BOOL ok_ = (call);                                                          \
        DWORD e_ = GetLastError();                                                  \
        cr_assert_eq(ok_, FALSE, "%s should fail", #call);                          \
        cr_assert_eq(e_, (DWORD)(err), "%s: GetLastError %u, want %u", #call,       \
                     (unsigned)e_, (unsigned)(err));                                \
    } while (0)

/* VirtualAlloc must fail with exactly this last error. */
#define assert_alloc_fails(err, addr, size, type, prot)                           \
    do {                                                                          \
        SetLastError(0);                                                          \
        void *r_ = VirtualAlloc((addr), (size), (type), (prot));                  \
        DWORD e_ = GetLastError();                                                \
        cr_assert_null(r_, "VirtualAlloc(%p, %#zx, %#x, %#x) should fail",        \
                       (void *)(addr), (size_t)(size), (unsigned)(type),          \
                       (unsigned)(prot));                                         \
        cr_assert_eq(e_, (DWORD)(err),                                            \
                     "VirtualAlloc(%p, %#zx, %#x, %#x): GetLastError %u, want %u", \
                     (void *)(addr), (size_t)(size), (unsigned)(type),            \
                     (unsigned)(prot), (unsigned)e_, (unsigned)(err));            \
    } while (0)

/* VirtualFree must return FALSE with exactly this last error. */
#define assert_free_fails(err, addr, size, type)                                  \
    do {                                                                          \
        SetLastError(0);                                                          \
        BOOL ok_ = VirtualFree((addr), (size), (type));                           \
        DWORD e_ = GetLastError();                                                \
        cr_assert_eq(ok_, FALSE, "VirtualFree(%p, %#zx, %#x) should fail",        \
                     (void *)(addr), (size_t)(size), (unsigned)(type));           \
        cr_assert_eq(e_, (DWORD)(err),                                            \
                     "VirtualFree(%p, %#zx, %#x): GetLastError %u, want %u",      \
                     (void *)(addr), (size_t)(size), (unsigned)(type),            \
                     (unsigned)e_, (unsigned)(err));                              \
    } while (0)

/* VirtualProtect must return FALSE with exactly this last error. */
#define assert_protect_fails(err, addr, size, prot, oldp)                             \
    do {                                                                              \
        SetLastError(0);                                                              \
        BOOL ok_ = VirtualProtect((addr), (size), (prot), (oldp));                    \
        DWORD e_ = GetLastError();                                                    \
        cr_assert_eq(ok_, FALSE, "VirtualProtect(%p, %#zx, %#x) should fail",         \
                     (void *)(addr), (size_t)(size), (unsigned)(prot));               \
        cr_assert_eq(e_, (DWORD)(err),                                                \
                     "VirtualProtect(%p, %#zx, %#x): GetLastError %u, want %u",       \
                     (void *)(addr), (size_t)(size), (unsigned)(prot), (unsigned)e_,  \
                     (unsigned)(err));                                                \
    } while (0)

/* VirtualQuery must return 0 with exactly this last error. */
#define assert_query_fails(err, addr, buf, len)                                     \
    do {                                                                            \
        SetLastError(0);                                                            \
        SIZE_T n_ = VirtualQuery((addr), (buf), (len));                             \
        DWORD e_ = GetLastError();                                                  \
        cr_assert_eq(n_, 0u, "VirtualQuery(%p, len %zu) returned %zu",              \
                     (const void *)(addr), (size_t)(len), (size_t)n_);              \
        cr_assert_eq(e_, (DWORD)(err), "VirtualQuery(%p): GetLastError %u, want %u", \
                     (const void *)(addr), (unsigned)e_, (unsigned)(err));          \
    } while (0)

/* Protections VirtualAlloc and VirtualProtect refuse with
 * ERROR_INVALID_PARAMETER: no base protection or two, copy-on-write, a
 * modifier alone or with PAGE_NOACCESS, two modifiers, unknown bits. */
static const DWORD bad_protects[] = {
    0,
    PAGE_READONLY | PAGE_READWRITE,
    PAGE_READWRITE | PAGE_EXECUTE,
    PAGE_WRITECOPY,
    PAGE_EXECUTE_WRITECOPY,
    PAGE_GUARD,
    PAGE_GUARD | PAGE_NOACCESS,
    PAGE_NOCACHE | PAGE_GUARD,
    PAGE_READWRITE | PAGE_NOCACHE | PAGE_GUARD,
    PAGE_NOCACHE | PAGE_NOACCESS,
    PAGE_WRITECOMBINE | PAGE_NOCACHE,
    PAGE_READWRITE | PAGE_WRITECOMBINE | PAGE_NOCACHE,
    PAGE_WRITECOMBINE | PAGE_GUARD,
    PAGE_READWRITE | PAGE_WRITECOMBINE | PAGE_GUARD,
    PAGE_WRITECOMBINE | PAGE_NOACCESS,
    0x800,
    PAGE_READWRITE | 0x800,
};
#define NBAD_PROTECTS (sizeof bad_protects / sizeof bad_protects[0])

/* ---- scenarios in a child process or a thread -------------------------------- */

/* Waits for child pid (blocking).  Returns its exit status, or 128 + the
 * signal that killed it. */
static inline int child_status(pid_t pid)
{
    int st;
    pid_t got;
    while ((got = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    cr_assert_eq(got, pid, "waitpid: %s", strerror(errno));
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* Reads fd to its end into out (at most size - 1 bytes, then a NUL) and
 * closes it: a child's stderr through a pipe. */
static inline void read_to_end(int fd, char *out, size_t size)
{
    size_t n = 0;
    ssize_t k;
    while (n < size - 1 && (k = read(fd, out + n, size - 1 - n)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        cr_assert_geq(k, 0, "read: %s", strerror(errno));
        n += (size_t)k;
    }
    out[n] = 0;
    close(fd);
}

/* Waits for child pid and asserts it exited with 0; `what` names it. */
static inline void child_assert_ok(pid_t pid, const char *what)
{
    int st = child_status(pid);
    cr_assert(st < 128, "%s: the child died of signal %d", what, st - 128);
    cr_assert_eq(st, 0, "%s: the child exited with %d", what, st);
}

/* Runs fn(arg) in a forked child, which exits with fn's result (0 = all
 * good), and asserts it did so.  A forked child runs libvmem in fault mode
 * kernel: scenarios that need userfaultfd run in a thread (thread_run). */
static inline void child_run(int (*fn)(void *), void *arg, const char *what)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0)
        _exit(fn(arg));
    child_assert_ok(pid, what);
}

/* Scenarios run by run_child report a failure (or a reason to skip) in a
 * page shared with the parent. */
#define CHILD_SKIP 77
__attribute__((unused)) static char *child_msg;

static inline void child_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(child_msg, PG, fmt, ap);
    va_end(ap);
}

/* In a run_child scenario: ends the child with a failure unless cond. */
#define CHILD_CHECK(cond, ...)                                               \
    do {                                                                     \
        if (!(cond)) {                                                       \
            child_say(__VA_ARGS__);                                          \
            _exit(1);                                                        \
        }                                                                    \
    } while (0)

/* Runs fn in a forked child with a fresh runtime (a page that faults
 * forever hangs the child, not the test process) and fails unless it exits
 * 0, with the child's message; skips on CHILD_SKIP. */
static inline void run_child(void (*fn)(void))
{
    child_msg = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(child_msg, MAP_FAILED);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int st = child_status(pid);
    cr_assert(st < 128, "the scenario died of signal %d", st - 128);
    if (st == CHILD_SKIP)
        cr_skip_test("%s", child_msg);
    cr_assert_eq(st, 0, "%s", child_msg);
}

struct thread_run_arg {
    int (*fn)(void *);
    void *arg;
};

static inline void *thread_run_main(void *p)
{
    struct thread_run_arg *a = p;
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
    return (void *)(intptr_t)a->fn(a->arg);
}

/* Runs fn(arg) in a new thread and asserts it returned 0.  The waiting
 * thread blocks SIGALRM, so a process timer's signals go to the scenario. */
static inline void thread_run(int (*fn)(void *), void *arg, const char *what)
{
    struct thread_run_arg a = { fn, arg };
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    cr_assert_eq(pthread_sigmask(SIG_BLOCK, &alrm, &old), 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, thread_run_main, &a), 0);
    void *ret = NULL;
    cr_assert_eq(pthread_join(t, &ret), 0);
    cr_assert_eq(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    cr_assert_eq((intptr_t)ret, 0, "%s: failed with %d", what, (int)(intptr_t)ret);
}

struct started_thread_arg {
    void *(*fn)(void *);
    void *arg;
    int started;
};

static inline void *started_thread_main(void *p)
{
    struct started_thread_arg *a = p;
    void *(*fn)(void *) = a->fn;
    void *arg = a->arg;
    __atomic_store_n(&a->started, 1, __ATOMIC_RELEASE); /* a is gone after this */
    return fn(arg);
}

/* pthread_create that returns once the thread runs fn.  Before a fork:
 * under ASan a thread still starting holds the sanitizer's allocator lock
 * at moments, and a child forked then inherits it held and hangs in its
 * first malloc (a sanitizer limitation, not glibc's: glibc's fork takes
 * its malloc locks). */
static inline int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    struct started_thread_arg a = { fn, arg, 0 };
    int err = pthread_create(t, NULL, started_thread_main, &a);
    if (err)
        return err;
    while (!__atomic_load_n(&a.started, __ATOMIC_ACQUIRE))
        sched_yield();
    return 0;
}

/* ---- paging ------------------------------------------------------------------ */

/* 1 if this fault mode can page (it has userfaultfd). */
static inline int paging_mode(void)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    return c.fault_mode != VMEM_FAULT_KERNEL;
}

/* Paging under a cap of `cap` bytes; skips the test where it cannot run
 * (fault mode kernel, or VMEM_TRIM=move on a kernel without UFFDIO_MOVE). */
static inline void need_paging(size_t cap)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    int e = vmem_set_max_resident(cap);
    if (e == ENOTSUP && c.trim == VMEM_TRIM_MOVE)
        cr_skip_test("VMEM_TRIM=move: this kernel has no UFFDIO_MOVE");
    cr_assert_eq(e, 0, "cannot start paging: %s", strerror(e));
}

/* The counters now. */
static inline struct vmem_stats stats(void)
{
    struct vmem_stats s;
    cr_assert_eq(vmem_get_stats(&s), 0);
    return s;
}

/* The state of the page at addr (PTE_*), or -1 outside every region. */
static inline int page_state(const void *addr)
{
    as_lock_shared();
    struct region *r = region_find((uintptr_t)addr);
    const struct pte *pt = r ? pte_get(&r->ptes, region_page(r, (uintptr_t)addr)) : NULL;
    int st = pt ? pte_load_state(pt) : -1;
    as_unlock();
    return st;
}

/* Waits until the working-set manager has brought what is in memory
 * (working set + standby) down to the cap.  The library has no call that
 * blocks until then, so the counters are re-read, yielding in between;
 * the trimmer gets there on its own (it runs until under the low-water
 * mark once past the high-water one). */
static inline void wait_within_cap(void)
{
    cr_assert_gt(stats().cap_pages, 0, "no cap: nothing to wait for");
    for (;;) {
        struct vmem_stats s = stats();
        if (s.working_set + s.standby_pages <= s.cap_pages)
            return;
        sched_yield();
    }
}

/* Waits until the page writer is idle: no pass under way or asked for, so
 * no write is in flight (the slot of a page that went away while it was
 * being written is freed when its write completes).  No event tells this:
 * re-checked, yielding. */
static inline void wait_page_writer_idle(void)
{
    while (page_writer_busy())
        sched_yield();
}

/* Page-file slots in use once the page writer has finished what it had in
 * flight. */
static inline uint64_t settled_pagefile_pages(void)
{
    wait_page_writer_idle();
    return stats().pagefile_pages;
}

/* A page of [p, p + n pages) that is only in the page file (scanning from
 * the middle), once paging has brought memory under the cap: with the
 * standby list off, every page it took out is then in the page file.  The
 * test fails if there is none. */
static inline size_t find_pagedout(const uint8_t *p, size_t n)
{
    wait_within_cap();
    for (size_t i = n / 2; i < n + n / 2; i++)
        if (page_state(p + (i % n) * PG) == PTE_PAGEDOUT)
            return i % n;
    cr_assert_fail("no page was paged out");
    return 0;
}

/* ---- page contents ------------------------------------------------------------- */

/* A word of page `page` in generation `gen`: page, word and generation all
 * show in it. */
static inline uint64_t page_word(size_t page, size_t k, uint64_t gen)
{
    return ((uint64_t)page << 32) ^ (gen << 16) ^ k ^ 0x9E3779B97F4A7C15ull;
}

/* Writes generation gen into page `page` of base. */
static inline void fill_page(void *base, size_t page, uint64_t gen)
{
    uint64_t *w = (uint64_t *)((uint8_t *)base + page * PG);
    for (size_t k = 0; k < PG / 8; k++)
        w[k] = page_word(page, k, gen);
}

/* 1 if page `page` of base holds generation gen. */
static inline int page_intact(const void *base, size_t page, uint64_t gen)
{
    const uint64_t *w = (const uint64_t *)((const uint8_t *)base + page * PG);
    for (size_t k = 0; k < PG / 8; k++)
        if (w[k] != page_word(page, k, gen))
            return 0;
    return 1;
}

/* ---- SIGBUS around one access ------------------------------------------------------ */

#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
/* 4 MiB written with fill_salted(salt) under a 1 MiB cap with the standby
 * list off, so that trimmed pages end in the page file; SIGBUS is caught
 * (the option and the handler take effect if the runtime is not started
 * yet).  *n gets the pages. */
static inline uint8_t *paged_region(size_t *n, unsigned salt)
{
    setenv("VMEM_STANDBY", "off", 1);
    catch_sigbus();
    need_paging(1 * MIB);
    *n = 4 * MIB / PG;
    uint8_t *p = VirtualAlloc(NULL, *n * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p, "VirtualAlloc 4 MiB: error %u", (unsigned)GetLastError());
    fill_salted(p, *n, salt);
    return p;
}

#endif

/* (unused in tests that catch no SIGBUS) */
__attribute__((unused)) static sigjmp_buf sigbus_jb;
__attribute__((unused)) static volatile sig_atomic_t got_code; /* of the last SIGBUS */
__attribute__((unused)) static void *volatile got_addr;
__attribute__((unused)) static volatile sig_atomic_t sigbus_count;

static inline void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    got_code = si->si_code;
    got_addr = si->si_addr;
    sigbus_count++;
    siglongjmp(sigbus_jb, 1);
}

/* Installs the test's SIGBUS handler: before the runtime starts, so that
 * in signal mode libvmem's handler chains to it. */
static inline void catch_sigbus(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGBUS, &sa, NULL), 0);
}

/* Reads a word of p; returns 1 if that raised SIGBUS (the word is then
 * not read). */
static inline int read_faults(const volatile uint64_t *p, uint64_t *out)
{
    got_code = 0;
    got_addr = NULL;
    if (sigsetjmp(sigbus_jb, 1))
        return 1;
    *out = *p;
    return 0;
}

/* Writes v at p; returns 1 if that raised SIGBUS. */
static inline int write_faults(volatile uint64_t *p, uint64_t v)
{
    got_code = 0;
    got_addr = NULL;
    if (sigsetjmp(sigbus_jb, 1))
        return 1;
    *p = v;
    return 0;
}

/* ---- salted pages: one word in 64 set ------------------------------------------------- */

/* Writes every 64th word of n pages at p from its page, offset and salt. */
static inline void fill_salted(uint8_t *p, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < 512; k += 64)
            ((uint64_t *)(p + i * PG))[k] = (i << 20) ^ (k << 8) ^ salt;
}

/* Index of the first page in [from, n) other than skip whose content is
 * not what fill_salted wrote (zeros elsewhere), or n. */
static inline size_t first_bad_salted(const uint8_t *p, size_t from, size_t n, unsigned salt,
                                      size_t skip)
{
    for (size_t i = from; i < n; i++) {
        if (i == skip)
            continue;
        for (size_t k = 0; k < 512; k++) {
            uint64_t want = k % 64 ? 0 : (i << 20) ^ (k << 8) ^ salt;
            if (((const uint64_t *)(p + i * PG))[k] != want)
                return i;
        }
    }
    return n;
}

/* 4 MiB written with fill_salted(salt) under a 1 MiB cap with the standby
 * list off, so that trimmed pages end in the page file; SIGBUS is caught
 * (the option and the handler take effect if the runtime is not started
 * yet).  *n gets the pages. */
static inline uint8_t *paged_region(size_t *n, unsigned salt)
{
    setenv("VMEM_STANDBY", "off", 1);
    catch_sigbus();
    need_paging(1 * MIB);
    *n = 4 * MIB / PG;
    uint8_t *p = VirtualAlloc(NULL, *n * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p, "VirtualAlloc 4 MiB: error %u", (unsigned)GetLastError());
    fill_salted(p, *n, salt);
    return p;
}

#endif
