/*
 * test_run.c -- `vmem run` as a process tree sees it: the signals a user
 * sends to vmem run reach CMD (once, also from a terminal), CMD's death is
 * vmem run's status, a killed vmem run takes CMD with it; the exit statuses
 * of env and timeout (125, 126, 127); a SIGSEGV or SIGBUS sent to a process
 * under the preload or linked with libvmem.so kills it; and one page-file
 * rule for every process of a tree, which leaves nothing behind.
 *
 * Every wait is on a pipe or on waitpid: CMD (run_child.c) says it is ready
 * and which signals it caught on its stdout, and ends at EOF on its stdin.
 * Environment (tests/preload/meson.build): VMEM_TOOL, RUN_CHILD (plain) and
 * RUN_CHILD_LINKED (linked with libvmem.so); VMEM_FAULT_MODE is passed on.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char *env_path(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v && *v, "%s is not set (run through meson test)", name);
    return v;
}

/* In a child about to exec: default dispositions and an empty mask for
 * every signal the tests send, no core files (SIGQUIT). */
static void child_defaults(void)
{
    static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                SIGWINCH, SIGCONT, SIGALRM, SIGSEGV, SIGBUS, SIGPIPE };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);
}

/* A command run to its end: its status (128+N for signal N) and what it
 * wrote to stdout. */
struct ran {
    int status;
    char out[4096];
};

