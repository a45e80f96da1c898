/*
 * cmd_run.c -- `vmem run`: runs an unmodified program with its heap and
 * anonymous mappings under libvmem (libvmem-preload.so through LD_PRELOAD)
 * and returns its exit status (128+N if signal N killed it).
 *
 * Like env, nohup and timeout: 125 for an error of vmem run's own, 126 for
 * a CMD found but not executable, 127 for a CMD not found.  The signals a
 * user sends to stop or steer a program (forwarded[]) are passed on to CMD
 * until it has been waited for, and CMD gets SIGKILL should vmem run be
 * killed (PR_SET_PDEATHSIG), so no CMD is ever left running unseen.
 */
#include "opt.h"
#include "policy/policy.h"
#include "vmem_cmd.h"
#include "pagefile_arg.h"
#include "run_report.h"
#include <vmem.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PRELOAD_NAME "libvmem-preload.so"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vmem run [OPTIONS] [--] CMD [ARGS...]\n"
        "\n"
        "Runs CMD with LD_PRELOAD=" PRELOAD_NAME ": its malloc heap and anonymous\n"
        "mappings are libvmem memory, paged under the cap.  Programs CMD starts\n"
        "inherit the setting (each with a cap of its own).  Options take their\n"
        "value as --opt VALUE or --opt=VALUE; the first argument that is not an\n"
        "option, or the one after --, is CMD.\n"
        "\n"
        "  --max-resident SIZE  the resident-memory cap (VMEM_MAX_RESIDENT), e.g. 64M,\n"
        "                       1.5G (binary units); leave it out for no cap\n"
        "  --policy P           replacement policy (VMEM_POLICY):");
    for (size_t i = 0; policy_list[i]; i++)
        fprintf(f, " %s", policy_list[i]->name);
    fprintf(f, "\n"
        "  --prefetch P[:N]     prefetch policy (VMEM_PREFETCH):");
    for (size_t i = 0; prefetch_list[i]; i++)
        fprintf(f, " %s", prefetch_list[i]->name);
    fprintf(f, "\n"
        "  --pagefile PATH      page-file directory (each process gets its own unnamed\n"
        "                       file) or a path that does not exist yet (VMEM_PAGEFILE);\n"
        "                       an existing file is refused, never touched\n"
        "  --report[=FILE]      at exit, print the paging counters of each process and\n"
        "                       CMD's peak RSS as the kernel measured it, to stderr or\n"
        "                       appended to FILE (VMEM_REPORT): one block per process of\n"
        "                       the tree (killed ones too) and a summary; vmem run then\n"
        "                       waits for every descendant\n"
        "  --report-format F    text (default), json or csv (VMEM_REPORT_FORMAT);\n"
        "                       implies --report\n"
        "  -h, --help           this help\n"
        "\n"
        "Every option, and every VMEM_* variable already set, is checked before CMD\n"
        "starts.  Exit status: CMD's; 128+N if signal N killed it; 125 if vmem run\n"
        "itself fails (a bad option or --pagefile, no page file can be made, the\n"
        "preload library not found) or libvmem cannot start in a process of the\n"
        "tree; 126 if CMD cannot be executed; 127 if CMD was not found.\n");
}

/* vmem run's own failures: 125, like env(1) and chroot(1), apart from what
 * CMD may return. */
#define RUN_FAILED 125

struct run_opts {
    const char *value[4]; /* by enum run_opt below, NULL if not given */
    int report;
    enum vmem_report_format format;
    const char *format_name;
    const char *report_file;
    char abs_report[PATH_MAX];
    char abs_pagefile[PATH_MAX];
    int cmd; /* argv index of CMD */
};

enum run_opt { O_MAX_RESIDENT, O_POLICY, O_PREFETCH, O_PAGEFILE, O_REPORT, O_REPORT_FORMAT,
               O_HELP };
static const struct opt_def run_defs[] = {
    [O_MAX_RESIDENT] = { "max-resident", 0, OPT_VALUE },
    [O_POLICY] = { "policy", 0, OPT_VALUE },
    [O_PREFETCH] = { "prefetch", 0, OPT_VALUE },
    [O_PAGEFILE] = { "pagefile", 0, OPT_VALUE },
    [O_REPORT] = { "report", 0, OPT_OPTIONAL },
    [O_REPORT_FORMAT] = { "report-format", 0, OPT_VALUE },
    [O_HELP] = { "help", 'h', OPT_FLAG },
    { NULL, 0, 0 },
};
/* The variable each valued option sets. */
static const char *const run_vars[] = { "VMEM_MAX_RESIDENT", "VMEM_POLICY", "VMEM_PREFETCH",
                                        "VMEM_PAGEFILE" };

