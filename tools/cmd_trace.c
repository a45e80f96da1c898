/*
 * cmd_trace.c -- `vmem trace -- CMD ARGS...`: runs CMD under valgrind's
 * lackey tool, which prints every memory access, and converts that stream,
 * as it comes, to a binary page trace (trace_bin.h) for `vmem sim`.
 * Lackey's log goes through a pipe (--log-fd), so the program's own output
 * stays out of it and the text never touches the disk.
 */
#include "trace.h"
#include "trace_bin.h"
#include "vmem_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char file[4096];
    for (const char *s = path ? path : ""; *s;) {
        size_t len = strcspn(s, ":");
        snprintf(file, sizeof file, "%.*s/%s", (int)len, len ? s : ".", prog);
        if (access(file, X_OK) == 0)
            return 1;
        s += len + (s[len] == ':');
    }
    return 0;
}

static void trace_usage(FILE *f)
{
    fprintf(f,
        "usage: vmem trace [-o FILE] [--data-only] -- CMD [ARGS...]\n"
        "\n"
        "Runs CMD under valgrind --tool=lackey --trace-mem=yes and writes the\n"
        "4 KiB pages it references, in order, as a binary trace (default\n"
        "trace.bin) for `vmem sim`.  --data-only drops instruction fetches.\n");
}

/* Reads lackey's log and writes the trace, counting references and the
 * lines that are not access records (valgrind's own notices). */
static int convert(FILE *log, struct trace_writer *w, int data_only,
                   unsigned long long *refs, unsigned long long *skipped)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, log)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        uint64_t pages[2];
        int n;
        char why[128];
        if (!strncmp(line, "--", 2) ||
            trace_lackey_line(line, data_only, pages, &n, why, sizeof why) < 0) {
            (*skipped)++; /* valgrind's own notices */
            continue;
        }
        for (int i = 0; i < n && !rc; i++, (*refs)++)
            rc = trace_write_page(w, pages[i]);
    }
    free(line);
    return rc;
}

static int cmd_trace_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"data-only", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = "trace.bin";
    int data_only = 0, c;
    optind = 1;
    /* '+': stop at the first non-option, the command */
    while ((c = getopt_long(argc, argv, "+o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'd': data_only = 1; break;
        case 'h': trace_usage(stdout); return 0;
        default: trace_usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        trace_usage(stderr);
        return 2;
    }
    if (!on_path("valgrind")) {
        fprintf(stderr, "vmem trace: valgrind not found on PATH (Debian: apt-get install "
                        "valgrind); cannot trace\n");
        return 2;
    }
    struct trace_writer w;
    if (trace_write_open(&w, out) < 0) {
        fprintf(stderr, "vmem trace: %s: %s\n", out, strerror(errno));
        return 1;
    }
    int fds[2];
    if (pipe(fds) < 0) {
        perror("vmem trace: pipe");
        return 1;
    }
    char logfd[32];
    snprintf(logfd, sizeof logfd, "--log-fd=%d", fds[1]);
    size_t nargs = (size_t)(argc - optind);
    char **vargv = calloc(nargs + 5, sizeof *vargv);
    if (!vargv) {
        perror("vmem trace");
        return 1;
    }
    vargv[0] = "valgrind";
    vargv[1] = "--tool=lackey";
    vargv[2] = "--trace-mem=yes";
    vargv[3] = logfd;
    memcpy(vargv + 4, argv + optind, nargs * sizeof *vargv);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("vmem trace: fork");
        return 1;
    }
    if (pid == 0) {
        close(fds[0]);
        execvp("valgrind", vargv);
        fprintf(stderr, "vmem trace: valgrind: %s\n", strerror(errno));
        _exit(127);
    }
    free(vargv);
    close(fds[1]);
    FILE *log = fdopen(fds[0], "r");
    unsigned long long refs = 0, skipped = 0;
    int wrc = log ? convert(log, &w, data_only, &refs, &skipped) : -1;
    int werr = errno;
    if (log)
        fclose(log);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (trace_write_close(&w) < 0 || wrc < 0) {
        fprintf(stderr, "vmem trace: writing %s: %s\n", out, strerror(wrc < 0 ? werr : errno));
        return 1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !refs) {
        fprintf(stderr, "vmem trace: could not run the command under valgrind\n");
        return 1;
    }
    fprintf(stderr, "vmem trace: %llu references written to %s (program %s %d)\n", refs, out,
            WIFEXITED(status) ? "exit status" : "killed by signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    if (skipped)
        fprintf(stderr, "vmem trace: %llu lines of valgrind's log were not access records\n",
                skipped);
    return 0;
}

const struct vmem_cmd vmem_cmd_trace = {
    .name = "trace",
    .about = "record a program's page references (valgrind lackey) as a binary trace",
    .main = cmd_trace_main,
};
