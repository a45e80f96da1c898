/*
 * cmd_stat.c -- `vmem stat PID [INTERVAL [COUNT]]`: a running libvmem
 * process's counters, read from the statistics area it publishes (never by
 * stopping or tracing it); with an interval, a line of figures and rates
 * each interval.
 */
#include "vmem_cmd.h"
#include "stat_show.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define REFRESH_MS 1000

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vmem stat [--format text|json|csv] PID [INTERVAL [COUNT]]\n"
        "\n"
        "Prints the counters of the running libvmem process PID from the statistics\n"
        "area it publishes in $VMEM_PUBLISH_DIR (default /dev/shm).  With INTERVAL\n"
        "(seconds, e.g. 1 or 0.5): one line every INTERVAL, COUNT times (default: until\n"
        "the process ends), of working set, standby, page file in use and commit charge\n"
        "(MiB), faults by kind per second and page-file I/O (KiB/s); with --format json\n"
        "or csv, a full record each time.\n");
}

/* A message for a failed open of pid's area; the exit status. */
int stat_open_error(const char *cmd, long pid, int err)
{
    if (err == ENOENT)
        fprintf(stderr, "vmem %s: process %ld publishes no libvmem statistics in %s (not "
                "running, not a libvmem process, or VMEM_PUBLISH=off)\n", cmd, pid,
                vmem_statarea_dir());
    else if (err == EACCES)
        fprintf(stderr, "vmem %s: the statistics of process %ld are its user's only "
                "(VMEM_PUBLISH=public shares them)\n", cmd, pid);
    else
        fprintf(stderr, "vmem %s: process %ld: %s\n", cmd, pid,
                err == EPROTO ? "not a statistics area of this libvmem" : strerror(err));
    return 1;
}

static int stat_main(int argc, char **argv)
{
    enum vmem_report_format fmt = VMEM_REPORT_TEXT;
    int i = 1, formatted = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strncmp(a, "--format=", 9)) {
            v = a + 9;
        } else if (!strcmp(a, "--format") && i + 1 < argc) {
            v = argv[++i];
        } else {
            fprintf(stderr, "vmem stat: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (vmem_report_format_parse(v, &fmt)) {
            fprintf(stderr, "vmem stat: --format: '%s' is not text, json or csv\n", v);
            return 2;
        }
        formatted = 1;
    }
    uint64_t pid, count = 0;
    unsigned ms = 0;
    if (i == argc || i + 3 < argc) {
        usage(stderr);
        return 2;
    }
    if (vmem_parse_uint(argv[i], 1, 0x7fffffff, &pid)) {
        fprintf(stderr, "vmem stat: PID: not a process id: '%s'\n", argv[i]);
        return 2;
    }
    if (i + 1 < argc && stat_parse_interval(argv[i + 1], &ms)) {
        fprintf(stderr, "vmem stat: INTERVAL: not a number of seconds (0.01 to 86400): '%s'\n",
                argv[i + 1]);
        return 2;
    }
    if (i + 2 < argc && vmem_parse_uint(argv[i + 2], 1, UINT64_MAX, &count)) {
        fprintf(stderr, "vmem stat: COUNT: not a positive number: '%s'\n", argv[i + 2]);
        return 2;
    }
    const char *dir = vmem_statarea_dir();
    vmem_statarea_clean(dir);
    char name[64];
    snprintf(name, sizeof(name), VMEM_STATAREA_PREFIX "%llu", (unsigned long long)pid);
    struct stat_sample prev, cur;
    for (uint64_t n = 0; !count || n < count; n++) {
        if (n)
            stat_nap(ms);
        int err = stat_sample_name(dir, name, REFRESH_MS, &cur);
        if (err) {
            if (n && err == ENOENT) {
                printf("vmem stat: process %llu ended\n", (unsigned long long)pid);
                return 0;
            }
            return stat_open_error("stat", (long)pid, err);
        }
        if (n && cur.start != prev.start) {
            printf("vmem stat: process %llu ended\n", (unsigned long long)pid);
            return 0;
        }
        if (!ms || formatted) {
            int e = vmem_report_write(1, fmt, &cur.r, 1, n ? VMEM_REPORT_NO_HEADER : 0);
            if (e) {
                fprintf(stderr, "vmem stat: write: %s\n", strerror(e));
                return 1;
            }
            if (!cur.fresh)
                fprintf(stderr, "vmem stat: process %llu did not answer: standby and page "
                        "file figures are as last published\n", (unsigned long long)pid);
        } else {
            if (!n)
                stat_header(stdout);
            stat_line(stdout, n ? &prev : NULL, &cur);
        }
        fflush(stdout);
        if (!ms || cur.r.end != VMEM_END_RUNNING)
            break;
        prev = cur;
    }
    return 0;
}

const struct vmem_cmd vmem_cmd_stat = {
    .name = "stat",
    .about = "a running libvmem process's counters (from its published statistics)",
    .main = stat_main,
};
