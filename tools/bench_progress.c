/* bench_progress.c -- the progress bar and the per-run lines (bench_progress.h). */
#include "bench_progress.h"

#include <stdio.h>

#define BAR_WIDTH 30

void bench_progress_start(struct bench_progress *p, int enabled, const char *label,
                          uint64_t total)
{
    p->enabled = enabled && total > 0;
    p->label = label;
    p->total = total;
    p->shown = 0;
    bench_progress_update(p, 0);
}

void bench_progress_update(struct bench_progress *p, uint64_t done)
{
    if (!p->enabled)
        return;
    unsigned pct = (unsigned)(done * 100 / p->total);
    if (pct + 1 == p->shown)
        return;
    p->shown = pct + 1;
    char bar[BAR_WIDTH + 1];
    unsigned full = pct * BAR_WIDTH / 100;
    for (unsigned i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < full ? '#' : '.';
    bar[BAR_WIDTH] = 0;
    fprintf(stderr, "\r[%s] %3u%% %s", bar, pct, p->label);
    fflush(stderr);
}

void bench_progress_end(struct bench_progress *p)
{
    if (p->enabled && p->shown)
        fprintf(stderr, "\r\033[K");
}

void bench_progress_run(FILE *f, size_t done, size_t total, const char *workload,
                        const char *policy, const char *error)
{
    fprintf(f, "vmem bench: run %zu/%zu %s: %s %s%s%s\n", done, total,
            error ? "failed" : "done", workload, policy, error ? ": " : "", error ? error : "");
    fflush(f);
}
