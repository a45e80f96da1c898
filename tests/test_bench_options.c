/*
 * `vmem bench` options and traces: bad options are refused with a usage
 * error naming the valid choices, and a workload's trace depends on its seed
 * alone; --store adds the compressed tier's columns, whose simulated
 * counts add up.  And the benchmarks' one definition of percentiles (bench/stats.h).  The bench tool comes from VMEM_BENCH_TOOL (set by meson).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "policy/policy.h"
#include "stats.h"

/* Runs `vmem bench ARGS`, output into out (NUL-terminated); exit status. */
static int bench(const char *args, char *out, size_t len)
{
    const char *tool = getenv("VMEM_BENCH_TOOL");
    cr_assert_not_null(tool, "VMEM_BENCH_TOOL is not set");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' bench %s 2>&1", tool, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = 0;
    int st = pclose(p);
    cr_assert(WIFEXITED(st), "vmem bench %s did not exit", args);
    return WEXITSTATUS(st);
}

Test(bench_options, unknown_policy_lists_every_policy)
{
    char out[4096];
    cr_assert_eq(bench("--policy clock,nosuch", out, sizeof(out)), 2);
    cr_assert(strstr(out, "nosuch"), "%s", out);
    for (size_t i = 0; policy_list[i]; i++)
        cr_assert(strstr(out, policy_list[i]->name), "%s not listed: %s", policy_list[i]->name,
                  out);
}

Test(bench_options, bad_values_are_usage_errors)
{
    char out[4096];
    cr_assert_eq(bench("--workload zipf:-1", out, sizeof(out)), 2);
    cr_assert_eq(bench("--workload nosuch", out, sizeof(out)), 2);
    cr_assert(strstr(out, "scanmix"), "valid workloads not listed: %s", out);
    cr_assert_eq(bench("--size 1M --cap 2M", out, sizeof(out)), 2);
    cr_assert_eq(bench("--refs 0", out, sizeof(out)), 2);
    cr_assert_eq(bench("--prefetch psychic", out, sizeof(out)), 2);
    cr_assert_eq(bench("--bogus", out, sizeof(out)), 2);
    /* numbers and sizes follow vmem_parse_uint/vmem_parse_size */
    cr_assert_eq(bench("--size 4M5", out, sizeof(out)), 2);
    cr_assert_eq(bench("--size -4M", out, sizeof(out)), 2);
    cr_assert_eq(bench("--cap ''", out, sizeof(out)), 2);
    cr_assert_eq(bench("--seed -1", out, sizeof(out)), 2);
    cr_assert_eq(bench("--seed 0x10", out, sizeof(out)), 2);
    cr_assert_eq(bench("--refs 99999999999999999999", out, sizeof(out)), 2);
    cr_assert_eq(bench("--prefetch cluster:513", out, sizeof(out)), 2);
    cr_assert(strstr(out, "cluster:513"), "%s", out);
}

/* Whole file into a malloc'ed string. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

Test(bench_options, trace_depends_on_the_seed_alone, .timeout = 120)
{
    char dir[] = "/tmp/vmem-bench-opt-XXXXXX", args[512], out[4096];
    cr_assert_not_null(mkdtemp(dir));
    /* One page per demand-zero fault: with 16-page clusters a small cap
     * makes faults wait for the trimmer for up to 200 ms each. */
    setenv("VMEM_ZERO_CLUSTER", "1", 1);
    const char *common = "--workload zipf --policy fifo --size 4M --cap 1M --refs 2000";
    char *t[3];
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof(args), "%s --seed %d --trace %s/t%d.txt", common, i < 2 ? 5 : 6,
                 dir, i);
        cr_assert_eq(bench(args, out, sizeof(out)), 0, "%s", out);
        snprintf(args, sizeof(args), "%s/t%d.txt", dir, i);
        t[i] = slurp(args);
        remove(args);
    }
    remove(dir);
    cr_assert_str_eq(t[0], t[1], "the same seed gave different traces");
    cr_assert_str_neq(t[0], t[2], "another seed gave the same trace");
    /* 1024 populate lines, 2000 references, 3 comment lines */
    size_t lines = 0;
    for (char *c = t[0]; *c; c++)
        lines += *c == '\n';
    cr_assert_eq(lines, 1024 + 2000 + 3);
    for (int i = 0; i < 3; i++)
        free(t[i]);
}

/* ---- --store: the compressed tier's columns ------------------------------- */

#define MAX_COLS 32

/* The column of header cols[0..n) named name, or -1. */
static int col(char cols[][16], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(cols[i], name))
            return i;
    return -1;
}

/* Splits line at blanks into at most MAX_COLS words of 15 bytes. */
static int words(const char *line, char w[][16])
{
    int n = 0;
    for (const char *p = line; *p && n < MAX_COLS;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " \n");
        if (!len)
            break;
        snprintf(w[n++], 16, "%.*s", (int)len, p);
        p += len;
    }
    return n;
}

