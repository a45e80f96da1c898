/*
 * cmd_bench.c -- `vmem bench`: the replacement policies compared live on
 * built-in workloads.  Each policy runs each workload in a fresh process
 * (this binary again, in the hidden worker mode of bench_worker.c) so that
 * libvmem starts with that policy and nothing left over from another run.
 *
 * With --store M:R, a compressed tier sits between the working set and the
 * page file: the simulator replays each workload's reference string with
 * the cap in frames, alone and with a store of M pages at R pages per
 * frame beside it (so the working set is the same and the store's hits and
 * disk reads add up to the one-tier misses), and the live runs get
 * libvmem's compressed store of ceil(M/R) pages of RAM on top of the cap,
 * with pages written to compress at about R.
 */
#include "vmem_cmd.h"

#include "bench_progress.h"
#include "bench_report.h"
#include "bench_trace.h"
#include "bench_worker.h"
#include "bench_workload.h"
#include "opt.h"
#include "pagefile_arg.h"
#include "sim.h"
#include "sim_plot.h"
#include "policy/policy.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
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
#define MIN_STORE_FRAMES 16 /* VMEM_COMPRESS_MAX's least: 64K */
#define WORDS (VMEM_PAGE_SIZE / 8)

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
            "  --size F             footprint committed and touched (default 32M), 4K to\n"
            "                       64G; sizes in bytes or with a binary unit: 512K, 1.5G\n"
            "  --cap C              VMEM_MAX_RESIDENT (default 8M), 256K to the --size\n"
            "  --refs N             references per workload (default 2 per page)\n"
            "  --store M[:R]        a compressed tier of M pages at R pages per frame\n"
            "                       (default 2, 1 to 64) between the working set and\n"
            "                       the page file, as `vmem sim --store`: columns of\n"
            "                       its misses simulated, and live with VMEM_COMPRESS\n"
            "                       (lz4 unless set) and ceil(M/R) pages of RAM for it\n"
            "                       on top of the cap (default: no store)\n"
            "  --seed S             workload seed (default 1)\n"
            "  --csv FILE           all results as CSV\n"
            "  --plot FILE.png      bar chart of faults per policy (needs gnuplot)\n"
            "  --trace FILE         the reference string in the simulator's text format\n"
            "                       (with several workloads: FILE-WORKLOAD per workload)\n"
            "  -h, --help           this help\n"
            "\n"
            "Counters cover the workload phase (after every page was written once).\n"
            "Latencies (p50/p99/max) are of touches slower than %u ns: faults.  Every\n"
            "touch checks its page's content.  Progress: a bar on a terminal, else a\n"
            "line per run on stderr.  Ctrl-C (SIGINT) stops the runs and prints the\n"
            "results so far.\n"
            "\n"
            "Exit status: 0; 1 if a run failed, found a wrong byte, or an output could\n"
            "not be written; 2 on a bad option or value; 130 when interrupted.\n",
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

enum bench_opt { O_WORKLOAD, O_POLICY, O_PREFETCH, O_PAGEFILE, O_SIZE, O_CAP, O_REFS, O_SEED,
                 O_CSV, O_PLOT, O_TRACE, O_STORE, O_HELP };
static const struct opt_def bench_defs[] = {
    [O_WORKLOAD] = { "workload", 0, OPT_VALUE }, [O_POLICY] = { "policy", 0, OPT_VALUE },
    [O_PREFETCH] = { "prefetch", 0, OPT_VALUE }, [O_PAGEFILE] = { "pagefile", 0, OPT_VALUE },
    [O_SIZE] = { "size", 0, OPT_VALUE },         [O_CAP] = { "cap", 0, OPT_VALUE },
    [O_REFS] = { "refs", 0, OPT_VALUE },         [O_SEED] = { "seed", 0, OPT_VALUE },
    [O_CSV] = { "csv", 0, OPT_VALUE },           [O_PLOT] = { "plot", 0, OPT_VALUE },
    [O_TRACE] = { "trace", 0, OPT_VALUE },       [O_STORE] = { "store", 0, OPT_VALUE },
    [O_HELP] = { "help", 'h', OPT_FLAG },
    { NULL, 0, 0 },
};

