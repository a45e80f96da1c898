/*
 * bench_worker.h -- one policy on one workload, live: the hidden worker mode
 * of `vmem bench`, run in a fresh process whose environment (VMEM_POLICY,
 * VMEM_MAX_RESIDENT, ...) configures libvmem.
 */
#ifndef VMEM_BENCH_WORKER_H
#define VMEM_BENCH_WORKER_H

#include "bench_workload.h"

/* The worker's command line after `vmem bench`. */
#define BENCH_WORKER_FLAG "--worker"

struct bench_worker_args {
    int result_fd;          /* the struct bench_result goes here */
    struct bench_workload workload;
    uint64_t pages, cap_pages, refs, seed;
    uint64_t head_words;    /* words of a page that differ; the rest repeat
                             * one word, so the page compresses (512: none) */
    int progress;           /* draw a progress bar on stderr */
    const char *label;      /* for the progress bar */
};

/* Parses the worker's arguments (argv[0] is BENCH_WORKER_FLAG); 0 or -1. */
int bench_worker_parse(int argc, char **argv, struct bench_worker_args *a);

/* Runs the workload and writes the result; the process's exit status:
 * 0 the result was sent (it may report a failure), 1 it could not be. */
int bench_worker_run(const struct bench_worker_args *a);

#endif
