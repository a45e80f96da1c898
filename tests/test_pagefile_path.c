/*
 * Where the page file goes (VMEM_PAGEFILE): libvmem never removes,
 * truncates or overwrites anything it did not create, and leaves nothing
 * behind after any exit, kill -9 included.  A directory gets an unnamed
 * file per process; so does a path that does not exist yet, in its
 * directory, the name never created; an existing non-directory path is
 * refused and left untouched.  A descriptor the application replaces is
 * never written.
 *
 * Each scenario runs in forked children that start libvmem from the
 * environment (this process never starts it).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <memoryapi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vmem.h>

#include "helpers.h"

#define CHILD_PAGES 1024 /* 4 MiB under a 1 MiB cap */

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/var/tmp/vmem-pfpath-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_tree(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void need_paging_mode(void)
{
    const char *m = getenv("VMEM_FAULT_MODE");
    if (m && !strcmp(m, "kernel"))
        cr_skip_test("fault mode kernel: no paging, so no page file");
}

/* Entries in dir other than those named in keep (NULL-terminated). */
static int entries(const char *const *keep)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        int kept = 0;
        for (size_t i = 0; keep && keep[i]; i++)
            kept |= !strcmp(e->d_name, keep[i]);
        if (!kept) {
            cr_log_error("left behind: %s/%s", dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* Exit codes of the children */
enum { OK = 0, ALLOC_FAILED = 10, BAD_DATA = 11, NOT_PAGED = 12, ALLOC_SUCCEEDED = 13,
       NO_ERROR_CODE = 14 };

/* In a child: starts libvmem on `pagefile` under a 1 MiB cap, writes 4 MiB
 * and reads it back; the page file must have been used.  If ready_fd >= 0,
 * then says so on it and waits for a byte on go_fd before checking again. */
static int child_pages(const char *pagefile, int ready_fd, int go_fd)
{
    setenv("VMEM_PAGEFILE", pagefile, 1);
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    uint64_t *m = VirtualAlloc(NULL, CHILD_PAGES * 4096, MEM_COMMIT | MEM_RESERVE,
                               PAGE_READWRITE);
    if (!m)
        return ALLOC_FAILED;
    for (size_t i = 0; i < CHILD_PAGES * 512; i += 64)
        m[i] = i * 2654435761u + (uint64_t)getpid();
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < CHILD_PAGES * 512; i += 64)
            if (m[i] != i * 2654435761u + (uint64_t)getpid())
                return BAD_DATA;
        if (round == 0 && ready_fd >= 0) {
            char c = 1;
            if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
                return BAD_DATA;
        }
    }
    struct vmem_stats s;
    if (vmem_get_stats(&s) || s.pages_written == 0)
        return NOT_PAGED;
    return OK;
}

/* In a child: starting libvmem on `pagefile` must fail cleanly. */
static int child_refused(const char *pagefile)
{
    setenv("VMEM_PAGEFILE", pagefile, 1);
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    for (int i = 0; i < 2; i++) {
        void *m = VirtualAlloc(NULL, 65536, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
        if (m)
            return ALLOC_SUCCEEDED;
        if (GetLastError() == 0)
            return NO_ERROR_CODE;
    }
    return OK;
}

static int run_refused(const char *pagefile)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child_refused(pagefile));
    return child_status(pid);
}

Test(pagefile_path, existing_file_refused_and_untouched, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    char path[128];
    snprintf(path, sizeof(path), "%s/precious", dir);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    cr_assert_geq(fd, 0);
    static const char text[] = "data that is not libvmem's";
    cr_assert_eq(write(fd, text, sizeof(text)), (ssize_t)sizeof(text));
    close(fd);
    struct stat before, after;
    cr_assert_eq(stat(path, &before), 0);

    cr_assert_eq(run_refused(path), OK, "VirtualAlloc must fail with a Win32 error");

    cr_assert_eq(stat(path, &after), 0, "the existing file was removed");
    cr_assert_eq(after.st_ino, before.st_ino, "the existing file was replaced");
    cr_assert_eq(after.st_size, before.st_size, "the existing file changed size");
    char back[sizeof(text)] = { 0 };
    fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
    close(fd);
    cr_assert_eq(memcmp(back, text, sizeof(text)), 0, "the existing file was overwritten");
}

