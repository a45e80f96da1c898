/* bench_report.c -- the table and the CSV file (bench_report.h). */
#include "bench_report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

void bench_report_table(FILE *f, const char *workload, const struct bench_run *runs, size_t n)
{
    fprintf(f, "%-8s %9s %9s %9s %9s %9s %8s %11s %8s %8s %9s\n", "policy", "hard", "soft",
            "dzero", "pg-read", "pg-write", "pf-hits", "touches/s", "p50-us", "p99-us",
            "max-us");
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
                " %8" PRIu64 " %11.0f %8.1f %8.1f %9.1f%s\n",
                x->policy, r->hard_faults, r->transition_faults, r->demand_zero_faults,
                r->pages_read, r->pages_written, r->prefetch_used,
                r->secs > 0 ? (double)r->refs / r->secs : 0.0, r->p50_us, r->p99_us, r->max_us,
                r->bad_pages ? "  DATA ERRORS" : "");
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
               "bad_pages\n");
    for (size_t i = 0; i < n; i++) {
        const struct bench_result *r = &runs[i].r;
        fprintf(f,
                "%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%d,%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%.0f,%.2f,%.2f,%.2f,"
                "%" PRIu64 "\n",
                runs[i].workload, runs[i].policy, s->prefetch, s->size, s->cap, s->seed,
                r->refs, r->ok, r->hard_faults, r->transition_faults, r->demand_zero_faults,
                r->pages_read, r->pages_written, r->prefetched_pages, r->prefetch_used,
                r->prefetch_unused, r->trimmed_pages, r->peak_working_set, r->slow_touches,
                r->secs, r->secs > 0 ? (double)r->refs / r->secs : 0.0, r->p50_us, r->p99_us,
                r->max_us, r->bad_pages);
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
