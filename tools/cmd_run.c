/*
 * cmd_run.c -- `vmem run`: runs an unmodified program with its heap and
 * anonymous mappings under libvmem (libvmem-preload.so through LD_PRELOAD)
 * and returns its exit status (128+N if signal N killed it).
 */
#include "vmem_cmd.h"
#include "run_report.h"
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
        "inherit the setting (each with a cap of its own).\n"
        "\n"
        "  --max-resident SIZE  the resident-memory cap (VMEM_MAX_RESIDENT), e.g. 64M\n"
        "  --policy P           replacement policy (VMEM_POLICY)\n"
        "  --prefetch P         prefetch policy (VMEM_PREFETCH)\n"
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
        "\n"
        "Exit status: CMD's; 128+N if signal N killed it; 127 if it cannot be run.\n");
}

/* The preload library: next to the build tree's tools/ directory when run
 * from the build tree, else where meson installed it. */
static int find_preload(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            int w = snprintf(out, len, "%.*s/../preload/" PRELOAD_NAME, PATH_MAX - 64, exe);
            if (w > 0 && (size_t)w < len && access(out, R_OK) == 0)
                return 0;
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
    const char *max_resident = NULL, *policy = NULL, *prefetch = NULL, *pagefile = NULL;
    const char *report_file = NULL, *report_format = NULL;
    int report = 0, i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = !strcmp(a, "--max-resident") ? &max_resident :
                           !strcmp(a, "--policy") ? &policy :
                           !strcmp(a, "--prefetch") ? &prefetch :
                           !strcmp(a, "--pagefile") ? &pagefile :
                           !strcmp(a, "--report-format") ? &report_format : NULL;
        if (dst) {
            if (++i == argc) {
                fprintf(stderr, "vmem run: %s needs a value\n", a);
                return 2;
            }
            *dst = argv[i];
        } else if (!strcmp(a, "--report")) {
            report = 1;
        } else if (!strncmp(a, "--report=", 9)) {
            report = 1;
            report_file = a + 9;
        } else if (!strncmp(a, "--report-format=", 16)) {
            report_format = a + 16;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (a[0] == '-') {
            fprintf(stderr, "vmem run: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            break;
        }
    }
    if (i == argc) {
        usage(stderr);
        return 2;
    }
    if (report_format)
        report = 1;
    uint64_t bytes;
    if (max_resident && vmem_parse_size(max_resident, &bytes)) {
        fprintf(stderr, "vmem run: --max-resident: not a size: '%s'\n", max_resident);
        return 2;
    }
    enum vmem_report_format fmt = VMEM_REPORT_TEXT;
    if (report_format && vmem_report_format_parse(report_format, &fmt)) {
        fprintf(stderr, "vmem run: --report-format: '%s' is not text, json or csv\n",
                report_format);
        return 2;
    }
    char abs_report[PATH_MAX];
    if (report_file) {
        /* VMEM_REPORT takes a path with a '/', and CMD may change directory. */
        if (!*report_file || (report_file[0] != '/' && !getcwd(abs_report, sizeof(abs_report)))) {
            fprintf(stderr, "vmem run: --report=FILE: no file name\n");
            return 2;
        }
        if (report_file[0] != '/') {
            size_t l = strlen(abs_report);
            snprintf(abs_report + l, sizeof(abs_report) - l, "/%s", report_file);
            report_file = abs_report;
        }
    }
    char lib[PATH_MAX];
    if (find_preload(lib, sizeof(lib))) {
        fprintf(stderr, "vmem run: %s not found (looked next to this program's build tree "
                "and in %s)\n", PRELOAD_NAME, VMEM_PRELOAD_INSTALLED);
        return 127;
    }
    if ((max_resident && setenv("VMEM_MAX_RESIDENT", max_resident, 1)) ||
        (policy && setenv("VMEM_POLICY", policy, 1)) ||
        (prefetch && setenv("VMEM_PREFETCH", prefetch, 1)) ||
        (pagefile && setenv("VMEM_PAGEFILE", pagefile, 1)) ||
        (report && setenv("VMEM_REPORT", report_file ? report_file : "1", 1)) ||
        (report_format && setenv("VMEM_REPORT_FORMAT", report_format, 1)) ||
        set_preload(lib)) {
        perror("vmem run: setenv");
        return 127;
    }

    if (report && run_report_prepare() != 0)
        return 127;
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
    if (report && run_report_wait(pid, &status, &ru) != 0)
        return 127;
    while (!report && wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("vmem run: wait4");
            return 127;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    if (report)
        run_report_print(report_file, fmt);
    if (report && fmt == VMEM_REPORT_TEXT)
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
