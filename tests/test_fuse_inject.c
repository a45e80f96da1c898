/*
 * The page file on a failing file system: tests/fuse_inject.c, a FUSE
 * pass-through that injects faults into reads, is mounted in a temporary
 * directory and the page file made there.  A page that cannot be read
 * back (persistent EIO, short reads) raises SIGBUS with BUS_MCEERR_AR in
 * the faulting thread after a bounded number of reads; transient EIO is
 * retried and loses nothing.  Needs root and /dev/fuse (skips otherwise).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <memoryapi.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vmem.h>

#include "core/pte.h"
#include "core/region.h"
#include "core/runtime.h"

#include "helpers.h"

/* ---- the mount ------------------------------------------------------------ */

static char base[64], src[96], mnt[96], control[96], countf[96];
static pid_t fs_pid;

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

/* Runs after the test, failed or not (and the file system gets SIGTERM,
 * which unmounts it, if this process dies first). */
static void unmount_fs(void)
{
    if (fs_pid > 0) {
        kill(fs_pid, SIGTERM); /* it unmounts as it exits */
        waitpid(fs_pid, NULL, 0);
        fs_pid = 0;
        umount2(mnt, MNT_DETACH); /* if it could not: the page file is open */
    }
    if (base[0]) {
        unlink(control);
        unlink(countf);
        remove_tree(src);
        rmdir(mnt);
        rmdir(base);
    }
}

static void skip_test(const char *why)
{
    unmount_fs();
    cr_skip_test("%s", why);
}

/* Mounts fuse_inject with the fault option `fault` (not armed yet) and
 * points the page file into it. */
