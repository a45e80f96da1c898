/* bench_report.c -- the table and the CSV file (bench_report.h). */
#include "bench_report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* The store's columns: simulated misses without the store, and with it
 * those it served and those left to disk (the two add up to the first);
 * live, the faults the store served and the page-file reads. */
static void store_head(FILE *f)
{
    fprintf(f, " %9s %10s %9s %9s %9s", "sim-miss", "sim-st-hit", "sim-pf-rd", "st-hits",
            "pf-reads");
}

static void store_cells(FILE *f, const struct bench_run *x)
{
    if (x->sim.ok)
        fprintf(f, " %9" PRIu64 " %10" PRIu64 " %9" PRIu64, x->sim.misses, x->sim.store_hits,
                x->sim.disk);
    else
        fprintf(f, " %9s %10s %9s", "-", "-", "-");
    fprintf(f, " %9" PRIu64 " %9" PRIu64, x->r.store_hits, x->r.hard_faults);
}

void bench_report_table(FILE *f, const struct bench_setup *s, const char *workload,
                        const struct bench_run *runs, size_t n)
{
    fprintf(f, "%-8s %9s %9s %9s %9s %9s %8s %11s %8s %8s %9s", "policy", "hard", "soft",
            "dzero", "pg-read", "pg-write", "pf-hits", "touches/s", "p50-us", "p99-us",
            "max-us");
    if (s->store_pages)
        store_head(f);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        const struct bench_run *x = &runs[i];
        if (strcmp(x->workload, workload))
            continue;
        const struct bench_result *r = &x->r;
        if (!r->ok) {
            fprintf(f, "%-8s failed: %s\n", x->policy, r->error);
            continue;
        }
        fprintf(f,
                "%-8s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64
                " %8" PRIu64 " %11.0f %8.1f %8.1f %9.1f",
                x->policy, r->hard_faults, r->transition_faults, r->demand_zero_faults,
                r->pages_read, r->pages_written, r->prefetch_used,
                r->secs > 0 ? (double)r->refs / r->secs : 0.0, r->p50_us, r->p99_us, r->max_us);
        if (s->store_pages)
            store_cells(f, x);
        fprintf(f, "%s\n", r->bad_pages ? "  DATA ERRORS" : "");
    }
}

int bench_report_csv(const char *path, const struct bench_setup *s, const struct bench_run *runs,
                     size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "workload,policy,prefetch,size_bytes,cap_bytes,seed,refs,ok,hard_faults,"
               "transition_faults,demand_zero_faults,pages_read,pages_written,"
               "prefetched_pages,prefetch_used,prefetch_unused,trimmed_pages,"
               "peak_working_set,slow_touches,secs,touches_per_sec,p50_us,p99_us,max_us,"
               "bad_pages%s\n",
            s->store_pages ? ",store_pages,store_ratio,sim_misses,sim_store_hits,"
                             "sim_pagefile_reads,store_hits,store_rejects" : "");
    for (size_t i = 0; i < n; i++) {
        const struct bench_result *r = &runs[i].r;
        fprintf(f,
                "%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%d,%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%.0f,%.2f,%.2f,%.2f,"
                "%" PRIu64,
                runs[i].workload, runs[i].policy, s->prefetch, s->size, s->cap, s->seed,
                r->refs, r->ok, r->hard_faults, r->transition_faults, r->demand_zero_faults,
                r->pages_read, r->pages_written, r->prefetched_pages, r->prefetch_used,
                r->prefetch_unused, r->trimmed_pages, r->peak_working_set, r->slow_touches,
                r->secs, r->secs > 0 ? (double)r->refs / r->secs : 0.0, r->p50_us, r->p99_us,
                r->max_us, r->bad_pages);
        if (s->store_pages) {
            const struct bench_sim *m = &runs[i].sim;
            fprintf(f, ",%zu,%g,", s->store_pages, s->store_ratio);
            if (m->ok)
                fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64, m->misses, m->store_hits,
                        m->disk);
            else
                fprintf(f, ",,");
            fprintf(f, ",%" PRIu64 ",%" PRIu64, r->store_hits, r->store_rejects);
        }
        fputc('\n', f);
    }
    int err = ferror(f) ? EIO : 0;
    if (fclose(f) && !err)
        err = errno;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
