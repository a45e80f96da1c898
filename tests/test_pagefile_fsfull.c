/*
 * A page file whose file system is (nearly) full: paging does not start,
 * and the error says so (ENOSPC, the message names the path, the free
 * space and the options) rather than blaming a limit nobody set.  Needs a
 * tiny tmpfs: mounted here as root, else the test skips.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
