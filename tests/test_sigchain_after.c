/*
 * test_sigchain_after.c -- SIGSEGV and SIGBUS handlers a program installs
 * AFTER libvmem started (with sigaction, signal, sigset ...).  libvmem's
 * handlers stay first and chain to the program's: the program's handler
 * never sees a fault libvmem serves (demand-zero, paging under a cap, a
 * lifted guard page retried), sees its own faults and the signals sent to
 * it, and sigaction reports exactly what the program installed.  Each
 * scenario runs in a forked child with a fresh runtime: a managed fault
 * handed to the program's handler would otherwise repeat forever.
 */
#include <memoryapi.h>
#include <vmem.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <signal.h>
#include <stdint.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* glibc's own flag, in what the kernel reports */
#endif

static volatile sig_atomic_t seen_sig, seen_code;
static void *volatile seen_addr;
static volatile sig_atomic_t jump_ok;
static sigjmp_buf jump;

/* The program's handler: remembers the signal; a fault of the kernel on a
 * page the scenario does not expect to fault ends the child with a message
 * (returning would fault again forever). */
static void app_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    seen_sig = sig;
    seen_code = si->si_code;
    seen_addr = si->si_addr;
    if (jump_ok) {
        jump_ok = 0;
        siglongjmp(jump, 1);
    }
    if (si->si_code > 0) {
        child_say("the program's handler got a fault it did not expect: sig %d code %d at %p",
                  sig, si->si_code, si->si_addr);
        _exit(1);
    }
}

static void install_app(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = app_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    CHILD_CHECK(sigaction(sig, &sa, NULL) == 0, "sigaction: %s", strerror(errno));
}

