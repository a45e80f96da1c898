/*
 * cmd_sim.c -- `vmem sim`: replays a page reference trace against
 * replacement policies at several frame counts and reports the faults.
 */
#include "sim.h"
#include "sim_plot.h"
#include "trace.h"
#include "trace_bin.h"
#include "vmem_cmd.h"
#include "opt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sim_usage(FILE *f)
{
    fprintf(f,
        "usage: vmem sim [OPTIONS] TRACE      (TRACE '-': standard input)\n"
        "       vmem sim [OPTIONS] --gen SPEC\n"
        "\n"
        "  --policy LIST     comma-separated policies, or 'all' (default);\n"
        "                    'opt' is Belady's optimum\n"
        "  --frames SPEC     N,N,...  START:END:STEP  or auto (default: ~20 points\n"
        "                    up to the distinct-page count)\n"
        "  --prefetch NAME[:N]  prefetcher on each miss (default none)\n"
        "  --format FMT      text, lackey, bin or auto (default)\n"
        "  --gen SPEC        a generated trace: seq:PAGES, loop:PAGES:REFS,\n"
        "                    uniform:PAGES:REFS[:SEED], zipf:ALPHA:PAGES:REFS[:SEED]\n"
        "                    (counts: a number, or with K, M, G as powers of 1000)\n"
        "  --seed N          seed of randomised policies (default 1)\n"
        "  --csv             CSV: policy,frames,refs,faults\n"
        "  --plot FILE.png   faults against frames per policy (needs gnuplot)\n"
        "  --convert OUT     write the trace in the binary format and stop\n"
        "  --store M[:R]     a compressed tier of M pages at R pages per frame\n"
        "                    (default 2), its frames taken from each --frames\n"
        "                    point: misses served by it vs by disk\n"
        "  -h, --help        this help\n"
        "\n"
        "Exit status: 0; 1 if memory ran out or an output could not be written;\n"
        "2 on a bad option or value, or a trace that cannot be read.\n"
        "\npolicies:\n");
    for (size_t i = 0; policy_list[i]; i++)
        fprintf(f, "  %-9s %s\n", policy_list[i]->name, policy_list[i]->about);
    fprintf(f, "  %-9s %s\n", "opt", "Belady's OPT: evicts the page used farthest ahead (simulator only)");
    fprintf(f, "\nprefetchers:\n");
    for (size_t i = 0; prefetch_list[i]; i++)
        fprintf(f, "  %-9s %s\n", prefetch_list[i]->name, prefetch_list[i]->about);
}

/* one entry of --policy: ops, or NULL for opt */
struct choice {
    const struct policy_ops *ops;
    const char *name;
};

static size_t parse_policies(const char *spec, struct choice *out, size_t max)
{
    size_t n = 0;
    if (!strcmp(spec, "all")) {
        for (size_t i = 0; policy_list[i] && n < max; i++)
            out[n++] = (struct choice){policy_list[i], policy_list[i]->name};
        if (n < max)
            out[n++] = (struct choice){NULL, "opt"};
        return n;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max)
            return 0;
        if (!strcmp(tok, "opt")) {
            out[n++] = (struct choice){NULL, "opt"};
            continue;
        }
        const struct policy_ops *ops = policy_find(tok);
        if (!ops) {
            fprintf(stderr, "vmem sim: unknown policy '%s' (see vmem sim --help)\n", tok);
            return 0;
        }
        out[n++] = (struct choice){ops, ops->name};
    }
    return n;
}

static int parse_prefetch(const char *spec, const struct prefetch_ops **pf, unsigned *n)
{
    *pf = prefetch_find(spec);
    *n = 0;
    if (!*pf) {
        fprintf(stderr, "vmem sim: unknown prefetcher '%s'\n", spec);
        return -1;
    }
    const char *colon = strchr(spec, ':');
    if (colon) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(colon + 1, &end, 10);
        if (errno || *end || !colon[1] || v == 0 || v > 4096) {
            fprintf(stderr, "vmem sim: bad prefetch window in '%s' (1..4096)\n", spec);
            return -1;
        }
        *n = (unsigned)v;
    }
    if (*pf == prefetch_find("none"))
        *pf = NULL;
    return 0;
}

static int store_on;