static void mount_fs(const char *fault)
{
    const char *bin = getenv("FUSE_INJECT");
    if (!bin || !*bin)
        cr_skip_test("FUSE_INJECT is not set: built without libfuse3");
    /* the runtime is not started yet: the options below are read when it
     * is, and libvmem's SIGBUS handler must chain to the test's */
    const char *mode = getenv("VMEM_FAULT_MODE");
    if (mode && !strcmp(mode, "kernel"))
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    if (access("/dev/fuse", R_OK | W_OK) != 0)
        cr_skip_test("/dev/fuse is not usable: %s", strerror(errno));
    snprintf(base, sizeof(base), "/tmp/vmem-fuse-XXXXXX");
    cr_assert_not_null(mkdtemp(base));
    snprintf(src, sizeof(src), "%s/src", base);
    snprintf(mnt, sizeof(mnt), "%s/mnt", base);
    snprintf(control, sizeof(control), "%s/armed", base);
    snprintf(countf, sizeof(countf), "%s/reads", base);
    cr_assert_eq(mkdir(src, 0700), 0);
    cr_assert_eq(mkdir(mnt, 0700), 0);
    char a_src[128], a_control[128], a_count[128];
    snprintf(a_src, sizeof(a_src), "--source=%s", src);
    snprintf(a_control, sizeof(a_control), "--control=%s", control);
    snprintf(a_count, sizeof(a_count), "--count=%s", countf);
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    char a_ready[32];
    snprintf(a_ready, sizeof(a_ready), "--ready=%d", ready[1]);
    pid_t parent = getpid();
    fs_pid = fork();
    cr_assert_geq(fs_pid, 0);
    if (fs_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        close(ready[0]);
        execl(bin, bin, a_src, a_control, a_count, a_ready, fault, mnt, "-f", (char *)NULL);
        _exit(127);
    }
    close(ready[1]);
    /* a byte once the file system answers; end of file if it exited */
    char b;
    ssize_t got;
    while ((got = read(ready[0], &b, 1)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    if (got != 1) {
        waitpid(fs_pid, NULL, 0);
        fs_pid = 0;
        skip_test("the FUSE file system could not be mounted (root needed)");
    }
    struct stat bs, ms;
    cr_assert_eq(stat(base, &bs), 0);
    cr_assert_eq(stat(mnt, &ms), 0);
    cr_assert_neq(ms.st_dev, bs.st_dev, "the FUSE file system is not on %s", mnt);
    char pf[128];
    snprintf(pf, sizeof(pf), "%s/pagefile", mnt);
    setenv("VMEM_PAGEFILE", pf, 1); /* paged_region() pages to it */
}

static void arm(int on)
{
    if (on) {
        int fd = open(control, O_WRONLY | O_CREAT, 0600);
        cr_assert_geq(fd, 0);
        close(fd);
    } else {
        cr_assert_eq(unlink(control), 0);
    }
}

static unsigned long fs_reads(void)
{
    char buf[32] = { 0 };
    int fd = open(countf, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    return n > 0 ? strtoul(buf, NULL, 10) : 0;
}

/* A page the file system will not give back: SIGBUS in this thread, after
 * at most the library's three reads (each may be two: a short read is
 * completed by a second one); and no read at all for a later access. */
static void unreadable_page_raises_sigbus(void)
{
    size_t n;
    uint8_t *p = paged_region(&n, 3);
    size_t victim = find_pagedout(p, n);
    arm(1);
    unsigned long r0 = fs_reads();
    uint64_t v;
    volatile uint64_t *w = (volatile uint64_t *)(p + victim * 4096);
    cr_assert(read_faults(w, &v), "a page the file system cannot read came back");
    unsigned long r1 = fs_reads();
    cr_assert_eq(got_code, BUS_MCEERR_AR, "si_code %d", (int)got_code);
    cr_assert_eq((uintptr_t)got_addr & ~(uintptr_t)4095, (uintptr_t)w);
    cr_assert(r1 > r0 && r1 - r0 <= 6, "%lu reads for one page", r1 - r0);
    cr_assert(read_faults(w + 7, &v));
    cr_assert_eq(got_code, BUS_MCEERR_AR);
    cr_assert_eq(fs_reads(), r1, "the lost page was read again");
    arm(0);
    size_t bad = first_bad_salted(p, 0, n, 3, victim);
    cr_assert_eq(bad, n, "page %zu lost", bad);
    struct vmem_stats s = stats();
    cr_assert_eq(s.inpage_errors, 1);
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
}

Test(fuse_inject, persistent_eio_raises_sigbus, .fini = unmount_fs)
{
    mount_fs("--eio");
    unreadable_page_raises_sigbus();
}

Test(fuse_inject, short_reads_raise_sigbus, .fini = unmount_fs)
{
    mount_fs("--short-reads");
    unreadable_page_raises_sigbus();
}

Test(fuse_inject, transient_eio_is_retried, .fini = unmount_fs)
{
    /* every third read of the file system fails, whichever page it is for:
     * readahead's reads in flight beside a fault's could give one page
     * three failures in a row, which is an in-page error, not a transient
     * one */
    setenv("VMEM_READAHEAD", "off", 1);
    mount_fs("--eio-every=3");
    size_t n;
    uint8_t *p = paged_region(&n, 3);
    (void)find_pagedout(p, n);
    arm(1);
    unsigned long r0 = fs_reads();
    size_t bad = first_bad_salted(p, 0, n, 3, SIZE_MAX);
    cr_assert_eq(bad, n, "page %zu lost", bad);
    cr_assert_geq(fs_reads() - r0, 3, "too few reads to meet an error");
    arm(0);
    struct vmem_stats s = stats();
    cr_assert_eq(s.inpage_errors, 0);
    cr_assert_gt(s.hard_faults, 0);
}

/* A forked child reads the parent's paged-out pages from the parent's page
 * file itself: one it cannot read is an in-page error in the child, after
 * at most three reads, and the parent's copy is untouched. */
Test(fuse_inject, forked_child_gets_sigbus, .fini = unmount_fs)
{
    mount_fs("--eio");
    size_t n;
    uint8_t *p = paged_region(&n, 3);
    size_t victim = find_pagedout(p, n);
    arm(1);
    unsigned long r0 = fs_reads();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        uint64_t v;
        volatile uint64_t *w = (volatile uint64_t *)(p + victim * 4096);
        int code = 0;
        if (!read_faults(w, &v))
            code = 2;
        else if (got_code != BUS_MCEERR_AR || ((uintptr_t)got_addr & ~(uintptr_t)4095) != (uintptr_t)w)
            code = 3;
        unsigned long r1 = fs_reads();
        if (!code && (r1 <= r0 || r1 - r0 > 3))
            code = 4;
        if (!code && (!read_faults(w + 3, &v) || got_code != BUS_MCEERR_AR || fs_reads() != r1))
            code = 5;
        struct vmem_stats s;
        if (!code && (vmem_get_stats(&s) || s.inpage_errors != 1))
            code = 6;
        _exit(code);
    }
    int st = child_status(pid);
    arm(0);
    cr_assert(st < 128, "the child died of signal %d", st - 128);
    cr_assert_eq(st, 0, "child check %d failed", st);
    size_t bad = first_bad_salted(p, 0, n, 3, SIZE_MAX);
    cr_assert_eq(bad, n, "page %zu lost", bad);
    cr_assert_eq(stats().inpage_errors, 0);
}
