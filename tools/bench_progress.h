/*
 * bench_progress.h -- a one-line progress bar on stderr for long runs.
 * Drawn only when enabled (the caller checks that stderr is a terminal);
 * redrawn at most once per percent.  Elsewhere (a log, a pipe) a line per
 * run.
 */
#ifndef VMEM_BENCH_PROGRESS_H
#define VMEM_BENCH_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bench_progress {
    int enabled;
    const char *label;
    uint64_t total;
    unsigned shown; /* percent last drawn + 1; 0: nothing drawn yet */
};

void bench_progress_start(struct bench_progress *p, int enabled, const char *label,
                          uint64_t total);
void bench_progress_update(struct bench_progress *p, uint64_t done);
/* Erases the bar. */
void bench_progress_end(struct bench_progress *p);

/* Where no bar is drawn (stderr not a terminal): one line per finished
 * run, "vmem bench: run 3/16 done: seq lru" (error: why it failed). */
void bench_progress_run(FILE *f, size_t done, size_t total, const char *workload,
                        const char *policy, const char *error);

#endif
