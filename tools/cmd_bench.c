/*
 * cmd_bench.c -- `vmem bench`: the replacement policies compared live on
 * built-in workloads.  Each policy runs each workload in a fresh process
 * (this binary again, in the hidden worker mode of bench_worker.c) so that
 * libvmem starts with that policy and nothing left over from another run.
 */
#include "vmem_cmd.h"

#include "bench_report.h"
#include "bench_trace.h"
#include "bench_worker.h"
#include "bench_workload.h"
#include "pagefile_arg.h"
#include "policy/policy.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmem.h>

/* Large enough to page through a cap of 2048 pages, small enough that every
 * policy on every workload takes about a second here. */
#define DEFAULT_SIZE (32ull << 20)
#define DEFAULT_CAP (8ull << 20)
#define MIN_CAP (256ull << 10) /* libvmem's smallest cap */
#define MAX_SIZE (64ull << 30)
#define MAX_WORKLOADS 32
#define MAX_POLICIES 64

struct bench_opts {
    struct bench_workload workloads[MAX_WORKLOADS];
    size_t nworkloads;
    const char *policies[MAX_POLICIES];
    size_t npolicies;
    struct bench_setup setup;
    const char *pagefile, *csv, *plot, *trace;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vmem bench [OPTIONS]\n"
            "\n"
            "Runs each workload under each replacement policy, live, each run in a fresh\n"
            "process with VMEM_POLICY=NAME and VMEM_MAX_RESIDENT=CAP, and prints libvmem's\n"
            "fault counters, throughput and fault latencies.  Other VMEM_* variables in\n"
            "the environment reach the runs unchanged.\n"
            "\n"
            "  --workload W[,W...]  seq, uniform, zipf[:S] (skew, 0.99), hotcold[:P] (P%% of\n"
            "                       references to (100-P)%% of pages, 90), loop (over 1.1 x\n"
            "                       the cap), scanmix (a hot set with scans), or all\n"
            "                       (default); may be given more than once\n"
            "  --policy P[,P...]    replacement policies, or all (default):");
    for (size_t i = 0; policy_list[i]; i++)
        fprintf(f, " %s", policy_list[i]->name);
    fprintf(f,
            "\n"
            "  --prefetch SPEC      VMEM_PREFETCH for every run (default none: every\n"
            "                       policy pays its own misses); prefetched pages then\n"
            "                       wait on standby (VMEM_PREFETCH_INSTALL=standby unless\n"
            "                       set) so the prefetch-hit column counts their use\n"
            "  --pagefile DIR       VMEM_PAGEFILE (default /var/tmp)\n"
            "  --size F             footprint committed and touched (default 32M)\n"
            "  --cap C              VMEM_MAX_RESIDENT (default 8M)\n"
            "  --refs N             references per workload (default 2 per page)\n"
            "  --seed S             workload seed (default 1)\n"
            "  --csv FILE           all results as CSV\n"
            "  --plot FILE.png      bar chart of faults per policy (needs gnuplot)\n"
            "  --trace FILE         the reference string in the simulator's text format\n"
            "                       (with several workloads: FILE-WORKLOAD per workload)\n"
            "\n"
            "Counters cover the workload phase (after every page was written once).\n"
            "Latencies (p50/p99/max) are of touches slower than %u ns: faults.  Every\n"
            "touch checks its page's content; any wrong byte makes the exit status 1.\n",
            BENCH_SLOW_TOUCH_NS);
}

static void list_policies(FILE *f)
{
    fprintf(f, "valid policies:");
    for (size_t i = 0; policy_list[i]; i++)
        fprintf(f, " %s", policy_list[i]->name);
    fprintf(f, ", or all\n");
}

