/*
 * bench_trace.h -- saving a `vmem bench` run's page references in the
 * simulator's text trace format: one reference per line, "W N" or "R N"
 * with N the decimal page index within the region; '#' lines are comments.
 * The populate pass (every page written once, in order) comes first, so a
 * replay starts from the state the workload starts from live.
 */
#ifndef VMEM_BENCH_TRACE_H
#define VMEM_BENCH_TRACE_H

#include "bench_workload.h"

/* 0, or -1 with errno set. */
int bench_trace_write(const char *path, const char *label, uint64_t pages,
                      const struct bench_ref *refs, size_t nrefs, uint64_t seed);

#endif