/* Sets the environment of CMD from the options and checks it as libvmem
 * will at start-up (vmem_config_from_env): the variables already set first,
 * then each option's, so that a message names what is wrong.  0 or
 * RUN_FAILED (message printed). */
static int run_environment(const struct opt_parser *p, const struct run_opts *o)
{
    struct vmem_config cfg;
    char err[512];
    if (vmem_config_from_env(&cfg, err, sizeof(err))) {
        fprintf(stderr, "vmem run: in the environment: %s\n", err);
        return RUN_FAILED;
    }
    for (int k = 0; k < 4; k++) {
        if (!o->value[k])
            continue;
        if (setenv(run_vars[k], o->value[k], 1)) {
            perror("vmem run: setenv");
            return RUN_FAILED;
        }
        if (vmem_config_from_env(&cfg, err, sizeof(err))) {
            const char *why = strstr(err, " is not valid: ");
            fprintf(stderr, "vmem run: --%s '%s' is not valid: %s\ntry 'vmem %s --help'\n",
                    run_defs[k].name, o->value[k], why ? why + 15 : err, p->cmd);
            return RUN_FAILED;
        }
    }
    if (o->report && setenv("VMEM_REPORT", o->report_file ? o->report_file : "1", 1)) {
        perror("vmem run: setenv");
        return RUN_FAILED;
    }
    if (o->format_name && setenv("VMEM_REPORT_FORMAT", o->format_name, 1)) {
        perror("vmem run: setenv");
        return RUN_FAILED;
    }
    if (o->report && vmem_config_from_env(&cfg, err, sizeof(err))) {
        fprintf(stderr, "vmem run: --report=%s: %s\n", o->report_file, err);
        return RUN_FAILED;
    }
    return 0;
}

/* The report is appended to FILE after CMD's end: whether it can be is
 * checked now, so that it is not lost after the run.  An existing file is
 * opened for appending and closed, unchanged; a new one is made and
 * removed (ours: O_EXCL).  0, or -1 after a message. */