static int add_policies(struct bench_opts *o, char *list)
{
    for (char *save, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (!strcmp(p, "all")) {
            for (size_t i = 0; policy_list[i] && o->npolicies < MAX_POLICIES; i++)
                o->policies[o->npolicies++] = policy_list[i]->name;
            continue;
        }
        const struct policy_ops *ops = policy_find(p);
        if (!ops) {
            fprintf(stderr, "vmem bench: unknown policy '%s'; ", p);
            list_policies(stderr);
            return -1;
        }
        if (o->npolicies == MAX_POLICIES) {
            fprintf(stderr, "vmem bench: more than %d policies\n", MAX_POLICIES);
            return -1;
        }
        o->policies[o->npolicies++] = ops->name;
    }
    return 0;
}

static int add_workloads(struct bench_opts *o, char *list)
{
    char err[256];
    for (char *save, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int all = !strcmp(w, "all");
        for (int k = 0; k < (all ? WL_COUNT : 1); k++) {
            if (o->nworkloads == MAX_WORKLOADS) {
                fprintf(stderr, "vmem bench: more than %d workloads\n", MAX_WORKLOADS);
                return -1;
            }
            if (bench_workload_parse(all ? bench_workload_names[k] : w,
                                     &o->workloads[o->nworkloads], err, sizeof(err))) {
                fprintf(stderr, "vmem bench: %s\n", err);
                return -1;
            }
            o->nworkloads++;
        }
    }
    return 0;
}

