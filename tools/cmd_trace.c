/*
 * cmd_trace.c -- `vmem trace -- CMD ARGS...`: runs CMD under valgrind's
 * lackey tool, which prints every memory access, and converts that stream,
 * as it comes, to a binary page trace (trace_bin.h) for `vmem sim`.
 * Lackey's log goes through a pipe (--log-fd), so the program's own output
 * stays out of it and the text never touches the disk.
 */
#include "trace.h"
#include "trace_bin.h"
#include "opt.h"
#include "vmem_cmd.h"

#include <errno.h>
#include <fcntl.h>
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
        "usage: vmem trace [OPTIONS] [--] CMD [ARGS...]\n"
        "\n"
        "Runs CMD under valgrind --tool=lackey --trace-mem=yes and writes the\n"
        "4 KiB pages it references, in order, as a binary trace for `vmem sim`.\n"
        "\n"
        "  -o, --output FILE  the trace (default trace.bin; '-': standard output)\n"
        "  --force            overwrite FILE if it exists (else an existing FILE is\n"
        "                     refused before CMD runs, and left as it is)\n"
        "  --data-only        drop instruction fetches: data loads and stores only\n"
        "  -h, --help         this help\n"
        "\n"
        "Exit status: CMD's (128+N if signal N killed it), as under valgrind; 125\n"
        "if vmem trace itself fails (a bad option, FILE exists, valgrind missing,\n"
        "the trace cannot be written, or it has no accesses: CMD could not run).\n");
}

/* vmem trace's own failures, apart from what CMD may return (as vmem run) */
#define TRACE_FAILED 125

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

enum trace_opt { O_OUTPUT, O_FORCE, O_DATA_ONLY, O_HELP };
static const struct opt_def trace_defs[] = {
    [O_OUTPUT] = { "output", 'o', OPT_VALUE },
    [O_FORCE] = { "force", 0, OPT_FLAG },
    [O_DATA_ONLY] = { "data-only", 0, OPT_FLAG },
    [O_HELP] = { "help", 'h', OPT_FLAG },
    { NULL, 0, 0 },
};

/* Creates out (*created = 1), or truncates it with force; a FILE* or NULL
 * (message printed).  Without force an existing file is refused: O_EXCL, so one
 * that appears meanwhile is refused too. */
static FILE *open_output(const char *out, int force, int *created)
{
    *created = 0;
    if (!strcmp(out, "-"))
        return stdout;
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0)
        *created = 1;
    else if (errno == EEXIST && force)
        fd = open(out, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0 && errno == EEXIST) {
        fprintf(stderr, "vmem trace: %s exists; give --force to overwrite it, or -o FILE\n",
                out);
        return NULL;
    }
    FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
    if (!f) {
        fprintf(stderr, "vmem trace: %s: %s\n", out, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

static int cmd_trace_main(int argc, char **argv)
{
    const char *out = "trace.bin";
    int data_only = 0, force = 0, k;
    struct opt_parser p;
    /* the first operand is the command */
    opt_init(&p, "trace", trace_defs, argc, argv, 1);
    while ((k = opt_next(&p)) >= 0) {
        switch (k) {
        case O_OUTPUT: out = p.value; break;
        case O_FORCE: force = 1; break;
        case O_DATA_ONLY: data_only = 1; break;
        case O_HELP: trace_usage(stdout); return 0;
        }
    }
    if (k == OPT_ERROR)
        return TRACE_FAILED;
    if (p.next >= argc) {
        opt_error(&p, "no command to trace");
        return TRACE_FAILED;
    }
    if (!*out) {
        opt_error(&p, "--output: no file name");
        return TRACE_FAILED;
    }
    if (!on_path("valgrind")) {
        fprintf(stderr, "vmem trace: valgrind not found on PATH (Debian: apt-get install "
                        "valgrind); cannot trace\n");
        return TRACE_FAILED;
    }
    int created;
    FILE *of = open_output(out, force, &created);
    if (!of)
        return TRACE_FAILED;
    struct trace_writer w;
    if (trace_write_stream(&w, of) < 0) {
        fprintf(stderr, "vmem trace: %s: %s\n", out, strerror(errno));
        goto fail;
    }
    int fds[2];
    if (pipe(fds) < 0) {
        perror("vmem trace: pipe");
        goto fail;
    }
    char logfd[32];
    snprintf(logfd, sizeof logfd, "--log-fd=%d", fds[1]);
    size_t nargs = (size_t)(argc - p.next);
    char **vargv = calloc(nargs + 5, sizeof *vargv);
    if (!vargv) {
        perror("vmem trace");
        goto fail;
    }
    vargv[0] = "valgrind";
    vargv[1] = "--tool=lackey";
    vargv[2] = "--trace-mem=yes";
    vargv[3] = logfd;
    memcpy(vargv + 4, argv + p.next, nargs * sizeof *vargv);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("vmem trace: fork");
        free(vargv);
        goto fail;
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
    int crc = trace_write_close(&w), cerr = errno;
    if (of != stdout && fclose(of) != 0 && !crc) {
        crc = -1;
        cerr = errno;
    }
    of = NULL;
    int prog = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    if (crc < 0 || wrc < 0) {
        fprintf(stderr, "vmem trace: writing %s: %s\n", out, strerror(wrc < 0 ? werr : cerr));
        return TRACE_FAILED;
    }
    if (!refs) {
        /* lackey records every access; none means CMD never ran */
        fprintf(stderr, "vmem trace: the trace has no accesses (program %s %d): %s not "
                        "written\n", WIFEXITED(status) ? "exit status" : "killed by signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
        if (created)
            unlink(out);
        return TRACE_FAILED;
    }
    fprintf(stderr, "vmem trace: %llu references written to %s (program %s %d)\n", refs, out,
            WIFEXITED(status) ? "exit status" : "killed by signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    if (skipped)
        fprintf(stderr, "vmem trace: %llu lines of valgrind's log were not access records\n",
                skipped);
    return prog;
fail:
    if (of != stdout)
        fclose(of);
    if (created)
        unlink(out); /* empty: nothing was traced */
    return TRACE_FAILED;
}

const struct vmem_cmd vmem_cmd_trace = {
    .name = "trace",
    .about = "record a program's page references (valgrind lackey) as a binary trace",
    .main = cmd_trace_main,
};
