/*
 * The published statistics area (api/publish.c) over a process's life: the
 * file it removes at exit is its own, whatever the working directory is
 * then and whatever children it made.
 *
 * Each scenario runs in a forked child with a fresh runtime, in a
 * statistics directory of its own under a temporary directory.
 */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif
#include "helpers.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <vmemstat.h>

static char top[64];

/* A temporary directory with dirs a/shm and b/shm. */
static void make_top(void)
{
    strcpy(top, "/tmp/vmem-publish.XXXXXX");
    cr_assert_not_null(mkdtemp(top), "mkdtemp: %s", strerror(errno));
    char p[128];
    const char *sub[] = { "a", "a/shm", "b", "b/shm" };
    for (unsigned i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/%s", top, sub[i]);
        cr_assert_eq(mkdir(p, 0700), 0, "mkdir %s: %s", p, strerror(errno));
    }
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

/* Removes the temporary directory and what is left in it. */
static void remove_top(void)
{
    nftw(top, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* 1 if top/sub/vmem-stat.PID exists. */
static int area_exists(const char *sub, long pid)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/%s/" VMEM_STATAREA_PREFIX "%ld", top, sub, pid);
    struct stat st;
    return stat(p, &st) == 0;
}

/* Starts the runtime by committing and writing pages. */
static unsigned char *start_runtime(size_t pages)
{
    unsigned char *m = VirtualAlloc(NULL, pages * PG, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (m)
        for (size_t i = 0; i < pages; i++)
            m[i * PG] = (unsigned char)i;
    return m;
}

/* Runs fn in a forked child that ends with exit() (the exit handlers run)
 * and asserts its status is 0; its pid in *pid. */
static void run_exiting(int (*fn)(void), pid_t *pid)
{
    child_msg = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(child_msg, MAP_FAILED);
    *pid = fork();
    cr_assert_neq(*pid, -1, "fork: %s", strerror(errno));
    if (*pid == 0)
        exit(fn());
    int st = child_status(*pid);
    cr_assert(st < 128, "the scenario died of signal %d", st - 128);
    if (st == CHILD_SKIP)
        cr_skip_test("%s", child_msg);
    cr_assert_eq(st, 0, "%s", child_msg);
}

/* ---- a relative VMEM_PUBLISH_DIR ------------------------------------------- */

static int relative_dir_scenario(void)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/a", top);
    CHILD_CHECK(chdir(p) == 0, "chdir %s: %s", p, strerror(errno));
    CHILD_CHECK(start_runtime(8), "VirtualAlloc failed");
    CHILD_CHECK(area_exists("a/shm", (long)getpid()), "no area in the directory of the start");
    /* a same-named file where the relative name now points */
    snprintf(p, sizeof(p), "%s/b", top);
    CHILD_CHECK(chdir(p) == 0, "chdir %s: %s", p, strerror(errno));
    snprintf(p, sizeof(p), "shm/" VMEM_STATAREA_PREFIX "%ld", (long)getpid());
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHILD_CHECK(fd >= 0, "cannot make %s: %s", p, strerror(errno));
    CHILD_CHECK(write(fd, "decoy", 5) == 5, "write: %s", strerror(errno));
    close(fd);
    return 0;
}

Test(publish, relative_dir_removes_its_own_file_after_chdir)
{
    make_top();
    cr_assert_eq(setenv("VMEM_PUBLISH_DIR", "shm", 1), 0);
    pid_t pid;
    run_exiting(relative_dir_scenario, &pid);
    cr_expect(!area_exists("a/shm", (long)pid), "the area was left behind after exit");
    cr_expect(area_exists("b/shm", (long)pid),
              "a same-named file in the directory of the exit was removed");
    remove_top();
}

/* ---- children that must not remove the parent's area ------------------------ */

static char shm_dir[128];

/* In the scenario: waits for a child that only calls exit(0), and checks
 * this process's area is still there. */
static int area_survives(pid_t child, const char *how)
{
    int st;
    CHILD_CHECK(child >= 0, "%s: %s", how, strerror(errno));
    CHILD_CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "%s: the child did not exit with 0", how);
    CHILD_CHECK(area_exists("a/shm", (long)getpid()),
                "the exit of a child made by %s removed its parent's area", how);
    return 0;
}

static int raw_fork_scenario(void)
{
    CHILD_CHECK(start_runtime(8), "VirtualAlloc failed");
    CHILD_CHECK(area_exists("a/shm", (long)getpid()), "no area");
#ifdef __SANITIZE_ADDRESS__
    /* LeakSanitizer's check at exit stops every thread, which in a child
     * of the raw fork system call (one thread left, others' locks copied
     * held) hangs now and then: checked here, once, which also ends the
     * check at exit for this process and the child */
    __lsan_do_leak_check();
#endif
    /* no fork handler runs: the child maps the parent's area as it is */
    pid_t child = (pid_t)syscall(SYS_fork);
    if (child == 0)
        exit(0);
    return area_survives(child, "syscall(SYS_fork)");
}

static int fork_after_shutdown_scenario(void)
{
    CHILD_CHECK(start_runtime(8), "VirtualAlloc failed");
    vmem_shutdown(); /* the area stays until exit */
    CHILD_CHECK(area_exists("a/shm", (long)getpid()), "no area after vmem_shutdown");
    pid_t child = fork();
    if (child == 0)
        exit(0);
    return area_survives(child, "fork after vmem_shutdown");
}

static void owner_only(int (*scenario)(void))
{
    make_top();
    snprintf(shm_dir, sizeof(shm_dir), "%s/a/shm", top);
    cr_assert_eq(setenv("VMEM_PUBLISH_DIR", shm_dir, 1), 0);
    pid_t pid;
    run_exiting(scenario, &pid);
    cr_expect(!area_exists("a/shm", (long)pid), "the owner's exit left its area behind");
    remove_top();
}

Test(publish, raw_fork_child_leaves_parent_area)
{
    owner_only(raw_fork_scenario);
}

Test(publish, fork_after_shutdown_leaves_parent_area)
{
    owner_only(fork_after_shutdown_scenario);
}

/* ---- a forked child's counters ------------------------------------------------ */

static int fork_counters_scenario(void)
{
    struct vmem_config c;
    CHILD_CHECK(start_runtime(64), "VirtualAlloc failed");
    CHILD_CHECK(vmem_get_config(&c) == 0, "vmem_get_config failed");
    if (c.fault_mode == VMEM_FAULT_KERNEL) {
        child_say("fault mode kernel: the kernel serves the faults, no count to inherit");
        return CHILD_SKIP;
    }
    struct vmem_stats mine;
    CHILD_CHECK(vmem_get_stats(&mine) == 0, "vmem_get_stats failed");
    CHILD_CHECK(mine.demand_zero_faults > 0, "no demand-zero fault counted before the fork");
    pid_t child = fork();
    if (child == 0) {
        struct vmem_stats s;
        CHILD_CHECK(vmem_get_stats(&s) == 0, "vmem_get_stats failed in the child");
        CHILD_CHECK(s.demand_zero_faults == 0 && s.demand_zero_pages == 0,
                    "the child's counters start at the parent's: %llu demand-zero faults",
                    (unsigned long long)s.demand_zero_faults);
        /* the gauges describe the copy of the address space the child has */
        CHILD_CHECK(s.commit_charge == mine.commit_charge && s.regions == mine.regions,
                    "the child's commit charge %llu, the parent's %llu",
                    (unsigned long long)s.commit_charge,
                    (unsigned long long)mine.commit_charge);
        const struct vmem_statarea *a;
        CHILD_CHECK(vmem_statarea_open(shm_dir, (long)getpid(), 0, &a) == 0,
                    "the child has no area of its own");
        struct vmem_proc_report r;
        vmem_statarea_read(a, &r);
        vmem_statarea_close(a);
        CHILD_CHECK(r.st.demand_zero_faults == 0,
                    "the child's published counters start at the parent's: %llu",
                    (unsigned long long)r.st.demand_zero_faults);
        exit(0);
    }
    int st;
    CHILD_CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st), "the child died");
    if (WEXITSTATUS(st))
        return WEXITSTATUS(st);
    struct vmem_stats after;
    CHILD_CHECK(vmem_get_stats(&after) == 0, "vmem_get_stats failed");
    CHILD_CHECK(after.demand_zero_faults >= mine.demand_zero_faults,
                "the fork lowered the parent's counters");
    return 0;
}

Test(publish, forked_child_counts_from_zero)
{
    owner_only(fork_counters_scenario);
}