Test(pagefile_path, device_node_refused_and_untouched, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    char path[128];
    snprintf(path, sizeof(path), "%s/null", dir);
    if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0)
        cr_skip_test("mknod: %s", strerror(errno));
    struct stat before, after;
    cr_assert_eq(stat(path, &before), 0);
    cr_assert_eq(run_refused(path), OK, "VirtualAlloc must fail with a Win32 error");
    cr_assert_eq(stat(path, &after), 0, "the device node was removed");
    cr_assert_eq(after.st_ino, before.st_ino);
    cr_assert(S_ISCHR(after.st_mode));
    cr_assert_eq(after.st_rdev, before.st_rdev);
}

/* Two processes started on the same path at the same time: each gets its
 * own file, both page and read back. */
Test(pagefile_path, same_path_two_processes, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    char path[128];
    snprintf(path, sizeof(path), "%s/pagefile", dir);
    int ready[2], go[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    pid_t a = fork();
    cr_assert_geq(a, 0);
    if (a == 0)
        _exit(child_pages(path, ready[1], go[0]));
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1, "the first process did not start paging");
    /* the first one is running, its page file open */
    pid_t b = fork();
    cr_assert_geq(b, 0);
    if (b == 0)
        _exit(child_pages(path, -1, -1));
    int rb = child_status(b);
    cr_assert_eq(write(go[1], &c, 1), 1);
    int ra = child_status(a);
    cr_assert_eq(rb, OK, "the second process on %s: exit %d", path, rb);
    cr_assert_eq(ra, OK, "the first process on %s: exit %d", path, ra);
    cr_assert_eq(entries(NULL), 0, "nothing is left behind");
}

/* A normal exit without vmem_shutdown leaves nothing, whether a directory
 * or a new path was named. */
static void exits_cleanly(const char *pagefile)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        exit(child_pages(pagefile, -1, -1));
    cr_assert_eq(child_status(pid), OK);
    cr_assert_eq(entries(NULL), 0, "nothing is left behind after exit");
}

/* kill -9 of a process that paged leaves nothing. */
static void killed_cleanly(const char *pagefile)
{
    int ready[2], go[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child_pages(pagefile, ready[1], go[0]));
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1, "the child did not start paging");
    kill(pid, SIGKILL);
    cr_assert_eq(child_status(pid), 128 + SIGKILL);
    cr_assert_eq(entries(NULL), 0, "nothing is left behind after kill -9");
}

Test(pagefile_path, directory_leaves_nothing, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    exits_cleanly(dir);
    killed_cleanly(dir);
}

Test(pagefile_path, new_path_leaves_nothing, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    char path[128];
    snprintf(path, sizeof(path), "%s/pagefile", dir);
    exits_cleanly(path);
    /* and the next run on the same path works */
    exits_cleanly(path);
    killed_cleanly(path);
    killed_cleanly(path);
}

/* A path that does not exist is never taken as a name, not even for an
 * instant: processes given the same path (a `vmem run` tree) would
 * otherwise find a sibling's file there and refuse to start. */
Test(pagefile_path, new_path_name_never_created, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    char path[128];
    snprintf(path, sizeof(path), "%s/pagefile", dir);
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    cr_assert_geq(in, 0, "inotify_init1: %s", strerror(errno));
    cr_assert_geq(inotify_add_watch(in, dir, IN_CREATE), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child_pages(path, -1, -1));
    int r = child_status(pid);
    cr_assert_eq(r, OK, "the process on %s: exit %d", path, r);
    char buf[4096];
    ssize_t n = read(in, buf, sizeof(buf));
    close(in);
    cr_assert_eq(n, -1, "a name was created in %s (%zd bytes of events)", dir, n);
    cr_assert_eq(errno, EAGAIN);
}

/* ---- the application's own file on the page file's descriptor number ---- */

/* The lowest descriptor number at or above `from` that names this process's
 * page file (an unlinked file in dir), or -1. */
static int pagefile_number(int from)
{
    for (int fd = from; fd < 1024; fd++) {
        char link[64], target[512];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (strncmp(target, dir, strlen(dir)) == 0 && strstr(target, "(deleted)"))
            return fd;
    }
    return -1;
}