Test(bench_options, store_columns_only_with_store, .timeout = 120)
{
    static char out[16384];
    setenv("VMEM_ZERO_CLUSTER", "1", 1); /* as above: no wait for the trimmer */
    const char *common = "--workload zipf,loop --policy fifo,lru --size 4M --cap 1M --refs 2000";
    char args[512];
    cr_assert_eq(bench(common, out, sizeof(out)), 0, "%s", out);
    cr_assert_null(strstr(out, "sim-miss"), "store columns without --store:\n%s", out);
    cr_assert_null(strstr(out, "st-hits"), "store columns without --store:\n%s", out);
    cr_assert_null(strstr(out, ", store "), "a store in the heading without --store:\n%s", out);

    snprintf(args, sizeof(args), "%s --store 512:2", common);
    cr_assert_eq(bench(args, out, sizeof(out)), 0, "%s", out);
    cr_assert(strstr(out, ", store 512 pages at 2 per frame"), "no store in the heading:\n%s",
              out);
    char head[MAX_COLS][16], row[MAX_COLS][16];
    int tables = 0, rows = 0, nh = 0;
    uint64_t live_hits = 0, sim_hits = 0;
    for (char *save, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "policy ", 7)) {
            nh = words(line, head);
            tables++;
            continue;
        }
        if (!nh || (strncmp(line, "fifo ", 5) && strncmp(line, "lru ", 4)))
            continue;
        int miss = col(head, nh, "sim-miss"), hit = col(head, nh, "sim-st-hit"),
            disk = col(head, nh, "sim-pf-rd"), live = col(head, nh, "st-hits"),
            reads = col(head, nh, "pf-reads"), hard = col(head, nh, "hard");
        cr_assert(miss >= 0 && hit >= 0 && disk >= 0 && live >= 0 && reads >= 0,
                  "a store column is missing: %s", line);
        cr_assert_eq(words(line, row), nh, "a row without every column: %s", line);
        uint64_t m = strtoull(row[miss], NULL, 10), h = strtoull(row[hit], NULL, 10),
                 d = strtoull(row[disk], NULL, 10);
        cr_assert_eq(h + d, m, "store hits %llu + page-file reads %llu != one-tier misses %llu: %s",
                     (unsigned long long)h, (unsigned long long)d, (unsigned long long)m, line);
        cr_assert_str_eq(row[reads], row[hard], "live page-file reads are the hard faults: %s",
                         line);
        sim_hits += h;
        live_hits += strtoull(row[live], NULL, 10);
        rows++;
    }
    cr_assert_eq(tables, 2, "one table per workload");
    cr_assert_eq(rows, 4, "one row per policy and workload");
    cr_assert_gt(sim_hits, 0, "the simulated store served no miss");
    cr_assert_gt(live_hits, 0, "libvmem's compressed store served no fault");
}

Test(bench_options, bad_store_values_are_usage_errors)
{
    char out[4096];
    const char *bad[] = {
        "--store x", "--store 512:0.5", "--store 512:65", "--store 512:", "--store -1",
        "--store 8",                  /* 4 frames: below libvmem's least store */
        "--cap 1M --store 10000:1",   /* above 9 x the cap */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(bench(bad[i], out, sizeof(out)), 2, "%s accepted: %s", bad[i], out);
        cr_assert(strstr(out, "--store"), "%s: the error does not name --store: %s", bad[i],
                  out);
    }
}

/* Nearest rank: the smallest value with at least p*n values at or below. */
Test(bench_stats, percentiles_are_nearest_rank)
{
    uint32_t v[100];
    for (uint32_t i = 0; i < 100; i++)
        v[i] = 100 - i;                   /* 100 .. 1 */
    stats_sort_u32(v, 100);
    cr_assert_eq(v[0], 1);
    cr_assert_eq(v[99], 100);
    cr_assert_eq(stats_percentile_u32(v, 100, 0.50), 50);
    cr_assert_eq(stats_percentile_u32(v, 100, 0.99), 99, "0.99 * 100 is rank 99, not 100");
    cr_assert_eq(stats_percentile_u32(v, 100, 1.0), 100);
    cr_assert_eq(stats_percentile_u32(v, 10, 0.99), 10, "rank ceil(9.9) = 10");
    cr_assert_eq(stats_percentile_u32(v, 3, 0.5), 2);
    cr_assert_eq(stats_percentile_u32(v, 1, 0.01), 1);
    cr_assert_float_eq(stats_mean_u32(v, 100), 50.5, 1e-9);
    cr_assert_float_eq(stats_mean_u32(v, 0), 0.0, 1e-9);
    double d[] = { 4, 1, 3, 2 };
    cr_assert_float_eq(stats_min(d, 4), 1.0, 1e-9);
    cr_assert_float_eq(stats_median(d, 4), 2.5, 1e-9, "even count: mean of the middle two");
    cr_assert_float_eq(stats_median(d, 3), 2.0, 1e-9);
}