static int report_file_check(const char *file)
{
    int fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0)
            unlink(file);
    }
    if (fd < 0) {
        fprintf(stderr, "vmem run: --report=%s: cannot append to it: %s\n", file,
                strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

/* -1: go on; else the exit status. */
static int run_options(int argc, char **argv, struct run_opts *o)
{
    struct opt_parser p;
    opt_init(&p, "run", run_defs, argc, argv, 1);
    memset(o, 0, sizeof(*o));
    int k;
    while ((k = opt_next(&p)) >= 0) {
        switch (k) {
        case O_HELP:
            usage(stdout);
            return 0;
        case O_REPORT:
            o->report = 1;
            o->report_file = p.value;
            break;
        case O_REPORT_FORMAT:
            if (vmem_report_format_parse(p.value, &o->format)) {
                opt_error(&p, "--report-format: expected text, json or csv");
                return RUN_FAILED;
            }
            o->report = 1;
            o->format_name = p.value;
            break;
        case O_MAX_RESIDENT: {
            uint64_t bytes;
            if (opt_size(&p, 1, UINT64_MAX, "0 is not a cap; leave the option out for no cap",
                         &bytes))
                return RUN_FAILED;
        }
            /* fall through */
        default:
            o->value[k] = p.value;
            break;
        }
    }
    if (k == OPT_ERROR)
        return RUN_FAILED;
    if (p.next == argc) {
        opt_error(&p, "no command to run");
        return RUN_FAILED;
    }
    o->cmd = p.next;
    if (o->report_file) {
        /* VMEM_REPORT takes a path with a '/', and CMD may change directory. */
        if (!*o->report_file) {
            opt_error(&p, "--report=FILE: no file name");
            return RUN_FAILED;
        }
        if (o->report_file[0] != '/') {
            if (!getcwd(o->abs_report, sizeof(o->abs_report)) ||
                strlen(o->abs_report) + strlen(o->report_file) + 2 > sizeof(o->abs_report)) {
                fprintf(stderr, "vmem run: --report=%s: cannot make the path absolute\n",
                        o->report_file);
                return RUN_FAILED;
            }
            size_t l = strlen(o->abs_report);
            snprintf(o->abs_report + l, sizeof(o->abs_report) - l, "/%s", o->report_file);
            o->report_file = o->abs_report;
        }
        if (report_file_check(o->report_file))
            return RUN_FAILED;
    }
    /* The page-file rule, checked once for every process of the tree, the
     * path made absolute; VMEM_PAGEFILE from the environment as well. */
    const char *pf = o->value[O_PAGEFILE], *pf_what = "--pagefile";
    if (!pf && getenv("VMEM_PAGEFILE") && *getenv("VMEM_PAGEFILE")) {
        pf = getenv("VMEM_PAGEFILE");
        pf_what = "VMEM_PAGEFILE";
    }
    if (pf) {
        if (pagefile_arg_check("vmem run", pf_what, pf, o->abs_pagefile, sizeof(o->abs_pagefile)))
            return RUN_FAILED;
        o->value[O_PAGEFILE] = o->abs_pagefile;
    }
    if (run_environment(&p, o))
        return RUN_FAILED;
    /* Where the page files of the tree will be made: checked by making one
     * there, so that a place libvmem cannot use is refused now rather than
     * failing inside CMD.  Without a cap no page file is made: the default
     * place matters only with one. */
    const char *cap = getenv("VMEM_MAX_RESIDENT"), *tmpdir = getenv("TMPDIR");
    if (pf && pagefile_place_check("vmem run", pf_what, o->abs_pagefile, 0))
        return RUN_FAILED;
    if (!pf && cap && *cap &&
        pagefile_place_check("vmem run", tmpdir && *tmpdir ? "TMPDIR (the page files' place)"
                                                           : "the page files' place",
                             tmpdir && *tmpdir ? tmpdir : "/var/tmp", 1))
        return RUN_FAILED;
    return -1;
}

/* The preload library: next to the build tree's tools/ directory when run
 * from the build tree; in LIBDIR relative to the binary's BINDIR/.. (an
 * installed tree, also one installed with --destdir and moved); else where
 * meson installed it. */
static int find_preload(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            static const char *const rel[] = { "../preload/",
                                               "../" VMEM_LIBDIR_REL "/" };
            for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
                int w = snprintf(out, len, "%.*s/%s" PRELOAD_NAME, PATH_MAX - 64, exe, rel[i]);
                if (w > 0 && (size_t)w < len && access(out, R_OK) == 0)
                    return 0;
            }
        }
    }
    snprintf(out, len, "%s", VMEM_PRELOAD_INSTALLED);
    return access(out, R_OK) == 0 ? 0 : ENOENT;
}

static int set_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    if (!old || !*old)
        return setenv("LD_PRELOAD", lib, 1);
    size_t n = strlen(lib) + strlen(old) + 2;
    char *v = malloc(n);
    if (!v)
        return -1;
    snprintf(v, n, "%s:%s", lib, old);
    int rc = setenv("LD_PRELOAD", v, 1);
    free(v);
    return rc;
}

/* Appends CMD's end to the report destination. */
static void report_end(const char *file, const char *cmd, int status, const struct rusage *ru)
{
    char line[512];
    int n;
    if (WIFSIGNALED(status))
        n = snprintf(line, sizeof(line), "vmem run: %s killed by signal %d; peak RSS %ld KiB\n",
                     cmd, WTERMSIG(status), ru->ru_maxrss);
    else
        n = snprintf(line, sizeof(line), "vmem run: %s exited with %d; peak RSS %ld KiB\n",
                     cmd, WEXITSTATUS(status), ru->ru_maxrss);
    FILE *f = file ? fopen(file, "a") : stderr;
    if (!f)
        return;
    fwrite(line, 1, (size_t)n, f);
    if (file)
        fclose(f);
}

/* ---- running CMD ---------------------------------------------------------- */

#define CANNOT_EXEC 126  /* CMD found but not executable */
#define NOT_FOUND 127    /* CMD not found */

/* What a user sends to stop or steer a program: passed on to CMD.  SIGKILL
 * and SIGSTOP cannot be caught: CMD's PR_SET_PDEATHSIG covers the first;
 * the terminal's stop signals reach the whole process group anyway. */
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                 SIGWINCH, SIGCONT, SIGALRM };
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

/* CMD's pid while it may be signalled: from the fork until vmem run is about
 * to reap it (so never a pid the system has reused). */
static volatile sig_atomic_t child_pid;

/* The parent of process p, read from /proc/p/stat (open, read and close
 * only: called in a signal handler), or -1. */
