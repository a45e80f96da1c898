/*
 * bench_plot.c -- the PNG bar chart of `vmem bench --plot`: faults (hard +
 * soft + demand-zero, workload phase) per policy, one group of bars per
 * workload, drawn by gnuplot (Debian: gnuplot-nox) from a temporary data
 * file.
 */
#include "bench_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* 1 if an executable `name` is on PATH. */
static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        char full[4096];
        snprintf(full, sizeof(full), "%.*s/%s", (int)len, len ? path : ".", name);
        if (access(full, X_OK) == 0)
            return 1;
        path += len + (path[len] == ':');
    }
    return 0;
}

/* The distinct values of one field, in first-seen order. */
static size_t distinct(const struct bench_run *runs, size_t n, int policy, const char **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = policy ? runs[i].policy : runs[i].workload;
        size_t j = 0;
        while (j < k && strcmp(out[j], v))
            j++;
        if (j == k)
            out[k++] = v;
    }
    return k;
}

static int write_data(FILE *f, const struct bench_run *runs, size_t n, const char **wl,
                      size_t nwl, const char **pol, size_t npol)
{
    fprintf(f, "workload");
    for (size_t p = 0; p < npol; p++)
        fprintf(f, " %s", pol[p]);
    fprintf(f, "\n");
    for (size_t w = 0; w < nwl; w++) {
        fprintf(f, "%s", wl[w]);
        for (size_t p = 0; p < npol; p++) {
            const struct bench_result *r = NULL;
            for (size_t i = 0; i < n; i++)
                if (!strcmp(runs[i].workload, wl[w]) && !strcmp(runs[i].policy, pol[p]))
                    r = &runs[i].r;
            if (r && r->ok)
                fprintf(f, " %" PRIu64, r->hard_faults + r->transition_faults +
                                            r->demand_zero_faults);
            else
                fprintf(f, " NaN");
        }
        fprintf(f, "\n");
    }
    return ferror(f) ? -1 : 0;
}

int bench_report_plot(const char *path, const struct bench_setup *s,
                      const struct bench_run *runs, size_t n)
{
    if (!on_path("gnuplot")) {
        fprintf(stderr, "vmem bench: no plot: gnuplot is not installed (Debian: apt-get "
                        "install gnuplot-nox)\n");
        return -1;
    }
    const char **wl = malloc((n + 1) * sizeof(*wl)), **pol = malloc((n + 1) * sizeof(*pol));
    char data[] = "/tmp/vmem-bench-plot-XXXXXX";
    int fd = wl && pol ? mkstemp(data) : -1;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        perror("vmem bench: plot data file");
        if (fd >= 0) {
            close(fd);
            unlink(data);
        }
        free(wl);
        free(pol);
        return -1;
    }
    size_t nwl = distinct(runs, n, 0, wl), npol = distinct(runs, n, 1, pol);
    int rc = write_data(f, runs, n, wl, nwl, pol, npol);
    rc |= fclose(f);
    free(wl);
    free(pol);
    FILE *gp = rc ? NULL : popen("gnuplot", "w");
    if (gp) {
        /* Text goes in single quotes: gnuplot expands backslashes in double. */
        fprintf(gp,
                "set terminal pngcairo size 1000,560 noenhanced\n"
                "set output '%s'\n"
                "set title 'vmem bench: faults per policy (cap %" PRIu64 " MiB, footprint %" PRIu64
                " MiB, prefetch %s)'\n"
                "set style data histogram\nset style histogram clustered gap 1\n"
                "set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
                "set ylabel 'faults (hard + soft + demand-zero)'\nset yrange [0:*]\n"
                "set grid ytics\nset key outside right top\n"
                "plot for [i=2:%zu] '%s' using i:xtic(1) title columnheader(i)\n",
                path, s->cap >> 20, s->size >> 20, s->prefetch, npol + 1, data);
        int st = pclose(gp);
        rc = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    if (!gp || rc)
        fprintf(stderr, "vmem bench: gnuplot could not draw %s\n", path);
    unlink(data);
    return gp && !rc ? 0 : -1;
}