/* The application's file at path: `bytes` of 'V', on disk; its blocks. */
static blkcnt_t victim_make(const char *path, size_t bytes)
{
    int v = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(v, 0);
    char buf[65536];
    memset(buf, 'V', sizeof(buf));
    for (size_t done = 0; done < bytes;) {
        size_t n = bytes - done < sizeof(buf) ? bytes - done : sizeof(buf);
        cr_assert_eq(write(v, buf, n), (ssize_t)n);
        done += n;
    }
    struct stat st;
    cr_assert_eq(fsync(v), 0);
    cr_assert_eq(fstat(v, &st), 0);
    close(v);
    return st.st_blocks;
}

/* The application's file is as victim_make left it (no byte written, no
 * hole punched); removed. */
static void victim_check(const char *path, size_t bytes, blkcnt_t blocks)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    int v = open(path, O_RDONLY | O_CLOEXEC);
    size_t bad = 0, got = 0;
    char buf[65536];
    for (ssize_t n; v >= 0 && (n = read(v, buf, sizeof(buf))) > 0; got += (size_t)n)
        for (ssize_t k = 0; k < n; k++)
            bad += buf[k] != 'V';
    if (v >= 0)
        close(v);
    unlink(path);
    cr_assert_eq(st.st_size, (off_t)bytes, "the application's file is now %lld bytes",
                 (long long)st.st_size);
    cr_assert_eq(got, bytes);
    cr_assert_eq(bad, 0, "%zu bytes of the application's file changed", bad);
    cr_assert_eq(st.st_blocks, blocks, "holes punched in the application's file (%lld blocks, "
                 "were %lld)", (long long)st.st_blocks, (long long)blocks);
}

/* The application replaces the page file's descriptor with a file of its
 * own (dup2): libvmem must never write into that file, nor hang; pages it
 * could not write stay in memory and read back. */
static int child_descriptor_replaced(const char *victim)
{
    setenv("VMEM_PAGEFILE", dir, 1);
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    uint64_t *m = VirtualAlloc(NULL, CHILD_PAGES * 4096, MEM_COMMIT | MEM_RESERVE,
                               PAGE_READWRITE);
    if (!m)
        return ALLOC_FAILED;
    for (size_t i = 0; i < CHILD_PAGES * 512; i += 64)
        m[i] = i + 1;
    int replaced = 0;
    for (int fd = pagefile_number(3); fd >= 0; fd = pagefile_number(fd + 1)) {
        int v = open(victim, O_RDWR | O_CLOEXEC);
        if (v < 0 || dup2(v, fd) != fd)
            return BAD_DATA;
        close(v);
        replaced++;
    }
    if (!replaced)
        return NOT_PAGED;
    /* new pages under the cap: their writes must not reach the victim */
    uint64_t *w = VirtualAlloc(NULL, CHILD_PAGES * 4096, MEM_COMMIT | MEM_RESERVE,
                               PAGE_READWRITE);
    if (!w)
        return ALLOC_FAILED;
    for (size_t i = 0; i < CHILD_PAGES * 512; i += 64)
        w[i] = i * 3 + 7;
    for (size_t i = 0; i < CHILD_PAGES * 512; i += 64)
        if (w[i] != i * 3 + 7)
            return BAD_DATA;
    return OK;
}

Test(pagefile_path, descriptor_replaced_by_the_application, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    char victim[128];
    snprintf(victim, sizeof(victim), "/var/tmp/vmem-victim-%d", (int)getpid());
    blkcnt_t blocks = victim_make(victim, 100000);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child_descriptor_replaced(victim));
    int r = child_status(pid);
    victim_check(victim, 100000, blocks);
    cr_assert_eq(r, OK, "the child: exit %d", r);
}

/* The application flips the page file's descriptor number between a file
 * of its own and the page file (dup2 in a tight loop, from another thread)
 * while the process pages: its file must never receive a byte nor lose one
 * (a hole punched), whichever number libvmem checked a moment before the
 * I/O; pages read back right, or are in-page errors (SIGBUS BUS_MCEERR_AR),
 * with the page file's checksums off too. */
#define FLIP_PAGES 2048 /* 8 MiB under a 1 MiB cap */

