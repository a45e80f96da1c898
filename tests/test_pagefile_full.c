/*
 * A page file whose file system fills up (ENOSPC) under paging pressure:
 * every byte still reads back, a failed write gives its slots back (the
 * pages stay in memory, dirty, and are written later), and the slots in
 * use never exceed what the file can hold.
 *
 * The page file goes on a small tmpfs mounted for the test (root only;
 * skipped with a reason otherwise).  The scenario runs in a forked child,
 * which starts a runtime of its own on that file system; a crash is
 * reported with its signal.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vmem.h>

#include "helpers.h"

#define FS_PAGES   256   /* the tmpfs: 1 MiB */
#define PAGES      1024  /* 4 MiB of data under a 512 KiB cap */
/* Generation 1 fills the file system; generation 2 rewrites every page,
 * those whose first write failed and those with a slot to give back. */
#define GENS       2

static char dir[64];
static int mounted;

static int kernel_mode(void)
{
    const char *mode = getenv("VMEM_FAULT_MODE");
    return mode && !strcmp(mode, "kernel");
}

/* Nothing is mounted in fault mode kernel: the test skips there, and a
 * skipped test does not reach its .fini, which would leave the mount.
 * The mount is made in a mount namespace of the test's own, so it goes
 * with the test's process even if the test is killed. */
static void setup(void)
{
    if (kernel_mode())
        return;
    snprintf(dir, sizeof(dir), "/var/tmp/vmem-pffull-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char opt[64];
    snprintf(opt, sizeof(opt), "size=%dk", FS_PAGES * 4);
    mounted = unshare(CLONE_NEWNS) == 0 &&
              mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
              mount("tmpfs", dir, "tmpfs", 0, opt) == 0;
}

static void teardown(void)
{
    if (mounted)
        umount2(dir, MNT_DETACH);
    if (dir[0])
        rmdir(dir);
}

enum { OK, ALLOC_FAILED, BAD_DATA, NO_STATS, TOO_MANY_SLOTS, NO_WRITE_ERRORS, WRITE_STORM };

/* Failed writes allowed: a page is retried when slots are given back or
 * after a wait, not at every fault short of room (a full file system once
 * took some 400,000 failed writes here, a CPU's worth). */
#define WRITE_ERRORS_MAX ((uint64_t)PAGES * GENS * 16)

static int child(void)
{
    setenv("VMEM_PAGEFILE", dir, 1);
    setenv("VMEM_PAGEFILE_MAX", "64M", 1); /* more than the file system holds */
    setenv("VMEM_MAX_RESIDENT", "512K", 1);
    uint64_t *m = VirtualAlloc(NULL, (size_t)PAGES * 4096, MEM_COMMIT | MEM_RESERVE,
                               PAGE_READWRITE);
    if (!m)
        return ALLOC_FAILED;
    struct vmem_stats s;
    uint64_t worst = 0;
    for (uint64_t gen = 1; gen <= GENS; gen++) {
        for (size_t p = 0; p < PAGES; p++)
            fill_page(m, p, gen);
        for (size_t p = 0; p < PAGES; p++) {
            if (!page_intact(m, p, gen)) {
                fprintf(stderr, "page %zu of generation %llu differs\n", p,
                        (unsigned long long)gen);
                return BAD_DATA;
            }
            if (p % 64 == 0) {
                if (vmem_get_stats(&s))
                    return NO_STATS;
                if (s.pagefile_pages > worst)
                    worst = s.pagefile_pages;
            }
        }
    }
    if (vmem_get_stats(&s))
        return NO_STATS;
    fprintf(stderr, "slots in use: at most %llu seen, peak %llu; write errors %llu; "
            "file system %d pages\n", (unsigned long long)worst,
            (unsigned long long)s.peak_pagefile_pages, (unsigned long long)s.write_errors,
            FS_PAGES);
    /* a write batch in flight may hold slots it has not filled yet */
    if (worst > FS_PAGES + 64)
        return TOO_MANY_SLOTS;
    if (!s.write_errors)
        return NO_WRITE_ERRORS;
    if (s.write_errors > WRITE_ERRORS_MAX)
        return WRITE_STORM;
    return OK;
}

Test(pagefile_full, enospc_loses_nothing_and_frees_slots, .init = setup, .fini = teardown)
{
    if (kernel_mode())
        cr_skip_test("fault mode kernel: no paging, so no page file");
    if (!mounted) {
        int e = errno;
        rmdir(dir);
        cr_skip_test("cannot mount a tmpfs on %s (%s): needs root", dir, strerror(e));
    }
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child());
    int st = child_status(pid);
    cr_assert(st < 128, "the child died of signal %d", st - 128);
    cr_assert_eq(st, OK, "child exit %d (see enum)", st);
}