static int parse_options(int argc, char **argv, struct bench_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->setup = (struct bench_setup){ DEFAULT_SIZE, DEFAULT_CAP, 0, 1, "none", 0, 2.0 };
    o->pagefile = "/var/tmp";
    struct opt_parser p;
    opt_init(&p, "bench", bench_defs, argc, argv, 0);
    int k;
    while ((k = opt_next(&p)) >= 0) {
        switch (k) {
        case O_WORKLOAD:
            if (add_workloads(o, (char *)p.value))
                return 2;
            break;
        case O_POLICY:
            if (add_policies(o, (char *)p.value))
                return 2;
            break;
        case O_PREFETCH:
            if (!valid_prefetch(p.value)) {
                fprintf(stderr, "vmem bench: bad --prefetch '%s': NAME or NAME:N (N up to "
                                "512), NAME one of", p.value);
                for (size_t i = 0; prefetch_list[i]; i++)
                    fprintf(stderr, " %s", prefetch_list[i]->name);
                fprintf(stderr, "\n");
                return 2;
            }
            o->setup.prefetch = p.value;
            break;
        case O_PAGEFILE: o->pagefile = p.value; break;
        case O_CSV:
            o->csv = p.value;
            if (opt_output(&p, o->csv))
                return 2;
            break;
        case O_PLOT:
            o->plot = p.value;
            if (!sim_have_gnuplot()) {
                fprintf(stderr, "vmem bench: --plot needs gnuplot, not found on PATH (Debian: "
                                "apt-get install gnuplot-nox)\n");
                return 2;
            }
            if (opt_output(&p, o->plot))
                return 2;
            break;
        case O_TRACE: o->trace = p.value; break;
        case O_STORE:
            if (sim_parse_store(p.value, &o->setup.store_pages, &o->setup.store_ratio)) {
                opt_error(&p, "bad --store '%s' (PAGES or PAGES:RATIO, ratio 1..64)", p.value);
                return 2;
            }
            break;
        case O_SIZE:
            if (opt_size(&p, VMEM_PAGE_SIZE, MAX_SIZE, "0 bytes is no footprint",
                         &o->setup.size))
                return 2;
            break;
        case O_CAP:
            if (opt_size(&p, MIN_CAP, MAX_SIZE, "0 is not a cap", &o->setup.cap))
                return 2;
            break;
        case O_REFS:
            if (opt_uint(&p, 1, 1ull << 31, &o->setup.refs))
                return 2;
            break;
        case O_SEED:
            if (opt_uint(&p, 0, UINT64_MAX, &o->setup.seed))
                return 2;
            break;
        case O_HELP:
            usage(stdout);
            return 0;
        }
    }
    if (k == OPT_OPERAND) {
        opt_error(&p, "unexpected argument '%s'", p.value);
        return 2;
    }
    if (k == OPT_ERROR)
        return 2;
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
    if (s->store_pages) {
        /* the live store's RAM: VMEM_COMPRESS_MAX's range, and at most 90%
         * of the cap it is added to */
        size_t frames = sim_store_frames(s->store_pages, s->store_ratio);
        if (frames < MIN_STORE_FRAMES || frames > 9 * (s->cap / VMEM_PAGE_SIZE)) {
            fprintf(stderr, "vmem bench: --store %zu:%g takes %zu frames; from %d (64K, "
                            "libvmem's least store) to 9 x the cap (%" PRIu64 ")\n",
                    s->store_pages, s->store_ratio, frames, MIN_STORE_FRAMES,
                    9 * (s->cap / VMEM_PAGE_SIZE));
            return 2;
        }
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

/* Set by SIGINT: the runs stop, the results so far are printed. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Reads exactly one result from fd; 0 or -1 (-1 too when interrupted: the
 * run is then stopped with SIGINT, as a terminal's Ctrl-C would). */
static int read_result(int fd, pid_t pid, struct bench_result *r)
{
    size_t got = 0;
    while (got < sizeof(*r)) {
        ssize_t n = interrupted ? -1 : read(fd, (char *)r + got, sizeof(*r) - got);
        if (interrupted) {
            kill(pid, SIGINT);
            return -1;
        }
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
    char head_s[24], store_env[24];
    uint64_t store_bytes =
        (uint64_t)sim_store_frames(o->setup.store_pages, o->setup.store_ratio) * VMEM_PAGE_SIZE;
    /* compressible pages: about 1/R of each page differs */
    uint64_t head = o->setup.store_pages
                        ? (uint64_t)((double)WORDS / o->setup.store_ratio + 0.999999) : WORDS;
    snprintf(fd_s, sizeof(fd_s), "%d", fds[1]);
    snprintf(pages_s, sizeof(pages_s), "%" PRIu64, o->setup.size / VMEM_PAGE_SIZE);
    snprintf(cap_s, sizeof(cap_s), "%" PRIu64, o->setup.cap / VMEM_PAGE_SIZE);
    snprintf(refs_s, sizeof(refs_s), "%" PRIu64, o->setup.refs);
    snprintf(seed_s, sizeof(seed_s), "%" PRIu64, o->setup.seed);
    snprintf(cap_env, sizeof(cap_env), "%" PRIu64, o->setup.cap + store_bytes);
    snprintf(store_env, sizeof(store_env), "%" PRIu64, store_bytes);
    snprintf(head_s, sizeof(head_s), "%" PRIu64, head < 1 ? 1 : head);
    snprintf(label, sizeof(label), "%s %s", w->label, policy);
    char *argv[] = { "vmem", "bench", BENCH_WORKER_FLAG, fd_s, (char *)w->label, pages_s, cap_s,
                     refs_s, seed_s, isatty(STDERR_FILENO) ? "1" : "0", label, head_s, NULL };
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
        if (store_bytes) {
            /* the store beside the working set: lz4 unless a codec was chosen */
            const char *c = getenv("VMEM_COMPRESS");
            if (!c || !strcmp(c, "off"))
                setenv("VMEM_COMPRESS", "lz4", 1);
            setenv("VMEM_COMPRESS_MAX", store_env, 1);
        }
        execv("/proc/self/exe", argv);
        fprintf(stderr, "vmem bench: exec /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    int got = read_result(fds[0], pid, r);
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

/* The prefetcher of --prefetch for the simulator (NULL: none). */
static const struct prefetch_ops *sim_prefetcher(const char *spec, unsigned *n)
{
    const struct prefetch_ops *pf = prefetch_find(spec);
    const char *colon = strchr(spec, ':');
    *n = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0; /* checked: 0..512 */
    return pf == prefetch_find("none") ? NULL : pf;
}

/* The store's columns of runs[0..n) (one workload): its reference string,
 * populate pass first as the worker makes it, replayed by the simulator
 * with the cap in frames, alone, then with the store beside them.  Only
 * the misses after the populate pass count (its first touches are
 * demand-zero faults live).  0, or -1 out of memory (those runs then say
 * "-"). */
static int simulate_store(const struct bench_opts *o, const struct bench_workload *w,
                          struct bench_run *runs, size_t n)
{
    const struct bench_setup *s = &o->setup;
    uint64_t pages = s->size / VMEM_PAGE_SIZE, cap = s->cap / VMEM_PAGE_SIZE;
    size_t nrefs;
    struct bench_ref *refs = bench_workload_generate(w, pages, cap, s->refs, s->seed, &nrefs);
    struct trace t = { 0 };
    struct sim_trace st;
    int rc = refs ? 0 : -1;
    for (uint64_t p = 0; p < pages && !rc; p++)
        rc = trace_push(&t, p);
    for (size_t i = 0; i < nrefs && !rc; i++)
        rc = trace_push(&t, refs[i].page);
    free(refs);
    if (!rc)
        rc = sim_prepare(&st, &t);
    trace_free(&t);
    if (rc)
        return -1;
    unsigned pf_n;
    const struct prefetch_ops *pf = sim_prefetcher(s->prefetch, &pf_n);
    size_t frames = sim_store_frames(s->store_pages, s->store_ratio);
    for (size_t i = 0; i < n && !rc; i++) {
        const struct policy_ops *ops = policy_find(runs[i].policy);
        struct sim_result one, two;
        sim_set_store(0, 1);
        rc = sim_run(&st, ops, pf, pf_n, cap, s->seed, &one);
        sim_set_store(s->store_pages, s->store_ratio);
        /* the store's frames on top of the cap: the working set is the same */
        if (!rc)
            rc = sim_run(&st, ops, pf, pf_n, cap + frames, s->seed, &two);
        if (rc)
            break;
        struct bench_sim *m = &runs[i].sim;
        m->misses = one.faults - pages;
        m->store_hits = two.store_hits;
        m->disk = two.faults - pages - two.store_hits;
        m->ok = 1;
    }
    sim_set_store(0, 1);
    sim_trace_free(&st);
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
           "page file in %s, seed %" PRIu64,
           s->size >> 10, s->cap >> 10, s->prefetch, o.pagefile, s->seed);
    if (s->store_pages)
        printf(", store %zu pages at %g per frame (%zu KiB on top of the cap)",
               s->store_pages, s->store_ratio,
               sim_store_frames(s->store_pages, s->store_ratio) * (VMEM_PAGE_SIZE >> 10));
    printf("\n");
    /* Ctrl-C: what has been measured is printed, then status 130.  No
     * SA_RESTART: the read of a run's result returns. */
    struct sigaction sa = { .sa_handler = on_sigint }, old_int;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    /* the worker draws a bar on a terminal; elsewhere a line per run */
    int lines = !isatty(STDERR_FILENO);
    int status = 0;
    size_t k = 0;
    for (size_t w = 0; w < o.nworkloads && !interrupted; w++) {
        const struct bench_workload *wl = &o.workloads[w];
        if (o.trace && save_trace(&o, wl))
            status = 1;
        size_t first = k;
        for (size_t p = 0; p < o.npolicies && !interrupted; p++) {
            runs[k].workload = wl->label;
            runs[k].policy = o.policies[p];
            run_one(&o, wl, o.policies[p], &runs[k].r);
            if (interrupted)
                break; /* this run was cut short: not a result */
            if (lines)
                bench_progress_run(stderr, k + 1, nruns, wl->label, o.policies[p],
                                   runs[k].r.ok ? NULL : runs[k].r.error);
            if (!runs[k].r.ok || runs[k].r.bad_pages)
                status = 1;
            k++;
        }
        if (k == first)
            break;
        if (s->store_pages && simulate_store(&o, wl, runs + first, k - first)) {
            fprintf(stderr, "vmem bench: out of memory simulating %s with the store\n",
                    wl->label);
            status = 1;
        }
        printf("\nworkload %s: %" PRIu64 " references\n", wl->label,
               runs[k - 1].r.refs ? runs[k - 1].r.refs : s->refs);
        bench_report_table(stdout, s, wl->label, runs, k);
        fflush(stdout);
    }
    sigaction(SIGINT, &old_int, NULL);
    if (interrupted) {
        printf("\ninterrupted: %zu of %zu runs done%s\n", k, nruns,
               k ? "; their results are above" : "");
        fflush(stdout);
        nruns = k;
    }
    if (o.csv) {
        if (bench_report_csv(o.csv, s, runs, nruns)) {
            fprintf(stderr, "vmem bench: %s: %s\n", o.csv, strerror(errno));
            status = 1;
        } else {
            printf("\ncsv: %s\n", o.csv);
        }
    }
    if (o.plot && nruns && bench_report_plot(o.plot, s, runs, nruns) == 0)
        printf("plot: %s\n", o.plot);
    free(runs);
    return interrupted ? 130 : status;
}

const struct vmem_cmd vmem_cmd_bench = {
    .name = "bench",
    .about = "compare replacement policies live on built-in workloads",
    .main = bench_main,
};