static volatile int flip_stop;
static int flip_fd, flip_victim, flip_saved;

static void *flipper(void *arg)
{
    (void)arg;
    while (!flip_stop) {
        (void)dup2(flip_victim, flip_fd);
        (void)dup2(flip_saved, flip_fd);
    }
    return NULL;
}

static int child_descriptor_flipped(const char *victim)
{
    setenv("VMEM_PAGEFILE", dir, 1);
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    setenv("VMEM_PAGEFILE_CHECKSUM", "off", 1); /* a wrong page must not come back */
    catch_sigbus();
    uint64_t *m = VirtualAlloc(NULL, FLIP_PAGES * 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (!m)
        return ALLOC_FAILED;
    for (size_t i = 0; i < FLIP_PAGES * 512; i += 64)
        m[i] = i + 1;
    if ((flip_fd = pagefile_number(3)) < 0)
        return NOT_PAGED;
    flip_saved = dup(flip_fd);
    flip_victim = open(victim, O_RDWR | O_CLOEXEC);
    if (flip_saved < 0 || flip_victim < 0)
        return BAD_DATA;
    pthread_t t;
    if (start_thread(&t, flipper, NULL) != 0)
        return BAD_DATA;
    /* rounds of reads and writes of every page not lost, while it flips */
    static uint8_t lost[FLIP_PAGES];
    int r = OK;
    for (uint64_t round = 1; round <= 3 && r == OK; round++) {
        for (size_t pg = 0; pg < FLIP_PAGES && r == OK; pg++) {
            if (lost[pg])
                continue;
            size_t i = pg * 512;
            uint64_t got;
            if (read_faults(&m[i], &got)) {
                if (got_code != BUS_MCEERR_AR)
                    r = BAD_DATA;
                lost[pg] = 1;
                continue;
            }
            if (got != (round == 1 ? i + 1 : i * round))
                r = BAD_DATA; /* wrong data, silently */
            else if (write_faults(&m[i], i * (round + 1)))
                lost[pg] = 1;
        }
    }
    flip_stop = 1;
    pthread_join(t, NULL);
    (void)dup2(flip_saved, flip_fd);
    return r;
}

Test(pagefile_path, descriptor_flipped_by_the_application, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    char victim[128];
    snprintf(victim, sizeof(victim), "/var/tmp/vmem-flipped-%d", (int)getpid());
    blkcnt_t blocks = victim_make(victim, 16 << 20);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child_descriptor_flipped(victim));
    int r = child_status(pid);
    victim_check(victim, 16 << 20, blocks);
    cr_assert_eq(r, OK, "the child: exit %d", r);
}

/* In a child, in dir: a relative VMEM_PAGEFILE names a directory of the
 * working directory at start; a chdir later moves nothing. */
static int child_relative(void)
{
    char name[64];
    snprintf(name, sizeof(name), "Local\\vmem-relpf-%d", (int)getpid());
    if (chdir(dir) != 0 || mkdir("pf", 0700) != 0)
        return BAD_DATA;
    setenv("VMEM_PAGEFILE", "pf", 1);
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4 << 20, name);
    if (!h)
        return ALLOC_FAILED;
    struct vmem_config c;
    if (vmem_get_config(&c) || c.pagefile[0] != '/')
        return NO_ERROR_CODE; /* the path kept relative */
    if (chdir("/") != 0)
        return BAD_DATA;
    uint64_t *v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    if (!v)
        return ALLOC_FAILED;
    for (size_t i = 0; i < (4u << 20) / 8; i += 512)
        v[i] = i ^ 0x5a5a;
    for (size_t i = 0; i < (4u << 20) / 8; i += 512)
        if (v[i] != (i ^ 0x5a5a))
            return BAD_DATA;
    if (!UnmapViewOfFile(v) || !CloseHandle(h))
        return ALLOC_FAILED;
    return OK;
}

Test(pagefile_path, relative_path_taken_at_start, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child_relative());
    cr_assert_eq(child_status(pid), OK);
    char pf[128];
    snprintf(pf, sizeof(pf), "%s/pf", dir);
    DIR *d = opendir(pf);
    cr_assert_not_null(d);
    struct dirent *e;
    int left = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            cr_log_error("left behind: %s/%s", pf, e->d_name);
            left++;
        }
    closedir(d);
    cr_assert_eq(left, 0, "a slot file stayed after the section's last handle closed");
    cr_assert_eq(rmdir(pf), 0);
}

