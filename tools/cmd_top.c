/*
 * cmd_top.c -- `vmem top`: every libvmem process on the machine that
 * publishes statistics, one line each (stat_show.c), refreshed every
 * interval: in place on a terminal, one block after another otherwise.
 */
#include "vmem_cmd.h"
#include "stat_show.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_MS 200

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vmem top [-d SECONDS] [-n COUNT] [-b]\n"
        "\n"
        "Every libvmem process that publishes statistics in $VMEM_PUBLISH_DIR (default\n"
        "/dev/shm) and that this user may read: working set, standby, page file in use,\n"
        "commit charge (MiB), faults by kind per second, page-file I/O (KiB/s).\n"
        "\n"
        "  -d SECONDS  between refreshes (default 2; e.g. 0.5)\n"
        "  -n COUNT    stop after COUNT refreshes (default: never)\n"
        "  -b          batch: blocks one after another, never redrawn (the default when\n"
        "              stdout is not a terminal)\n");
}

struct top_ctx {
    const char *dir;
    struct stat_sample *cur, *prev;
    size_t ncur, nprev, cap;
};

static void take(const char *name, void *arg)
{
    struct top_ctx *t = arg;
    if (t->ncur == t->cap) {
        size_t c = t->cap ? t->cap * 2 : 64;
        struct stat_sample *v = realloc(t->cur, c * sizeof(*v));
        if (!v)
            return;
        t->cur = v;
        t->cap = c;
    }
    struct stat_sample *s = &t->cur[t->ncur];
    /* areas of ended processes waiting for their `vmem run` are not shown */
    if (stat_sample_name(t->dir, name, REFRESH_MS, s) == 0 && s->r.end == VMEM_END_RUNNING &&
        vmem_proc_alive(s->r.pid))
        t->ncur++;
}

static int by_pid(const void *x, const void *y)
{
    const struct stat_sample *a = x, *b = y;
    return a->r.pid < b->r.pid ? -1 : a->r.pid > b->r.pid;
}

static int top_main(int argc, char **argv)
{
    unsigned ms = 2000;
    uint64_t count = 0;
    int batch = !isatty(1), opt;
    if (argc == 2 && !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    while ((opt = getopt(argc, argv, "+d:n:bh")) != -1) {
        switch (opt) {
        case 'd':
            if (stat_parse_interval(optarg, &ms)) {
                fprintf(stderr, "vmem top: -d: not a number of seconds (0.01 to 86400): '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'n':
            if (vmem_parse_uint(optarg, 1, UINT64_MAX, &count)) {
                fprintf(stderr, "vmem top: -n: not a positive number: '%s'\n", optarg);
                return 2;
            }
            break;
        case 'b': batch = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    struct top_ctx t = { vmem_statarea_dir(), NULL, NULL, 0, 0, 0 };
    struct stat_sample *prev = NULL;
    size_t nprev = 0, prevcap = 0;
    for (uint64_t n = 0; !count || n < count; n++) {
        if (n)
            stat_nap(ms);
        vmem_statarea_clean(t.dir);
        t.ncur = 0;
        vmem_statarea_list(t.dir, take, &t);
        qsort(t.cur, t.ncur, sizeof(*t.cur), by_pid);
        time_t now = time(NULL);
        char when[32];
        strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
        if (!batch)
            fputs("\033[H\033[2J", stdout);
        printf("vmem top - %s - %zu libvmem process%s\n", when, t.ncur, t.ncur == 1 ? "" : "es");
        stat_header(stdout);
        for (size_t k = 0; k < t.ncur; k++) {
            const struct stat_sample *p = NULL;
            for (size_t j = 0; j < nprev && !p; j++)
                if (prev[j].r.pid == t.cur[k].r.pid && prev[j].start == t.cur[k].start)
                    p = &prev[j];
            stat_line(stdout, p, &t.cur[k]);
        }
        if (batch)
            putchar('\n');
        fflush(stdout);
        if (t.ncur > prevcap) {
            struct stat_sample *v = realloc(prev, t.ncur * sizeof(*v));
            if (!v)
                continue;
            prev = v;
            prevcap = t.ncur;
        }
        if (t.ncur)
            memcpy(prev, t.cur, t.ncur * sizeof(*prev));
        nprev = t.ncur;
    }
    free(prev);
    free(t.cur);
    return 0;
}

const struct vmem_cmd vmem_cmd_top = {
    .name = "top",
    .about = "every running libvmem process's counters, refreshed",
    .main = top_main,
};
