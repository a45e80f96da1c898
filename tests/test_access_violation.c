/*
 * test_access_violation.c -- touching memory that is not accessible kills the
 * process with SIGSEGV, in the process itself and in a forked child; a
 * SIGSEGV or SIGBUS another process or the program itself sends is never
 * taken for libvmem's: it kills, or reaches the program's handler as the
 * program installed it, or is ignored if the program ignores it.
 */
#include <memoryapi.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile unsigned char *alloc(size_t size, DWORD type, DWORD prot)
{
    volatile unsigned char *p = VirtualAlloc(NULL, size, type, prot);
    cr_assert_not_null(p, "VirtualAlloc: error %u", (unsigned)GetLastError());
    return p;
}

Test(access_violation, read_reserved, .signal = SIGSEGV)
{
    volatile unsigned char *p = alloc(4 * PG, MEM_RESERVE, PAGE_READWRITE);
    (void)p[PG];
    cr_assert_fail("reading reserved memory did not fault");
}

Test(access_violation, write_reserved, .signal = SIGSEGV)
{
    volatile unsigned char *p = alloc(4 * PG, MEM_RESERVE, PAGE_READWRITE);
    p[0] = 1;
    cr_assert_fail("writing reserved memory did not fault");
}

Test(access_violation, read_decommitted, .signal = SIGSEGV)
{
    volatile unsigned char *p = alloc(2 * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    p[PG] = 1;
    cr_assert(VirtualFree((void *)p, 2 * PG, MEM_DECOMMIT), "error %u", (unsigned)GetLastError());
    (void)p[PG];
    cr_assert_fail("reading decommitted memory did not fault");
}

Test(access_violation, read_noaccess, .signal = SIGSEGV)
{
    volatile unsigned char *p = alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    (void)p[0];
    cr_assert_fail("reading PAGE_NOACCESS memory did not fault");
}

Test(access_violation, read_protected_noaccess, .signal = SIGSEGV)
{
    volatile unsigned char *p = alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    p[0] = 1;
    DWORD old;
    cr_assert(VirtualProtect((void *)p, PG, PAGE_NOACCESS, &old));
    (void)p[0];
    cr_assert_fail("reading memory made PAGE_NOACCESS did not fault");
}

Test(access_violation, write_readonly, .signal = SIGSEGV)
{
    volatile unsigned char *p = alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_READONLY);
    (void)p[0];
    p[0] = 1;
    cr_assert_fail("writing PAGE_READONLY memory did not fault");
}

Test(access_violation, write_untouched_readonly, .signal = SIGSEGV)
{
    volatile unsigned char *p = alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_READONLY);
    p[0] = 1;
    cr_assert_fail("writing never-read PAGE_READONLY memory did not fault");
}

Test(access_violation, read_released, .signal = SIGSEGV)
{
    volatile unsigned char *p = alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    p[0] = 1;
    cr_assert(VirtualFree((void *)p, 0, MEM_RELEASE), "error %u", (unsigned)GetLastError());
    (void)p[0];
    cr_assert_fail("reading released memory did not fault");
}

/* ---- in a forked child ---------------------------------------------------- */

Test(access_violation, child_reading_reserved_dies)
{
    volatile unsigned char *p = alloc(4 * PG, MEM_RESERVE, PAGE_READWRITE);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %m");
    if (pid == 0) {
        (void)p[PG];
        _exit(0);
    }
    int st = child_status(pid);
    cr_assert_eq(st, 128 + SIGSEGV, "child: exit %d (128 + its signal), not SIGSEGV", st);
}

Test(access_violation, child_reads_parent_data)
{
    const size_t size = 4 * PG;
    volatile unsigned char *p = alloc(size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    for (size_t i = 0; i < size; i++)
        p[i] = (unsigned char)(i * 13 + 7);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %m");
    if (pid == 0) {
        size_t bad = 0;
        for (size_t i = 0; i < size; i++)
            bad += p[i] != (unsigned char)(i * 13 + 7);
        _exit(bad ? 1 : 0);
    }
    int st = child_status(pid);
    cr_assert(st < 128, "child crashed (signal %d)", st - 128);
    cr_assert_eq(st, 0, "child saw different data");
    cr_assert_eq(p[5], (unsigned char)(5 * 13 + 7), "parent's data intact");
}

Test(access_violation, unmanaged_prot_none_kills, .signal = SIGSEGV)
{
    (void)alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE); /* libvmem's handlers in place */
    volatile unsigned char *p = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq((void *)p, MAP_FAILED, "mmap: %m");
    (void)p[0];
    cr_assert_fail("reading a PROT_NONE mapping of the program's own did not fault");
}

Test(access_violation, unmanaged_null_kills_child)
{
    (void)alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %m");
    if (pid == 0) {
        volatile unsigned char *volatile np = (volatile unsigned char *)(uintptr_t)16;
        (void)*np;
        _exit(0);
    }
    int st = child_status(pid);
    cr_assert_eq(st, 128 + SIGSEGV, "child: status %d, not 139", st);
}

Test(access_violation, unmanaged_file_beyond_eof_sigbus, .signal = SIGBUS)
{
    (void)alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    FILE *f = tmpfile();
    cr_assert_not_null(f, "tmpfile: %m");
    volatile unsigned char *p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fileno(f), 0);
    cr_assert_neq((void *)p, MAP_FAILED, "mmap: %m");
    (void)p[0]; /* the file is empty: SIGBUS, BUS_ADRERR, as for a lost page */
    cr_assert_fail("reading a file mapping beyond the end of the file did not fault");
}

