/*
 * A page file whose file system is (nearly) full: paging does not start,
 * and the error says so (ENOSPC, the message names the path, the free
 * space and the options) rather than blaming a limit nobody set; on a
 * file system that reports no free space at all (ramfs) the message says
 * the limit came from that free space and names the options; a page file
 * that cannot be made at all (a directory that does not exist) names the
 * option that put it there.  Needs a tiny tmpfs and a ramfs: mounted here
 * as root, else those tests skip.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vmem.h>

#include "helpers.h"

static char dir[] = "/tmp/vmem-fsfull-XXXXXX";
static int mounted;

static void unmount_dir(void)
{
    if (mounted)
        umount2(dir, MNT_DETACH);
    rmdir(dir);
}

Test(pagefile_fsfull, full_file_system_is_enospc_not_a_limit)
{
    cr_assert_not_null(mkdtemp(dir));
    if (mount("none", dir, "tmpfs", 0, "size=64k") != 0) {
        rmdir(dir);
        cr_skip_test("cannot mount a tmpfs (%s): needs root", strerror(errno));
    }
    mounted = 1;
    atexit(unmount_dir);
    /* 56 of its 64 KiB taken: 8 KiB free, below the page file's 16 pages */
    char path[64];
    snprintf(path, sizeof path, "%s/fill", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    cr_assert_geq(fd, 0);
    static char buf[56 * 1024];
    cr_assert_eq(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
    close(fd);
    /* the runtime starts here, with the page file's place */
    setenv("VMEM_PAGEFILE", dir, 1);
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    int e = vmem_set_max_resident(1 * MIB);
    cr_assert_eq(e, ENOSPC, "paging under a full file system: %s, want ENOSPC", strerror(e));
    cr_assert_eq(stats().cap_pages, 0, "paging started");
    /* the file system's file is untouched, and nothing else was left */
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, (off_t)sizeof buf);
}

/* The probe: paging with its page file where VMEM_PAGEFILE says.  Exits 0
 * on the errno FSFULL_RAMFS_PROBE names, 77 where it cannot page, else 2. */
__attribute__((constructor)) static void ramfs_probe(void)
{
    if (!getenv("FSFULL_RAMFS_PROBE"))
        return;
    struct vmem_config c;
    if (vmem_get_config(&c) != 0)
        _exit(3);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        _exit(CHILD_SKIP);
    _exit(vmem_set_max_resident(1 * MIB) == atoi(getenv("FSFULL_RAMFS_PROBE")) ? 0 : 2);
}

/* Runs the probe in a fresh process with its page file at `pagefile`
 * (VMEM_PAGEFILE_MAX unset), wanting errno `want`; its stderr into out.
 * Skips where the fault mode cannot page; fails unless it got `want`. */
static void run_probe(const char *pagefile, int want, char *out, size_t cap)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        char w[16];
        snprintf(w, sizeof w, "%d", want);
        setenv("FSFULL_RAMFS_PROBE", w, 1);
        setenv("VMEM_PAGEFILE", pagefile, 1);
        unsetenv("VMEM_PAGEFILE_MAX");
        execl("/proc/self/exe", "test_pagefile_fsfull", (char *)NULL);
        _exit(4);
    }
    close(p[1]);
    read_to_end(p[0], out, cap);
    int st = child_status(pid);
    if (st == CHILD_SKIP)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    cr_assert_eq(st, 0, "paging with the page file at %s: the probe exited with %d (want %s); "
                 "its stderr:\n%s", pagefile, st, strerror(want), out);
}

/* 1 if out names VMEM_PAGEFILE itself, not only as VMEM_PAGEFILE_MAX's
 * prefix. */
static int names_pagefile(const char *out)
{
    int place = 0;
    for (const char *at = out; (at = strstr(at, "VMEM_PAGEFILE")) != NULL; at++)
        place |= at[sizeof "VMEM_PAGEFILE" - 1] != '_';
    return place;
}

static char ramfs_dir[] = "/tmp/vmem-ramfs-XXXXXX";
static int ramfs_mounted;

static void unmount_ramfs(void)
{
    if (ramfs_mounted)
        umount2(ramfs_dir, MNT_DETACH);
    rmdir(ramfs_dir);
}

Test(pagefile_fsfull, a_file_system_reporting_no_space_is_named_with_the_options)
{
    cr_assert_not_null(mkdtemp(ramfs_dir));
    if (mount("none", ramfs_dir, "ramfs", 0, NULL) != 0) {
        rmdir(ramfs_dir);
        cr_skip_test("cannot mount a ramfs (%s): needs root", strerror(errno));
    }
    ramfs_mounted = 1;
    atexit(unmount_ramfs);
    char out[8192];
    run_probe(ramfs_dir, ENOSPC, out, sizeof out);
    cr_assert(strstr(out, "free space"), "the message does not say where the limit came "
              "from:\n%s", out);
    cr_assert(strstr(out, "VMEM_PAGEFILE_MAX") && names_pagefile(out),
              "the message does not name the options:\n%s", out);
    cr_assert(strstr(out, ramfs_dir), "the message does not name the place:\n%s", out);
}

/* A page file that cannot be made (its directory does not exist): the
 * message names the option that put it there. */
Test(pagefile_fsfull, a_page_file_that_cannot_be_made_names_the_option)
{
    char out[8192];
    run_probe("/nonexistent-vmem-dir/pf", ENOENT, out, sizeof out);
    cr_assert(names_pagefile(out), "the message does not name VMEM_PAGEFILE:\n%s", out);
    cr_assert(strstr(out, "/nonexistent-vmem-dir"), "the message does not name the place:\n%s",
              out);
}