static pid_t parent_of(pid_t p)
{
    char path[32], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)p);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    /* "pid (comm) state ppid ...": comm may hold anything, ')' included */
    char *end = strrchr(buf, ')');
    if (!end || end[1] != ' ' || !end[2] || end[3] != ' ')
        return -1;
    long ppid = 0;
    for (const char *c = end + 4; *c >= '0' && *c <= '9'; c++)
        ppid = ppid * 10 + (*c - '0');
    return (pid_t)ppid;
}

/* 1 if p is cmd or one of its descendants (still there to be asked). */
static int in_cmds_tree(pid_t p, pid_t cmd)
{
    for (int depth = 0; depth < 64 && p > 1; depth++) {
        if (p == cmd)
            return 1;
        p = parent_of(p);
    }
    return 0;
}

static void forward(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    pid_t pid = (pid_t)child_pid;
    if (pid <= 0)
        return;
    int saved = errno;
    /* What was sent to the whole process group while CMD is still in vmem
     * run's reached CMD already: a second copy would make a program that
     * catches the first (python's KeyboardInterrupt) die of the second.
     * The kernel sends so for the terminal (Ctrl-C, Ctrl-\, a hangup, a
     * resize).  A signal from CMD or a process of its tree in that group is
     * taken as sent to the group (kill(0, sig), a shell's `kill 0`) -- a
     * heuristic: the kernel does not say whether a process or its group
     * was the target.  A signal from any other process (the shell that
     * started vmem run, in the same group or not) is passed on. */
    int group_copy = 0;
    pid_t group = getpgrp();
    if (getpgid(pid) == group) {
        if (si->si_code == SI_KERNEL)
            group_copy = 1;
        else if (si->si_code <= 0 && si->si_pid > 0 && getpgid(si->si_pid) == group)
            group_copy = in_cmds_tree(si->si_pid, pid);
    }
    if (!group_copy)
        kill(pid, sig);
    errno = saved;
}

/* Executes file with argv: a script without "#!" goes to /bin/sh, as the
 * shells and execvp do, but a binary the kernel cannot run is not handed
 * to the shell.  Returns only on failure, with errno set. */
static void exec_file(const char *file, char **argv)
{
    execve(file, argv, environ);
    if (errno != ENOEXEC)
        return;
    char head[256];
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 0 || memchr(head, 0, (size_t)n)) {
        errno = ENOEXEC;
        return;
    }
    size_t argc = 0;
    while (argv[argc])
        argc++;
    char **sh = malloc((argc + 2) * sizeof(char *));
    if (!sh) {
        errno = ENOEXEC;
        return;
    }
    sh[0] = "/bin/sh";
    sh[1] = (char *)file;
    memcpy(sh + 2, argv + 1, argc * sizeof(char *)); /* with its NULL */
    execve("/bin/sh", sh, environ);
    free(sh);
    errno = ENOEXEC;
}

/* Executes argv[0], looked up on PATH unless it has a '/'.  Returns only on
 * failure: errno is that of the first candidate found but not executable
 * (EACCES, ENOEXEC...), else ENOENT. */
static void exec_cmd(char **argv)
{
    const char *name = argv[0];
    if (!*name) {
        /* no file has an empty name (execvp and env say so): not a
         * directory of PATH to try */
        errno = ENOENT;
        return;
    }
    if (strchr(name, '/')) {
        exec_file(name, argv);
        return;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    int err = ENOENT;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t dl = end ? (size_t)(end - p) : strlen(p);
        char file[PATH_MAX];
        int w = dl ? snprintf(file, sizeof(file), "%.*s/%s", (int)dl, p, name)
                   : snprintf(file, sizeof(file), "%s", name); /* empty: the current directory */
        if (w > 0 && (size_t)w < sizeof(file)) {
            exec_file(file, argv);
            if (errno != ENOENT && errno != ENOTDIR && err == ENOENT)
                err = errno;
        }
        if (!end)
            break;
        p = end;
    }
    errno = err;
}

/* Runs argv and waits for it, passing the signals of forwarded[] on to it
 * meanwhile.  -1 with its wait status and resources once it has ended, or
 * the status vmem run returns when it could not be run. */
/* Runs CMD (argv), passing signals on until it ends; with collect (vmem run
 * --report, this process the tree's subreaper) waits for every descendant
 * as well.  -1 with CMD's status and resource use, or vmem run's status. */