/* NAME or NAME:N with NAME in prefetch_list[]. */
static int valid_prefetch(const char *spec)
{
    size_t len = strcspn(spec, ":");
    for (size_t i = 0; prefetch_list[i]; i++) {
        if (strlen(prefetch_list[i]->name) != len || strncmp(prefetch_list[i]->name, spec, len))
            continue;
        uint64_t n;
        return !spec[len] || vmem_parse_uint(spec + len + 1, 0, 512, &n) == 0;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct bench_opts *o)
{
    static const struct option longopts[] = {
        { "workload", required_argument, NULL, 'w' }, { "policy", required_argument, NULL, 'p' },
        { "prefetch", required_argument, NULL, 'f' }, { "pagefile", required_argument, NULL, 'd' },
        { "size", required_argument, NULL, 's' },     { "cap", required_argument, NULL, 'c' },
        { "refs", required_argument, NULL, 'n' },     { "seed", required_argument, NULL, 'x' },
        { "csv", required_argument, NULL, 'C' },      { "plot", required_argument, NULL, 'P' },
        { "trace", required_argument, NULL, 't' },    { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof(*o));
    o->setup = (struct bench_setup){ DEFAULT_SIZE, DEFAULT_CAP, 0, 1, "none" };
    o->pagefile = "/var/tmp";
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'w':
            if (add_workloads(o, optarg))
                return 2;
            break;
        case 'p':
            if (add_policies(o, optarg))
                return 2;
            break;
        case 'f':
            if (!valid_prefetch(optarg)) {
                fprintf(stderr, "vmem bench: bad --prefetch '%s': NAME or NAME:N (N up to "
                                "512), NAME one of", optarg);
                for (size_t i = 0; prefetch_list[i]; i++)
                    fprintf(stderr, " %s", prefetch_list[i]->name);
                fprintf(stderr, "\n");
                return 2;
            }
            o->setup.prefetch = optarg;
            break;
        case 'd': o->pagefile = optarg; break;
        case 'C': o->csv = optarg; break;
        case 'P': o->plot = optarg; break;
        case 't': o->trace = optarg; break;
        case 's': case 'c': case 'n': case 'x': {
            uint64_t v;
            int bad = c == 's' || c == 'c' ? vmem_parse_size(optarg, &v)
                                            : vmem_parse_uint(optarg, 0, UINT64_MAX, &v);
            if (bad || (c == 'n' && v == 0)) {
                fprintf(stderr, "vmem bench: bad %s '%s'\n",
                        c == 's' ? "--size" : c == 'c' ? "--cap" : c == 'n' ? "--refs" : "--seed",
                        optarg);
                return 2;
            }
            if (c == 's')
                o->setup.size = v;
            else if (c == 'c')
                o->setup.cap = v;
            else if (c == 'n')
                o->setup.refs = v;
            else
                o->setup.seed = v;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "vmem bench: %s '%s'\n",
                    optopt ? "option needs a value:" : "unknown option", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vmem bench: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    struct bench_setup *s = &o->setup;
    s->size &= ~(uint64_t)(VMEM_PAGE_SIZE - 1);
    s->cap &= ~(uint64_t)(VMEM_PAGE_SIZE - 1);
    if (s->size < VMEM_PAGE_SIZE || s->size > MAX_SIZE) {
        fprintf(stderr, "vmem bench: --size must be from 4K to 64G\n");
        return 2;
    }
    if (s->cap < MIN_CAP || s->cap > s->size) {
        fprintf(stderr, "vmem bench: --cap must be from 256K to the --size (%" PRIu64
                        " bytes)\n", s->size);
        return 2;
    }
    if (s->refs > (1ull << 31)) {
        fprintf(stderr, "vmem bench: --refs at most 2^31\n");
        return 2;
    }
    /* never a file at the given path: checked before any run starts */
    static char pagefile_abs[4096];
    if (pagefile_arg_check("vmem bench", "--pagefile", o->pagefile, pagefile_abs, sizeof(pagefile_abs)))
        return 2;
    o->pagefile = pagefile_abs;
    if (!o->nworkloads)
        add_workloads(o, (char[]){ "all" });
    if (!o->npolicies)
        add_policies(o, (char[]){ "all" });
    return -1; /* go on */
}

/* Reads exactly one result from fd; 0 or -1. */
static int read_result(int fd, struct bench_result *r)
{
    size_t got = 0;
    while (got < sizeof(*r)) {
        ssize_t n = read(fd, (char *)r + got, sizeof(*r) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static void run_one(const struct bench_opts *o, const struct bench_workload *w,
                    const char *policy, struct bench_result *r)
{
    memset(r, 0, sizeof(*r));
    int fds[2];
    if (pipe(fds)) {
        snprintf(r->error, sizeof(r->error), "pipe: %s", strerror(errno));
        return;
    }
    char fd_s[16], pages_s[24], cap_s[24], refs_s[24], seed_s[24], cap_env[24], label[96];
    snprintf(fd_s, sizeof(fd_s), "%d", fds[1]);
    snprintf(pages_s, sizeof(pages_s), "%" PRIu64, o->setup.size / VMEM_PAGE_SIZE);
    snprintf(cap_s, sizeof(cap_s), "%" PRIu64, o->setup.cap / VMEM_PAGE_SIZE);
    snprintf(refs_s, sizeof(refs_s), "%" PRIu64, o->setup.refs);
    snprintf(seed_s, sizeof(seed_s), "%" PRIu64, o->setup.seed);
    snprintf(cap_env, sizeof(cap_env), "%" PRIu64, o->setup.cap);
    snprintf(label, sizeof(label), "%s %s", w->label, policy);
    char *argv[] = { "vmem", "bench", BENCH_WORKER_FLAG, fd_s, (char *)w->label, pages_s, cap_s,
                     refs_s, seed_s, isatty(STDERR_FILENO) ? "1" : "0", label, NULL };
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(r->error, sizeof(r->error), "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        setenv("VMEM_POLICY", policy, 1);
        setenv("VMEM_MAX_RESIDENT", cap_env, 1);
        setenv("VMEM_PREFETCH", o->setup.prefetch, 1);
        /* prefetched pages wait on standby, so the table can say which
         * were used (unless the user chose otherwise) */
        if (strcmp(o->setup.prefetch, "none") != 0)
            setenv("VMEM_PREFETCH_INSTALL", "standby", 0);
        setenv("VMEM_PAGEFILE", o->pagefile, 1);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "vmem bench: exec /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    int got = read_result(fds[0], r);
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (got) {
        r->ok = 0;
        if (WIFSIGNALED(st))
            snprintf(r->error, sizeof(r->error), "the run died of signal %d (%s)", WTERMSIG(st),
                     strsignal(WTERMSIG(st)));
        else
            snprintf(r->error, sizeof(r->error), "the run exited with status %d and no result",
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
}

/* FILE for one workload; FILE-LABEL (':' as '-') before any extension for several. */
static void trace_path(const char *base, const char *label, int several, char *out, size_t len)
{
    if (!several) {
        snprintf(out, len, "%s", base);
        return;
    }
    const char *slash = strrchr(base, '/'), *dot = strrchr(base, '.');
    if (!dot || (slash && dot < slash))
        dot = base + strlen(base);
    int n = snprintf(out, len, "%.*s-%s%s", (int)(dot - base), base, label, dot);
    for (int i = (int)(dot - base); n > 0 && i < n && (size_t)i < len; i++)
        if (out[i] == ':')
            out[i] = '-';
}

static int save_trace(const struct bench_opts *o, const struct bench_workload *w)
{
    uint64_t pages = o->setup.size / VMEM_PAGE_SIZE;
    size_t n;
    struct bench_ref *refs = bench_workload_generate(w, pages, o->setup.cap / VMEM_PAGE_SIZE,
                                                     o->setup.refs, o->setup.seed, &n);
    char path[4096];
    trace_path(o->trace, w->label, o->nworkloads > 1, path, sizeof(path));
    int rc = refs ? bench_trace_write(path, w->label, pages, refs, n, o->setup.seed) : -1;
    if (rc)
        fprintf(stderr, "vmem bench: trace %s: %s\n", path,
                refs ? strerror(errno) : "out of memory");
    else
        printf("trace: %s\n", path);
    free(refs);
    return rc;
}

static int bench_main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], BENCH_WORKER_FLAG)) {
        struct bench_worker_args a;
        if (bench_worker_parse(argc - 1, argv + 1, &a)) {
            fprintf(stderr, "vmem bench: bad worker arguments\n");
            return 2;
        }
        return bench_worker_run(&a);
    }
    static struct bench_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    size_t nruns = o.nworkloads * o.npolicies;
    struct bench_run *runs = calloc(nruns, sizeof(*runs));
    if (!runs) {
        fprintf(stderr, "vmem bench: out of memory\n");
        return 1;
    }
    const struct bench_setup *s = &o.setup;
    printf("vmem bench: footprint %" PRIu64 " KiB, cap %" PRIu64 " KiB, prefetch %s, "
           "page file in %s, seed %" PRIu64 "\n",
           s->size >> 10, s->cap >> 10, s->prefetch, o.pagefile, s->seed);
    int status = 0;
    size_t k = 0;
    for (size_t w = 0; w < o.nworkloads; w++) {
        const struct bench_workload *wl = &o.workloads[w];
        if (o.trace && save_trace(&o, wl))
            status = 1;
        for (size_t p = 0; p < o.npolicies; p++, k++) {
            runs[k].workload = wl->label;
            runs[k].policy = o.policies[p];
            run_one(&o, wl, o.policies[p], &runs[k].r);
            if (!runs[k].r.ok || runs[k].r.bad_pages)
                status = 1;
        }
        printf("\nworkload %s: %" PRIu64 " references\n", wl->label,
               runs[k - 1].r.refs ? runs[k - 1].r.refs : s->refs);
        bench_report_table(stdout, wl->label, runs, k);
        fflush(stdout);
    }
    if (o.csv) {
        if (bench_report_csv(o.csv, s, runs, nruns)) {
            fprintf(stderr, "vmem bench: %s: %s\n", o.csv, strerror(errno));
            status = 1;
        } else {
            printf("\ncsv: %s\n", o.csv);
        }
    }
    if (o.plot && bench_report_plot(o.plot, s, runs, nruns) == 0)
        printf("plot: %s\n", o.plot);
    free(runs);
    return status;
}

const struct vmem_cmd vmem_cmd_bench = {
    .name = "bench",
    .about = "compare replacement policies live on built-in workloads",
    .main = bench_main,
};