/* ---- signals sent, not faults ------------------------------------------- */

enum how { BY_RAISE, BY_KILL, BY_TGKILL, BY_SIGQUEUE };

/* Sends sig to this process or thread, with libvmem started. */
static void send(int sig, enum how how)
{
    (void)alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    int rc;
    switch (how) {
    case BY_RAISE: rc = raise(sig); break;
    case BY_KILL: rc = kill(getpid(), sig); break;
    case BY_TGKILL: rc = (int)syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig); break;
    default: rc = sigqueue(getpid(), sig, (union sigval){ .sival_int = 7 }); break;
    }
    cr_assert_eq(rc, 0, "sending signal %d: %m", sig);
}

Test(access_violation, sent_segv_raise_kills, .signal = SIGSEGV)
{
    send(SIGSEGV, BY_RAISE);
    cr_assert_fail("still alive after raise(SIGSEGV)");
}

Test(access_violation, sent_segv_kill_kills, .signal = SIGSEGV)
{
    send(SIGSEGV, BY_KILL);
    cr_assert_fail("still alive after kill(SIGSEGV)");
}

Test(access_violation, sent_segv_tgkill_kills, .signal = SIGSEGV)
{
    send(SIGSEGV, BY_TGKILL);
    cr_assert_fail("still alive after tgkill(SIGSEGV)");
}

Test(access_violation, sent_segv_sigqueue_kills, .signal = SIGSEGV)
{
    send(SIGSEGV, BY_SIGQUEUE);
    cr_assert_fail("still alive after sigqueue(SIGSEGV)");
}

Test(access_violation, sent_sigbus_kill_kills, .signal = SIGBUS)
{
    send(SIGBUS, BY_KILL);
    cr_assert_fail("still alive after kill(SIGBUS)");
}

Test(access_violation, sent_sigbus_sigqueue_kills, .signal = SIGBUS)
{
    send(SIGBUS, BY_SIGQUEUE);
    cr_assert_fail("still alive after sigqueue(SIGBUS)");
}

/* Another process's kill, at a process with a managed page whose address
 * a kill's siginfo (sender's pid and uid) could never name anyway. */
Test(access_violation, sent_by_other_process_kills)
{
    (void)alloc(PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    int go[2];
    cr_assert_eq(pipe(go), 0, "pipe: %m");
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %m");
    if (pid == 0) {
        close(go[1]);
        char c;
        /* EOF only once the parent's kill came and went */
        while (read(go[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(go[0]);
    cr_assert_eq(kill(pid, SIGSEGV), 0, "kill: %m");
    close(go[1]);
    int st = child_status(pid);
    cr_assert_eq(st, 128 + SIGSEGV, "child: status %d, not 139", st);
}

/* The program's handlers, installed before libvmem starts, so libvmem's
 * chain to them. */
static volatile sig_atomic_t seen, seen_code, seen_value, mask_had_usr1, mask_had_sig;

static void on_info(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    seen++;
    seen_code = si->si_code;
    seen_value = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    mask_had_usr1 = sigismember(&now, SIGUSR1);
    mask_had_sig = sigismember(&now, sig);
}

static void install(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    cr_assert_eq(sigaction(sig, &sa, NULL), 0, "sigaction: %m");
}

Test(access_violation, sent_segv_reaches_handler)
{
    install(SIGSEGV, 0);
    send(SIGSEGV, BY_SIGQUEUE);
    cr_assert_eq(seen, 1, "the program's handler ran %d times, not once", (int)seen);
    cr_assert_eq(seen_code, SI_QUEUE, "si_code %d, not SI_QUEUE", (int)seen_code);
    cr_assert_eq(seen_value, 7, "si_value %d, not the 7 sent", (int)seen_value);
    cr_assert(mask_had_usr1 && mask_had_sig, "the handler ran without its sa_mask or the signal blocked");
}

Test(access_violation, sent_sigbus_reaches_handler)
{
    install(SIGBUS, SA_NODEFER);
    send(SIGBUS, BY_KILL);
    cr_assert_eq(seen, 1, "the program's handler ran %d times, not once", (int)seen);
    cr_assert_eq(seen_code, SI_USER, "si_code %d, not SI_USER", (int)seen_code);
    cr_assert(mask_had_usr1 && !mask_had_sig, "SA_NODEFER: the signal was blocked in its handler");
}

Test(access_violation, sent_segv_resethand_second_kills, .signal = SIGSEGV)
{
    install(SIGSEGV, SA_RESETHAND);
    send(SIGSEGV, BY_KILL);
    cr_assert_eq(seen, 1, "the program's handler ran %d times, not once", (int)seen);
    kill(getpid(), SIGSEGV);
    cr_assert_fail("SA_RESETHAND: the second SIGSEGV did not kill (handler ran %d times)", (int)seen);
}

Test(access_violation, sent_segv_ignored_stays_ignored)
{
    cr_assert_neq(signal(SIGSEGV, SIG_IGN), SIG_ERR, "signal: %m");
    send(SIGSEGV, BY_KILL);
    send(SIGSEGV, BY_TGKILL);
    /* a fault the kernel raises still kills, ignored or not */
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %m");
    if (pid == 0) {
        volatile unsigned char *p = VirtualAlloc(NULL, PG, MEM_RESERVE, PAGE_READWRITE);
        (void)p[0];
        _exit(0);
    }
    int st = child_status(pid);
    cr_assert_eq(st, 128 + SIGSEGV, "child: status %d, not 139", st);
}