/* ---- paging stopped, threads alive: the page file's file system is free --- */

/* Each thread's io_uring ring holds the page file it registered (so that a
 * descriptor number the application replaces cannot redirect its I/O):
 * once paging stops, none may keep the file -- or its file system -- busy,
 * although the threads that paged (the faulting threads themselves, in
 * fault mode signal) live on. */
#define LIVE_THREADS 4

static int live_ready[2], live_go[2];

static void *page_then_wait(void *arg)
{
    uint64_t *m = arg;
    for (size_t i = 0; i < CHILD_PAGES * 512; i += 64)
        m[i] = i * 7 + (uintptr_t)arg;
    char c = OK;
    for (size_t i = 0; i < CHILD_PAGES * 512; i += 64)
        if (m[i] != i * 7 + (uintptr_t)arg)
            c = BAD_DATA;
    if (write(live_ready[1], &c, 1) != 1 || read(live_go[0], &c, 1) != 1)
        return NULL;
    return NULL;
}

static int child_live_threads(const char *pagefile, int to_parent, int from_parent)
{
    setenv("VMEM_PAGEFILE", pagefile, 1);
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    if (pipe(live_ready) || pipe(live_go))
        return BAD_DATA;
    pthread_t t[LIVE_THREADS];
    for (int k = 0; k < LIVE_THREADS; k++) {
        void *m = VirtualAlloc(NULL, CHILD_PAGES * 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
        if (!m)
            return ALLOC_FAILED;
        if (start_thread(&t[k], page_then_wait, m) != 0)
            return BAD_DATA;
    }
    int r = OK;
    for (int k = 0; k < LIVE_THREADS; k++) {
        char c;
        if (read(live_ready[0], &c, 1) != 1)
            return BAD_DATA;
        if (c != OK)
            r = c;
    }
    struct vmem_stats s;
    if (r == OK && (vmem_get_stats(&s) || s.pages_read == 0))
        r = NOT_PAGED;
    vmem_shutdown();
    /* the threads are alive and waiting: the parent unmounts now */
    char c = (char)r;
    if (write(to_parent, &c, 1) != 1 || read(from_parent, &c, 1) != 1)
        return BAD_DATA;
    for (int k = 0; k < LIVE_THREADS; k++)
        if (write(live_go[1], &c, 1) != 1)
            return BAD_DATA;
    for (int k = 0; k < LIVE_THREADS; k++)
        pthread_join(t[k], NULL);
    return r;
}

Test(pagefile_path, stopped_paging_leaves_no_file_open, .init = setup, .fini = remove_tree)
{
    need_paging_mode();
    if (geteuid() != 0)
        cr_skip_test("not root: cannot mount a tmpfs for the page file");
    char fs[128];
    snprintf(fs, sizeof(fs), "%s/fs", dir);
    cr_assert_eq(mkdir(fs, 0700), 0);
    if (mount("tmpfs", fs, "tmpfs", 0, "size=64m") != 0)
        cr_skip_test("cannot mount a tmpfs at %s: %s", fs, strerror(errno));
    int up[2], down[2];
    cr_assert_eq(pipe(up), 0);
    cr_assert_eq(pipe(down), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child_live_threads(fs, up[1], down[0]));
    close(up[1]);
    close(down[0]);
    char c = BAD_DATA;
    ssize_t n = read(up[0], &c, 1);
    int um = n == 1 ? umount(fs) : -1, ue = errno;
    if (um != 0)
        (void)umount2(fs, MNT_DETACH);
    c = 1;
    (void)!write(down[1], &c, 1);
    int r = child_status(pid);
    close(up[0]);
    close(down[1]);
    rmdir(fs);
    cr_assert_eq(n, 1, "the child ended before paging stopped: exit %d", r);
    cr_assert_eq(um, 0, "paging stopped, the page file's file system is still busy: %s",
                 strerror(ue));
    cr_assert_eq(r, OK, "the child: exit %d", r);
}