static void print_table(const struct sim_result *r, size_t n, int prefetching)
{
    printf("%-8s %9s %12s %12s %8s", "policy", "frames", "refs", "faults", "miss%");
    if (prefetching)
        printf(" %11s %11s", "pf-used", "pf-unused");
    if (store_on)
        printf(" %11s %11s %11s", "store-frm", "store-hits", "disk");
    printf(" %9s %9s\n", "seconds", "Mrefs/s");
    for (size_t i = 0; i < n; i++) {
        double miss = r[i].refs ? 100.0 * (double)r[i].faults / (double)r[i].refs : 0;
        printf("%-8s %9zu %12llu %12llu %8.3f", r[i].policy, r[i].frames,
               (unsigned long long)r[i].refs, (unsigned long long)r[i].faults, miss);
        if (prefetching) {
            if (strcmp(r[i].policy, "opt"))
                printf(" %11llu %11llu", (unsigned long long)r[i].pf_used,
                       (unsigned long long)r[i].pf_unused);
            else
                printf(" %11s %11s", "-", "-");
        }
        if (store_on) {
            if (strcmp(r[i].policy, "opt"))
                printf(" %11zu %11llu %11llu", r[i].store_frames,
                       (unsigned long long)r[i].store_hits,
                       (unsigned long long)(r[i].faults - r[i].store_hits));
            else
                printf(" %11s %11s %11s", "-", "-", "-");
        }
        printf(" %9.3f %9.1f\n", r[i].seconds,
               r[i].seconds > 0 ? (double)r[i].refs / r[i].seconds / 1e6 : 0.0);
    }
}

enum sim_opt { O_POLICY, O_FRAMES, O_PREFETCH, O_FORMAT, O_GEN, O_SEED, O_CSV, O_PLOT,
               O_CONVERT, O_STORE, O_HELP };
static const struct opt_def sim_defs[] = {
    [O_POLICY] = { "policy", 0, OPT_VALUE },   [O_FRAMES] = { "frames", 0, OPT_VALUE },
    [O_PREFETCH] = { "prefetch", 0, OPT_VALUE }, [O_FORMAT] = { "format", 0, OPT_VALUE },
    [O_GEN] = { "gen", 0, OPT_VALUE },         [O_SEED] = { "seed", 0, OPT_VALUE },
    [O_CSV] = { "csv", 0, OPT_FLAG },          [O_PLOT] = { "plot", 0, OPT_VALUE },
    [O_CONVERT] = { "convert", 0, OPT_VALUE }, [O_STORE] = { "store", 0, OPT_VALUE },
    [O_HELP] = { "help", 'h', OPT_FLAG },
    { NULL, 0, 0 },
};

