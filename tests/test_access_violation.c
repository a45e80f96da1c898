/*
 * test_access_violation.c -- touching memory that is not accessible kills the
 * process with SIGSEGV, in the process itself and in a forked child.
 */
#include <memoryapi.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <signal.h>
#include <stdint.h>
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