static int status_of(int st)
{
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static struct ran run(char *const argv[])
{
    struct ran r;
    memset(&r, 0, sizeof(r));
    int out[2];
    cr_assert_eq(pipe(out), 0, "pipe: %m");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %m");
    if (pid == 0) {
        child_defaults();
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(argv[0], argv);
        _exit(99);
    }
    close(out[1]);
    size_t got = 0;
    ssize_t n;
    while ((n = read(out[0], r.out + got, sizeof(r.out) - 1 - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        cr_assert_gt(n, 0, "read: %m");
        got += (size_t)n;
        cr_assert_lt(got, sizeof(r.out) - 1, "too much output");
    }
    close(out[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid, "waitpid: %m");
    r.status = status_of(st);
    return r;
}

/* `vmem run -- run_child wait [SIG...]`, ready: CMD's stdin and stdout are
 * ours, its pid read from its ready message. */
struct running {
    pid_t vmem, cmd;
    int in, out;
    int tty; /* the pty's master side, or -1 */
};

static struct running start_waiting(const int *catch, int ncatch, int own_session)
{
    char nums[8][8];
    char *argv[16] = { (char *)env_path("VMEM_TOOL"), "run", "--",
                       (char *)env_path("RUN_CHILD"), "wait" };
    int argc = 5;
    for (int i = 0; i < ncatch; i++) {
        snprintf(nums[i], sizeof(nums[i]), "%d", catch[i]);
        argv[argc++] = nums[i];
    }
    argv[argc] = NULL;
    int in[2], out[2], master = -1;
    cr_assert_eq(pipe(in), 0, "pipe: %m");
    cr_assert_eq(pipe(out), 0, "pipe: %m");
    const char *slave = NULL;
    if (own_session) {
        master = posix_openpt(O_RDWR | O_NOCTTY);
        cr_assert_geq(master, 0, "posix_openpt: %m");
        cr_assert_eq(grantpt(master), 0, "grantpt: %m");
        cr_assert_eq(unlockpt(master), 0, "unlockpt: %m");
        slave = ptsname(master);
        cr_assert_not_null(slave, "ptsname: %m");
    }
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %m");
    if (pid == 0) {
        child_defaults();
        if (own_session) {
            /* a session of its own whose controlling terminal is the pty:
             * vmem run and CMD are its foreground process group */
            if (setsid() < 0)
                _exit(97);
            int t = open(slave, O_RDWR); /* without O_NOCTTY: it becomes the
                                            session's controlling terminal */
            if (t < 0)
                _exit(98);
            close(t);
            close(master);
        }
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execv(argv[0], argv);
        _exit(99);
    }
    close(in[0]);
    close(out[1]);
    struct running r = { .vmem = pid, .in = in[1], .out = out[0], .tty = master };
    unsigned char ready[1 + sizeof(pid_t)];
    size_t got = 0;
    while (got < sizeof(ready)) {
        ssize_t n = read(r.out, ready + got, sizeof(ready) - got);
        if (n < 0 && errno == EINTR)
            continue;
        cr_assert_gt(n, 0, "CMD ended before it was ready");
        got += (size_t)n;
    }
    cr_assert_eq(ready[0], 'R', "CMD's ready message");
    memcpy(&r.cmd, ready + 1, sizeof(pid_t));
    return r;
}

/* The next byte CMD wrote (the number of a signal it caught), or -1 at EOF. */
static int next_caught(const struct running *r)
{
    unsigned char b;
    ssize_t n;
    while ((n = read(r->out, &b, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 ? b : -1;
}

/* Closes CMD's stdin (it exits 0 then), reads what it still writes, and
 * returns vmem run's status. */
static int finish(struct running *r, int *more)
{
    close(r->in);
    *more = 0;
    while (next_caught(r) >= 0)
        (*more)++;
    close(r->out);
    int st;
    cr_assert_eq(waitpid(r->vmem, &st, 0), r->vmem, "waitpid: %m");
    cr_assert(WIFEXITED(st), "vmem run itself died of signal %d", WTERMSIG(st));
    return WEXITSTATUS(st);
}

/* ---- signals sent to vmem run ------------------------------------------- */

static const int fatal_sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM };
static const int all_sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                SIGWINCH, SIGCONT, SIGALRM };
#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(run, signal_kills_cmd_and_is_the_status)
{
    for (size_t i = 0; i < N(fatal_sigs); i++) {
        int sig = fatal_sigs[i];
        struct running r = start_waiting(NULL, 0, 0);
        cr_assert_eq(kill(r.vmem, sig), 0, "kill: %m");
        /* CMD dies of it, its stdout closes: EOF, no byte */
        cr_assert_eq(next_caught(&r), -1, "CMD wrote after signal %d", sig);
        int more;
        int st = finish(&r, &more);
        cr_assert_eq(st, 128 + sig, "signal %s: vmem run's status %d, not %d", strsignal(sig),
                     st, 128 + sig);
    }
}

Test(run, signal_reaches_cmd_handler_once)
{
    for (size_t i = 0; i < N(all_sigs); i++) {
        int sig = all_sigs[i];
        struct running r = start_waiting(&sig, 1, 0);
        cr_assert_eq(kill(r.vmem, sig), 0, "kill: %m");
        int got = next_caught(&r);
        cr_assert_eq(got, sig, "%s sent to vmem run: CMD caught %d", strsignal(sig), got);
        int more;
        int st = finish(&r, &more);
        cr_assert_eq(more, 0, "%s: CMD caught %d more signals", strsignal(sig), more);
        cr_assert_eq(st, 0, "%s: vmem run's status %d, not CMD's 0", strsignal(sig), st);
    }
}

Test(run, terminal_interrupt_reaches_cmd_once)
{
    /* Ctrl-C on the terminal: the kernel sends SIGINT to the foreground
     * process group, vmem run and CMD both.  CMD must see one, not a second
     * one forwarded by vmem run.  SIGUSR1 sent to vmem run afterwards comes
     * after any SIGINT vmem run would have forwarded (vmem run handles
     * them in order, the lower number first). */
    int sigs[] = { SIGINT, SIGUSR1 };
    struct running r = start_waiting(sigs, 2, 1);
    struct termios t;
    cr_assert_eq(tcgetattr(r.tty, &t), 0, "tcgetattr: %m");
    cr_assert(t.c_lflag & ISIG, "the pty does not turn ^C into SIGINT");
    char intr = (char)t.c_cc[VINTR];
    cr_assert_eq(write(r.tty, &intr, 1), 1, "write to the pty: %m");
    int got = next_caught(&r);
    cr_assert_eq(got, SIGINT, "CMD caught %d, not SIGINT, after ^C", got);
    cr_assert_eq(kill(r.vmem, SIGUSR1), 0, "kill: %m");
    int ints = 0;
    while ((got = next_caught(&r)) == SIGINT)
        ints++;
    cr_assert_eq(got, SIGUSR1, "CMD caught %d, not SIGUSR1", got);
    cr_assert_eq(ints, 0, "CMD caught SIGINT %d more times after ^C", ints);
    int more;
    int st = finish(&r, &more);
    close(r.tty);
    cr_assert_eq(st, 0, "vmem run's status %d after ^C caught by CMD", st);
}

Test(run, group_signal_from_cmds_child_reaches_cmd_once)
{
    /* A child of CMD sends SIGUSR1 to its process group, which vmem run and
     * CMD share: the kernel gives CMD its copy; vmem run must not pass its
     * own on.  SIGUSR2 sent to vmem run afterwards comes after any SIGUSR1
     * it would have passed on (handled in order, the lower number first);
     * the sender stays until then.  Two copies pending at once in CMD
     * merge, so a duplicate shows in some rounds only: ten of them. */
    int sigs[] = { SIGUSR1, SIGUSR2 };
    struct running r = start_waiting(sigs, 2, 1);
    int extra = 0;
    for (int round = 0; round < 10; round++) {
        cr_assert_eq(write(r.in, "g", 1), 1, "write: %m");
        int got, usr1 = 0;
        while ((got = next_caught(&r)) != 'G') {
            cr_assert_eq(got, SIGUSR1, "CMD wrote %d, not SIGUSR1 or 'G'", got);
            usr1++;
        }
        cr_assert_eq(usr1, 1, "round %d: CMD caught its group's SIGUSR1 %d times", round, usr1);
        cr_assert_eq(kill(r.vmem, SIGUSR2), 0, "kill: %m");
        while ((got = next_caught(&r)) == SIGUSR1)
            extra++;
        cr_assert_eq(got, SIGUSR2, "CMD caught %d, not SIGUSR2", got);
        cr_assert_eq(write(r.in, "e", 1), 1, "write: %m");
    }
    int more;
    int st = finish(&r, &more);
    close(r.tty);
    cr_assert_eq(extra, 0, "CMD caught SIGUSR1 %d more times than its group was sent it", extra);
    cr_assert_eq(st, 0, "vmem run's status %d", st);
}

Test(run, sigkill_of_vmem_run_kills_cmd)
{
    /* CMD, orphaned, comes to this process */
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0, "PR_SET_CHILD_SUBREAPER: %m");
    struct running r = start_waiting(NULL, 0, 0);
    cr_assert_eq(kill(r.vmem, SIGKILL), 0, "kill: %m");
    int st;
    cr_assert_eq(waitpid(r.vmem, &st, 0), r.vmem, "waitpid: %m");
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    /* CMD's death signal was sent as vmem run died; were CMD left running,
     * EOF on its stdin would end it with 0 */
    close(r.in);
    cr_assert_eq(waitpid(r.cmd, &st, 0), r.cmd, "CMD: waitpid: %m");
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
              "CMD outlived vmem run's SIGKILL (status %d)", status_of(st));
    close(r.out);
}

/* ---- exit statuses ---------------------------------------------------------- */

static struct ran vmem_run(const char *a, const char *b, const char *c, const char *d)
{
    char *argv[] = { (char *)env_path("VMEM_TOOL"), "run", (char *)a, (char *)b, (char *)c,
                     (char *)d, NULL };
    return run(argv);
}

static char work[] = "/var/tmp/vmem-run-test.XXXXXX";

static void make_work(void)
{
    cr_assert_not_null(mkdtemp(work), "mkdtemp: %m");
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    cr_assert_geq(fd, 0, "%s: %m", path);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
}

static void remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(run, status_of_cmd)
{
    struct ran r = vmem_run("--", "/bin/sh", "-c", "echo hi; exit 42");
    cr_assert_eq(r.status, 42, "status %d", r.status);
    cr_assert_str_eq(r.out, "hi\n");
    r = vmem_run("--", "/bin/sh", "-c", "kill -TERM $$");
    cr_assert_eq(r.status, 128 + SIGTERM, "status %d", r.status);
}

Test(run, started_with_sigchld_ignored)
{
    /* vmem run started with SIGCHLD ignored (the kernel would reap CMD
     * itself): CMD's status all the same, and CMD is started with SIGCHLD
     * ignored as vmem run was (grep shows its ignored signals: bit 17-1) */
    char *argv[] = { "/usr/bin/env", "--ignore-signal=CHLD", (char *)env_path("VMEM_TOOL"), "run",
                     "--", "/bin/sh", "-c", "exit 7", NULL };
    if (access(argv[0], X_OK) != 0)
        cr_skip_test("no /usr/bin/env to start vmem run with SIGCHLD ignored");
    struct ran r = run(argv);
    cr_assert_eq(r.status, 7, "status %d with SIGCHLD ignored, not CMD's 7", r.status);
    char *grep[] = { "/usr/bin/env", "--ignore-signal=CHLD", (char *)env_path("VMEM_TOOL"), "run",
                     "--", "grep", "SigIgn", "/proc/self/status", NULL };
    r = run(grep);
    cr_assert_eq(r.status, 0, "status %d", r.status);
    unsigned long long ign = 0;
    cr_assert_eq(sscanf(r.out, "SigIgn: %llx", &ign), 1, "%s", r.out);
    cr_assert(ign & (1ull << (SIGCHLD - 1)), "CMD does not ignore SIGCHLD: %s", r.out);
}

Test(run, status_127_not_found)
{
    struct ran r = vmem_run("--", "vmem-no-such-command", NULL, NULL);
    cr_assert_eq(r.status, 127, "status %d", r.status);
    r = vmem_run("--", "/nonexistent/dir/cmd", NULL, NULL);
    cr_assert_eq(r.status, 127, "status %d", r.status);
    /* an empty name is no file, as env(1) says (not a directory of PATH
     * that cannot be executed) */
    r = vmem_run("--", "", NULL, NULL);
    cr_assert_eq(r.status, 127, "empty CMD: status %d", r.status);
}

Test(run, status_126_name_too_long)
{
    /* as env(1): a name longer than a file name can be is found but cannot
     * be executed (ENAMETOOLONG) */
    char name[301];
    memset(name, 'a', 300);
    name[300] = 0;
    struct ran r = vmem_run("--", name, NULL, NULL);
    cr_assert_eq(r.status, 126, "status %d", r.status);
}

Test(run, status_126_cannot_execute)
{
    make_work();
    char path[256];
    snprintf(path, sizeof(path), "%s/not-executable", work);
    write_file(path, "echo ran\n", 0644);
    struct ran r = vmem_run("--", path, NULL, NULL);
    cr_assert_eq(r.status, 126, "not executable (EACCES): status %d", r.status);
    r = vmem_run("--", work, NULL, NULL);
    cr_assert_eq(r.status, 126, "a directory: status %d", r.status);
    snprintf(path, sizeof(path), "%s/bad-elf", work);
    int fd = open(path, O_WRONLY | O_CREAT, 0755);
    static const char elf[] = "\177ELF\2\1\1\0garbage\0\0\0";
    cr_assert_eq(write(fd, elf, sizeof(elf)), (ssize_t)sizeof(elf));
    close(fd);
    r = vmem_run("--", path, NULL, NULL);
    cr_assert_eq(r.status, 126, "not a valid executable (ENOEXEC): status %d", r.status);
    /* a script without "#!" is the shell's, as with env and execvp */
    snprintf(path, sizeof(path), "%s/script", work);
    write_file(path, "echo script \"$1\"; exit 5\n", 0755);
    r = vmem_run("--", path, "arg", NULL);
    cr_assert_eq(r.status, 5, "script without #!: status %d", r.status);
    cr_assert_str_eq(r.out, "script arg\n");
    remove_tree(work);
}

Test(run, status_125_no_preload_library)
{
    make_work();
    char copy[256], cmd[600];
    snprintf(copy, sizeof(copy), "%s/bin", work);
    cr_assert_eq(mkdir(copy, 0755), 0, "mkdir: %m");
    snprintf(copy, sizeof(copy), "%s/bin/vmem", work);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", env_path("VMEM_TOOL"), copy);
    cr_assert_eq(system(cmd), 0);
    char *argv[] = { copy, "run", "--", "/bin/echo", "ran", NULL };
    struct stat st;
    if (stat(VMEM_PRELOAD_INSTALLED, &st) == 0)
        cr_skip_test("the preload library is installed (%s)", VMEM_PRELOAD_INSTALLED);
    struct ran r = run(argv);
    cr_assert_eq(r.status, 125, "status %d", r.status);
    cr_assert_str_eq(r.out, "", "CMD ran");
    remove_tree(work);
}

Test(run, status_125_pagefile_existing_file)
{
    make_work();
    char file[256];
    snprintf(file, sizeof(file), "%s/keep", work);
    write_file(file, "precious\n", 0644);
    struct stat before, after;
    cr_assert_eq(stat(file, &before), 0);
    char *argv[] = { (char *)env_path("VMEM_TOOL"), "run", "--max-resident", "4M",
                     "--pagefile", file, "--", "/bin/echo", "ran", NULL };
    struct ran r = run(argv);
    cr_assert_eq(r.status, 125, "status %d", r.status);
    cr_assert_str_eq(r.out, "", "CMD was started");
    cr_assert_eq(stat(file, &after), 0);
    cr_assert(after.st_size == before.st_size && after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
              after.st_mtim.tv_nsec == before.st_mtim.tv_nsec, "the file was touched");
    /* nor a path whose directory does not exist */
    char missing[300];
    snprintf(missing, sizeof(missing), "%s/no-dir/file", work);
    argv[5] = missing;
    r = run(argv);
    cr_assert_eq(r.status, 125, "status %d", r.status);
    /* the same rule for VMEM_PAGEFILE from the environment */
    char *env_argv[] = { (char *)env_path("VMEM_TOOL"), "run", "--max-resident", "4M", "--",
                         "/bin/echo", "ran", NULL };
    cr_assert_eq(setenv("VMEM_PAGEFILE", file, 1), 0);
    r = run(env_argv);
    unsetenv("VMEM_PAGEFILE");
    cr_assert_eq(r.status, 125, "VMEM_PAGEFILE an existing file: status %d", r.status);
    cr_assert_str_eq(r.out, "", "CMD was started");
    cr_assert_eq(stat(file, &after), 0);
    cr_assert_eq(after.st_size, before.st_size, "the file was touched");
    remove_tree(work);
}

/* ---- SIGSEGV and SIGBUS sent, under the preload and linked ------------------ */

static int mode_is(const char *m)
{
    const char *v = getenv("VMEM_FAULT_MODE");
    return v && !strcmp(v, m);
}

static void check_sent(int linked)
{
    static const int sigs[] = { SIGSEGV, SIGBUS };
    static const char *hows[] = { "raise", "kill", "tgkill", "sigqueue", "fault" };
    for (size_t s = 0; s < N(sigs); s++)
        for (size_t h = 0; h < N(hows); h++) {
            char num[8];
            snprintf(num, sizeof(num), "%d", sigs[s]);
            char *plain[] = { (char *)env_path("VMEM_TOOL"), "run", "--",
                              (char *)env_path("RUN_CHILD"), "send", num, (char *)hows[h], NULL };
            char *direct[] = { (char *)env_path("RUN_CHILD_LINKED"), "send", num,
                               (char *)hows[h], NULL };
            struct ran r = run(linked ? direct : plain);
            cr_assert_eq(r.status, 128 + sigs[s], "%s, %s by %s: status %d, not %d (output '%s')",
                         linked ? "linked" : "preload", strsignal(sigs[s]), hows[h], r.status,
                         128 + sigs[s], r.out);
            cr_assert_str_eq(r.out, "", "%s by %s: the program went on", strsignal(sigs[s]),
                             hows[h]);
        }
}

Test(run, sent_fault_signals_kill_under_preload)
{
    check_sent(0);
}

Test(run, sent_fault_signals_kill_linked)
{
    check_sent(1);
}

/* ---- the page-file rule across a tree ---------------------------------------- */

/* Counts the entries of dir but . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: %m", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void check_tree(const char *pagefile_in_work)
{
    if (mode_is("kernel"))
        cr_skip_test("fault mode kernel: no paging, the page-file rule is not exercised");
    make_work();
    char pf[300], script[1024];
    snprintf(pf, sizeof(pf), "%s%s", work, pagefile_in_work);
    const char *c = env_path("RUN_CHILD");
    /* three children of sh, one of them a forked child that execs, and a
     * nested sh with a tree of its own: 6 processes that page, each 8 MiB
     * under a 2 MiB cap (sh's own heap, 1 MiB, stays under it) */
    snprintf(script, sizeof(script),
             "'%s' page 8 && '%s' tree 8 && '%s' page 8 && /bin/sh -c \"'%s' tree 8\"", c, c, c,
             c);
    char *argv[] = { (char *)env_path("VMEM_TOOL"), "run", "--max-resident", "2M",
                     "--pagefile", pf, "--", "/bin/sh", "-c", script, NULL };
    struct ran r = run(argv);
    cr_assert_eq(r.status, 0, "status %d; output:\n%s", r.status, r.out);
    cr_assert_str_eq(r.out, "page 8 ok\npage 8 ok\npage 8 ok\npage 8 ok\npage 8 ok\n"
                            "page 8 ok\n", "output:\n%s", r.out);
    cr_assert_eq(entries(work), 0, "%d files left in the page-file directory", entries(work));
    remove_tree(work);
}

Test(run, pagefile_directory_tree)
{
    check_tree("");
}

Test(run, pagefile_path_not_yet_there_tree)
{
    check_tree("/notyet");
}

/* ---- stdio's buffer, written by libc's own write ---------------------------- */

/* A line left in stdout's buffer (a pipe) while the program pages: exit's
 * flush is libc's internal write, which the guarded calls do not cover; a
 * buffer in managed memory trimmed meanwhile made it fail with EFAULT in
 * fault mode signal, and the line was lost with status 0. */
Test(run, stdio_line_survives_paging)
{
    if (mode_is("kernel"))
        cr_skip_test("fault mode kernel: no paging");
    /* 8 MiB touched under a 2 MiB cap */
    char *argv[] = { (char *)env_path("VMEM_TOOL"), "run", "--max-resident", "2M", "--",
                     (char *)env_path("RUN_CHILD"), "stdio", "8", NULL };
    for (int i = 0; i < 16; i++) {
        struct ran r = run(argv);
        cr_assert_eq(r.status, 0, "run %d: status %d; output:\n%s", i, r.status, r.out);
        cr_assert_str_eq(r.out, "stdio 8 ok\n", "run %d: output:\n%s", i, r.out);
    }
}

/* ---- vmem bench --pagefile: the same rule, checked up front ------------------ */

Test(run, bench_pagefile_rule)
{
    if (mode_is("kernel"))
        cr_skip_test("fault mode kernel: no paging, the page file is not used");
    make_work();
    char file[256], notyet[256];
    snprintf(file, sizeof(file), "%s/keep", work);
    write_file(file, "precious\n", 0644);
    char *argv[] = { (char *)env_path("VMEM_TOOL"), "bench", "--size", "2M", "--cap", "512K",
                     "--refs", "2000", "--policy", "fifo", "--workload", "seq", "--pagefile",
                     file, NULL };
    struct ran r = run(argv);
    cr_assert_eq(r.status, 2, "an existing file: status %d", r.status);
    cr_assert_str_eq(r.out, "", "runs started with an existing file as the page file");
    struct stat st;
    cr_assert(stat(file, &st) == 0 && st.st_size == 9, "the file was touched");
    cr_assert_eq(unlink(file), 0);
    snprintf(notyet, sizeof(notyet), "%s/notyet", work);
    argv[13] = notyet;
    r = run(argv);
    cr_assert_eq(r.status, 0, "a path not yet there: status %d", r.status);
    cr_assert_eq(entries(work), 0, "%d files left in the page file's directory", entries(work));
    remove_tree(work);
}