static int run_cmd(char **argv, int collect, int *status, struct rusage *ru)
{
    sigset_t fwd, old_mask;
    sigemptyset(&fwd);
    for (size_t k = 0; k < NFORWARDED; k++)
        sigaddset(&fwd, forwarded[k]);
    /* Blocked until the pid is known and the handlers are in place: a
     * signal meanwhile waits, and is then passed on. */
    sigprocmask(SIG_BLOCK, &fwd, &old_mask);
    int report[2];
    if (pipe2(report, O_CLOEXEC)) {
        perror("vmem run: pipe");
        return RUN_FAILED;
    }
    /* SIGCHLD ignored (or SA_NOCLDWAIT) would have the kernel reap CMD
     * before vmem run can wait for it: the default while vmem run runs,
     * the disposition it was given restored in CMD. */
    struct sigaction dfl, old_chld;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    if (sigaction(SIGCHLD, &dfl, &old_chld)) {
        perror("vmem run: sigaction");
        return RUN_FAILED;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("vmem run: fork");
        return RUN_FAILED;
    }
    if (pid == 0) {
        close(report[0]);
        /* vmem run killed (SIGKILL cannot be passed on): CMD dies too, rather
         * than run on unseen.  Checked after: vmem run may already be gone. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(RUN_FAILED);
        /* CMD starts with the mask and dispositions vmem run was given: a
         * signal vmem run was started ignoring (nohup) stays ignored. */
        if (sigaction(SIGCHLD, &old_chld, NULL))
            _exit(RUN_FAILED);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        exec_cmd(argv);
        int err = errno;
        if (write(report[1], &err, sizeof(err)) < 0)
            _exit(RUN_FAILED);
        _exit(RUN_FAILED);
    }
    close(report[1]);
    child_pid = pid;
    struct sigaction sa, ign;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sa.sa_mask = fwd;
    for (size_t k = 0; k < NFORWARDED; k++)
        if (sigaction(forwarded[k], NULL, &ign) == 0 && ign.sa_handler != SIG_IGN)
            sigaction(forwarded[k], &sa, NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);

    int err = 0;
    ssize_t n;
    while ((n = read(report[0], &err, sizeof(err))) < 0 && errno == EINTR)
        ;
    close(report[0]);
    /* Wait for CMD's end without reaping it: its pid stays CMD's while a
     * signal may still be passed on.  Then reap it, the handlers quiet. */
    siginfo_t info;
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
    sigprocmask(SIG_BLOCK, &fwd, NULL);
    child_pid = 0;
    while (wait4(pid, status, 0, ru) < 0) {
        if (errno != EINTR) {
            perror("vmem run: wait4");
            return RUN_FAILED;
        }
    }
    if (collect && run_report_wait_rest(pid, *status) != 0)
        return RUN_FAILED;
    if (n == (ssize_t)sizeof(err)) {
        fprintf(stderr, "vmem run: %s: %s\n", *argv[0] ? argv[0] : "''", strerror(err));
        return err == ENOENT ? NOT_FOUND : CANNOT_EXEC;
    }
    return -1;
}

static int run_main(int argc, char **argv)
{
    static struct run_opts o;
    int rc = run_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    int i = o.cmd, report = o.report;
    const char *report_file = o.report_file;
    char lib[PATH_MAX];
    if (find_preload(lib, sizeof(lib))) {
        fprintf(stderr, "vmem run: %s not found (looked next to this program's build tree "
                "and in %s)\n", PRELOAD_NAME, VMEM_PRELOAD_INSTALLED);
        return RUN_FAILED;
    }
    if (set_preload(lib)) {
        perror("vmem run: setenv");
        return RUN_FAILED;
    }

    if (report && run_report_prepare() != 0)
        return RUN_FAILED;

    int status;
    struct rusage ru;
    rc = run_cmd(argv + i, report, &status, &ru);
    if (rc >= 0)
        return rc;
    /* CMD has ended: a reader of the report that went away is not a reason
     * for vmem run to die and lose CMD's status */
    if (report)
        signal(SIGPIPE, SIG_IGN);
    if (report)
        run_report_print(report_file, o.format);
    if (report && o.format == VMEM_REPORT_TEXT)
        report_end(report_file, argv[i], status, &ru);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

const struct vmem_cmd vmem_cmd_run = {
    .name = "run",
    .about = "run a program with its heap under libvmem (LD_PRELOAD)",
    .main = run_main,
};
