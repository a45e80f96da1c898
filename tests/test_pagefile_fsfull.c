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
 * on the errno FSFULL_RAMFS_PROBE names (ENOSPC for "1"), 77 where it
 * cannot page, else 2. */
__attribute__((constructor)) static void ramfs_probe(void)
{
    if (!getenv("FSFULL_RAMFS_PROBE"))
        return;
    struct vmem_config c;
    if (vmem_get_config(&c) != 0)
        _exit(3);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        _exit(CHILD_SKIP);
    int want = atoi(getenv("FSFULL_RAMFS_PROBE"));
    _exit(vmem_set_max_resident(1 * MIB) == (want > 1 ? want : ENOSPC) ? 0 : 2);
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
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        setenv("FSFULL_RAMFS_PROBE", "1", 1);
        setenv("VMEM_PAGEFILE", ramfs_dir, 1);
        unsetenv("VMEM_PAGEFILE_MAX");
        execl("/proc/self/exe", "test_pagefile_fsfull", (char *)NULL);
        _exit(4);
    }
    close(p[1]);
    char out[8192];
    read_to_end(p[0], out, sizeof(out));
    int st = child_status(pid);
    if (st == CHILD_SKIP)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    cr_assert_eq(st, 0, "paging with the page file on a ramfs: the probe exited with %d "
                 "(want ENOSPC); its stderr:\n%s", st, out);
    cr_assert(strstr(out, "free space"), "the message does not say where the limit came "
              "from:\n%s", out);
    int place = 0; /* VMEM_PAGEFILE itself, not only as VMEM_PAGEFILE_MAX's prefix */
    for (const char *at = out; (at = strstr(at, "VMEM_PAGEFILE")) != NULL; at++)
        place |= at[sizeof "VMEM_PAGEFILE" - 1] != '_';
    cr_assert(strstr(out, "VMEM_PAGEFILE_MAX") && place,
              "the message does not name the options:\n%s", out);
    cr_assert(strstr(out, ramfs_dir), "the message does not name the place:\n%s", out);
}

/* A page file that cannot be made (its directory does not exist): the
 * message names the option that put it there. */
Test(pagefile_fsfull, a_page_file_that_cannot_be_made_names_the_option)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        char want[16];
        snprintf(want, sizeof want, "%d", ENOENT);
        setenv("FSFULL_RAMFS_PROBE", want, 1);
        setenv("VMEM_PAGEFILE", "/nonexistent-vmem-dir/pf", 1);
        execl("/proc/self/exe", "test_pagefile_fsfull", (char *)NULL);
        _exit(4);
    }
    close(p[1]);
    char out[8192];
    read_to_end(p[0], out, sizeof(out));
    int st = child_status(pid);
    if (st == CHILD_SKIP)
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    cr_assert_eq(st, 0, "paging with the page file in a missing directory: the probe exited "
                 "with %d (want ENOENT); its stderr:\n%s", st, out);
    int place = 0; /* VMEM_PAGEFILE itself, not only as VMEM_PAGEFILE_MAX's prefix */
    for (const char *at = out; (at = strstr(at, "VMEM_PAGEFILE")) != NULL; at++)
        place |= at[sizeof "VMEM_PAGEFILE" - 1] != '_';
    cr_assert(place, "the message does not name VMEM_PAGEFILE:\n%s", out);
    cr_assert(strstr(out, "/nonexistent-vmem-dir"), "the message does not name the place:\n%s",
              out);
}