static int cmd_sim_main(int argc, char **argv)
{
    const char *policy_spec = "all", *frames_spec = "auto", *gen = NULL;
    const char *plot = NULL, *convert = NULL, *trace_file = NULL;
    const struct prefetch_ops *pf = NULL;
    unsigned pf_n = 0;
    enum trace_format fmt = TRACE_AUTO;
    uint64_t seed = 1;
    int csv = 0, k;
    store_on = 0;
    struct opt_parser p;
    opt_init(&p, "sim", sim_defs, argc, argv, 0);
    while ((k = opt_next(&p)) != OPT_END) {
        switch (k) {
        case OPT_ERROR: return 2;
        case OPT_OPERAND:
            if (trace_file) {
                opt_error(&p, "one trace file, not '%s' and '%s'", trace_file, p.value);
                return 2;
            }
            trace_file = p.value;
            break;
        case O_POLICY: policy_spec = p.value; break;
        case O_FRAMES: frames_spec = p.value; break;
        case O_PREFETCH:
            if (parse_prefetch(p.value, &pf, &pf_n) < 0)
                return 2;
            break;
        case O_FORMAT:
            if (trace_format_parse(p.value, &fmt) < 0) {
                opt_error(&p, "bad --format '%s' (text, lackey, bin, auto)", p.value);
                return 2;
            }
            break;
        case O_GEN: gen = p.value; break;
        case O_SEED:
            if (opt_uint(&p, 0, UINT64_MAX, &seed))
                return 2;
            break;
        case O_CSV: csv = 1; break;
        case O_PLOT:
            plot = p.value;
            if (!sim_have_gnuplot()) {
                fprintf(stderr, "vmem sim: --plot needs gnuplot, not found on PATH (Debian: "
                                "apt-get install gnuplot-nox)\n");
                return 2;
            }
            if (opt_output(&p, plot))
                return 2;
            break;
        case O_CONVERT:
            convert = p.value;
            if (opt_output(&p, convert))
                return 2;
            break;
        case O_HELP: sim_usage(stdout); return 0;
        case O_STORE: {
            /* M[:R]: M pages in the compressed tier at R pages per frame */
            size_t m;
            double ratio;
            if (sim_parse_store(p.value, &m, &ratio)) {
                opt_error(&p, "bad --store '%s' (PAGES or PAGES:RATIO, ratio 1..64)", p.value);
                return 2;
            }
            sim_set_store(m, ratio);
            store_on = m > 0;
            break;
        }
        }
    }
    if ((gen != NULL) == (trace_file != NULL)) {
        opt_error(&p, "give one trace file or --gen SPEC");
        return 2;
    }

    if (plot && strchr(plot, '\'')) {
        fprintf(stderr, "vmem sim: --plot: a file name without quotes, please\n");
        return 2;
    }

    struct choice choices[32];
    size_t nchoices = parse_policies(policy_spec, choices, 32);
    if (!nchoices) {
        fprintf(stderr, "vmem sim: bad --policy '%s'\n", policy_spec);
        return 2;
    }

    struct trace t = {0};
    char err[512];
    int rc = gen ? trace_generate(&t, gen, err, sizeof err)
                 : trace_load(&t, trace_file, fmt, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "vmem sim: %s\n", err);
        trace_free(&t);
        return 2;
    }
    if (convert) {
        if (trace_write_file(&t, convert) < 0) {
            fprintf(stderr, "vmem sim: %s: %s\n", convert, strerror(errno));
            trace_free(&t);
            return 1;
        }
        fprintf(stderr, "vmem sim: wrote %zu references to %s\n", t.n, convert);
        trace_free(&t);
        return 0;
    }

    struct sim_trace st;
    if (sim_prepare(&st, &t) < 0) {
        fprintf(stderr, "vmem sim: out of memory preparing the trace\n");
        trace_free(&t);
        return 1;
    }
    trace_free(&t);

    size_t *frames = NULL;
    size_t nframes = sim_parse_frames(frames_spec, st.distinct, &frames, err, sizeof err);
    if (!nframes) {
        fprintf(stderr, "vmem sim: %s\n", err);
        sim_trace_free(&st);
        return 2;
    }
    if (!csv)
        printf("# %zu references, %zu distinct pages%s%s\n", st.n, st.distinct,
               pf ? ", prefetch " : "", pf ? pf->name : "");

    size_t nres = nchoices * nframes;
    struct sim_result *res = calloc(nres, sizeof *res);
    rc = res ? 0 : -1;
    for (size_t p = 0; p < nchoices && !rc; p++)
        for (size_t k = 0; k < nframes && !rc; k++) {
            struct sim_result *r = &res[p * nframes + k];
            rc = choices[p].ops ? sim_run(&st, choices[p].ops, pf, pf_n, frames[k], seed, r)
                                : sim_opt(&st, frames[k], r);
        }
    if (rc < 0) {
        fprintf(stderr, "vmem sim: out of memory simulating\n");
    } else if (csv) {
        printf("policy,frames,refs,faults\n");
        for (size_t i = 0; i < nres; i++)
            printf("%s,%zu,%llu,%llu\n", res[i].policy, res[i].frames,
                   (unsigned long long)res[i].refs, (unsigned long long)res[i].faults);
    } else {
        print_table(res, nres, pf != NULL);
    }
    if (!rc && plot) {
        if (sim_plot(res, nres, plot, gen ? gen : trace_file) == 0)
            fprintf(stderr, "vmem sim: plot written to %s\n", plot);
        else
            rc = -1;
    }
    fflush(stdout);
    free(res);
    free(frames);
    sim_trace_free(&st);
    return rc < 0 ? 1 : 0;
}

const struct vmem_cmd vmem_cmd_sim = {
    .name = "sim",
    .about = "replay a page reference trace against replacement policies",
    .main = cmd_sim_main,
};
