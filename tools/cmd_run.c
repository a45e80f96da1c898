/*
 * cmd_run.c -- `vmem run`: runs an unmodified program with its heap and
 * anonymous mappings under libvmem (libvmem-preload.so through LD_PRELOAD)
 * and returns its exit status (128+N if signal N killed it).
 */
#include "opt.h"
#include "policy/policy.h"
#include "vmem_cmd.h"
#include <vmem.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
        "                       appended to FILE (VMEM_REPORT)\n"
        "  -h, --help           this help\n"
        "\n"
        "Every option, and every VMEM_* variable already set, is checked before CMD\n"
        "starts.  Exit status: CMD's; 128+N if signal N killed it; 127 if it cannot\n"
        "be run; 125 if vmem run itself fails (a bad option, the preload library\n"
        "not found).\n");
}

/* vmem run's own failures: 125, like env(1) and chroot(1), apart from what
 * CMD may return. */
#define RUN_FAILED 125

struct run_opts {
    const char *value[4]; /* by enum run_opt below, NULL if not given */
    int report;
    const char *report_file;
    char abs_report[PATH_MAX];
    int cmd; /* argv index of CMD */
};

enum run_opt { O_MAX_RESIDENT, O_POLICY, O_PREFETCH, O_PAGEFILE, O_REPORT, O_HELP };
static const struct opt_def run_defs[] = {
    [O_MAX_RESIDENT] = { "max-resident", 0, OPT_VALUE },
    [O_POLICY] = { "policy", 0, OPT_VALUE },
    [O_PREFETCH] = { "prefetch", 0, OPT_VALUE },
    [O_PAGEFILE] = { "pagefile", 0, OPT_VALUE },
    [O_REPORT] = { "report", 0, OPT_OPTIONAL },
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
    if (o->report && vmem_config_from_env(&cfg, err, sizeof(err))) {
        fprintf(stderr, "vmem run: --report=%s: %s\n", o->report_file, err);
        return RUN_FAILED;
    }
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
    }
    return run_environment(&p, o) ? RUN_FAILED : -1;
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

    /* Like system(): the terminal's SIGINT/SIGQUIT are CMD's to act on. */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGQUIT);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int err = posix_spawnp(&pid, argv[i], NULL, &attr, argv + i, environ);
    posix_spawnattr_destroy(&attr);
    if (err) {
        fprintf(stderr, "vmem run: %s: %s\n", argv[i], strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("vmem run: wait4");
            return 127;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    if (report)
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
