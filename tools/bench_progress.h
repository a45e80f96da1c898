/*
 * bench_progress.h -- a one-line progress bar on stderr for long runs.
 * Drawn only when enabled (the caller checks that stderr is a terminal);
 * redrawn at most once per percent.
 */
#ifndef VMEM_BENCH_PROGRESS_H
#define VMEM_BENCH_PROGRESS_H

#include <stdint.h>

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

#endif