/* libvmem started: one committed page touched. */
static void start_libvmem(void)
{
    char *p = VirtualAlloc(NULL, GRAN, MEM_COMMIT, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc: %lu", (unsigned long)GetLastError());
    p[0] = 1;
}

static int uses_userfaultfd(void)
{
    struct vmem_config c;
    return vmem_get_config(&c) == 0 && c.fault_mode != VMEM_FAULT_KERNEL;
}

/* Writes and checks n pages: every byte back. */
static void fill_check(uint8_t *p, size_t pages, unsigned salt)
{
    for (size_t i = 0; i < pages; i++)
        memset(p + i * PG, (int)((i * 7 + salt) & 0xff), PG);
    for (size_t i = 0; i < pages; i++)
        for (size_t k = 0; k < PG; k += 512)
            CHILD_CHECK(p[i * PG + k] == (uint8_t)((i * 7 + salt) & 0xff),
                        "page %zu byte %zu reads %u", i, k, p[i * PG + k]);
}

/* ---- faults libvmem serves never reach the program's handler -------------- */

static void demand_zero_scenario(void)
{
    start_libvmem();
    install_app(SIGBUS);
    install_app(SIGSEGV);
    size_t pages = 1024;
    uint8_t *p = VirtualAlloc(NULL, pages * PG, MEM_COMMIT, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc");
    for (size_t i = 0; i < pages; i++)
        CHILD_CHECK(p[i * PG] == 0, "page %zu not zero", i);
    fill_check(p, pages, 3);
    CHILD_CHECK(seen_sig == 0, "the program's handler ran (sig %d)", (int)seen_sig);
}

Test(after, demand_zero_faults)
{
    run_child(demand_zero_scenario);
}

static void paging_scenario(void)
{
    start_libvmem();
    if (!uses_userfaultfd()) {
        child_say("fault mode kernel: paging needs userfaultfd");
        _exit(CHILD_SKIP);
    }
    install_app(SIGBUS);
    install_app(SIGSEGV);
    int e = vmem_set_max_resident(MIB);
    if (e == ENOTSUP) {
        child_say("cannot page here: %s", strerror(e));
        _exit(CHILD_SKIP);
    }
    CHILD_CHECK(e == 0, "vmem_set_max_resident: %s", strerror(e));
    size_t pages = 2048; /* 8 MiB under a 1 MiB cap */
    uint8_t *p = VirtualAlloc(NULL, pages * PG, MEM_COMMIT, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc");
    for (int round = 0; round < 2; round++)
        fill_check(p, pages, (unsigned)round + 11);
    struct vmem_stats s;
    CHILD_CHECK(vmem_get_stats(&s) == 0, "vmem_get_stats");
    CHILD_CHECK(s.pages_read > 0, "nothing was paged in");
    CHILD_CHECK(seen_sig == 0, "the program's handler ran (sig %d)", (int)seen_sig);
}

Test(after, paging_under_a_cap)
{
    run_child(paging_scenario);
}

/* The same with the program's SIGBUS and SIGSEGV reset to SIG_DFL and to
 * SIG_IGN after libvmem started: managed faults are still served. */
static void reset_scenario(void)
{
    start_libvmem();
    CHILD_CHECK(signal(SIGBUS, SIG_DFL) != SIG_ERR, "signal");
    CHILD_CHECK(signal(SIGSEGV, SIG_IGN) != SIG_ERR, "signal");
    uint8_t *p = VirtualAlloc(NULL, 256 * PG, MEM_COMMIT, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc");
    fill_check(p, 256, 5);
}

Test(after, reset_to_default_or_ignore)
{
    run_child(reset_scenario);
}

/* ---- guard pages: the program sees the guard, once ------------------------- */

static void guard_scenario(void)
{
    start_libvmem();
    install_app(SIGSEGV);
    install_app(SIGBUS);
    uint8_t *g = VirtualAlloc(NULL, 4 * PG, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    CHILD_CHECK(g != NULL, "VirtualAlloc PAGE_GUARD");
    /* installed after the guard was armed, too */
    install_app(SIGSEGV);
    jump_ok = 1;
    if (sigsetjmp(jump, 1) == 0) {
        g[PG + 5] = 9;
        CHILD_CHECK(0, "the guard page did not fault");
    }
    CHILD_CHECK(seen_sig == SIGSEGV && seen_code > 0, "guard: sig %d code %d", (int)seen_sig,
                (int)seen_code);
    CHILD_CHECK(seen_addr == g + PG + 5, "guard at %p, expected %p", seen_addr, (void *)(g + PG + 5));
    seen_sig = 0;
    g[PG + 5] = 9; /* the guard is gone: no signal */
    CHILD_CHECK(g[PG + 5] == 9, "guard page content");
    fill_check(g + PG, 1, 1); /* the other three are still guarded */
    CHILD_CHECK(seen_sig == 0, "the program's handler ran again (sig %d)", (int)seen_sig);
}

Test(after, guard_pages)
{
    run_child(guard_scenario);
}

/* ---- the program's own faults and signals reach its handler ---------------- */

static void own_scenario(void)
{
    start_libvmem();
    install_app(SIGSEGV);
    install_app(SIGBUS);
    /* not libvmem's memory */
    char *own = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_CHECK(own != MAP_FAILED, "mmap");
    jump_ok = 1;
    if (sigsetjmp(jump, 1) == 0) {
        own[17] = 1;
        CHILD_CHECK(0, "no fault on PROT_NONE");
    }
    CHILD_CHECK(seen_sig == SIGSEGV && seen_code == SEGV_ACCERR && seen_addr == own + 17,
                "own fault: sig %d code %d at %p", (int)seen_sig, (int)seen_code, seen_addr);
    /* reserved, not committed managed memory: an access violation */
    char *r = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_NOACCESS);
    CHILD_CHECK(r != NULL, "VirtualAlloc MEM_RESERVE");
    seen_sig = 0;
    jump_ok = 1;
    if (sigsetjmp(jump, 1) == 0) {
        r[3] = 1;
        CHILD_CHECK(0, "no fault on reserved memory");
    }
    CHILD_CHECK(seen_sig == SIGSEGV && seen_addr == r + 3, "access violation: sig %d at %p",
                (int)seen_sig, seen_addr);
    /* sent signals: the program's, with the sender's si_code */
    for (int sig = SIGBUS; sig; sig = sig == SIGBUS ? SIGSEGV : 0) {
        seen_sig = 0;
        CHILD_CHECK(raise(sig) == 0, "raise");
        CHILD_CHECK(seen_sig == sig && seen_code == SI_TKILL, "raise(%d): sig %d code %d", sig,
                    (int)seen_sig, (int)seen_code);
    }
}

Test(after, own_faults_and_sent_signals)
{
    run_child(own_scenario);
}

/* ---- what sigaction and signal report --------------------------------------- */

static void plain_handler(int sig) { seen_sig = sig; }

static void query_scenario(void)
{
    start_libvmem();
    for (int sig = SIGBUS; sig; sig = sig == SIGBUS ? SIGSEGV : 0) {
        struct sigaction sa, old, now;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = app_handler;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGUSR1);
        CHILD_CHECK(sigaction(sig, &sa, &old) == 0, "sigaction");
        CHILD_CHECK(old.sa_handler == SIG_DFL, "sig %d: the old action is not SIG_DFL", sig);
        CHILD_CHECK(sigaction(sig, NULL, &now) == 0, "sigaction query");
        CHILD_CHECK((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == app_handler,
                    "sig %d: the action is not the program's", sig);
        CHILD_CHECK((now.sa_flags & ~SA_RESTORER) == sa.sa_flags, "sig %d: flags %#x, installed %#x",
                    sig, (unsigned)now.sa_flags, (unsigned)sa.sa_flags);
        CHILD_CHECK(sigismember(&now.sa_mask, SIGUSR1) == 1 && sigismember(&now.sa_mask, SIGINT) == 0,
                    "sig %d: sa_mask not the program's", sig);
        /* signal() returns the previous handler and installs the new one */
        CHILD_CHECK(signal(sig, plain_handler) == sa.sa_handler, "signal's old"); /* the union */
        CHILD_CHECK(signal(sig, SIG_IGN) == plain_handler, "signal's old after signal");
        CHILD_CHECK(sigaction(sig, &old, &now) == 0, "sigaction restore");
        CHILD_CHECK(now.sa_handler == SIG_IGN, "sig %d: SIG_IGN not reported", sig);
        CHILD_CHECK(sigaction(sig, NULL, &now) == 0 && now.sa_handler == SIG_DFL,
                    "sig %d: SIG_DFL not reported", sig);
        /* sigset and sysv_signal: glibc's semantics */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        CHILD_CHECK(sigset(sig, plain_handler) == SIG_DFL, "sigset's old");
#pragma GCC diagnostic pop
        CHILD_CHECK(sysv_signal(sig, SIG_DFL) == plain_handler, "sysv_signal's old");
    }
    /* managed memory still served */
    uint8_t *p = VirtualAlloc(NULL, 64 * PG, MEM_COMMIT, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc");
    fill_check(p, 64, 2);
}

Test(after, sigaction_reports_the_programs_action)
{
    run_child(query_scenario);
}

/* A fault libvmem does not claim with the program's SIGSEGV at SIG_DFL: the
 * process dies of SIGSEGV. */
Test(after, default_action_kills)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char *p = VirtualAlloc(NULL, GRAN, MEM_COMMIT, PAGE_READWRITE);
        if (!p)
            _exit(2);
        p[0] = 1;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = app_handler;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSEGV, &sa, NULL);
        signal(SIGSEGV, SIG_DFL);
        p[PG] = 2; /* served */
        char *own = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (own == MAP_FAILED)
            _exit(3);
        own[1] = 1;
        _exit(4);
    }
    cr_assert_eq(child_status(pid), 128 + SIGSEGV);
}
