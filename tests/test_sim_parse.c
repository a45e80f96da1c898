/*
 * test_sim_parse.c -- trace input: the text and lackey formats (with the
 * line numbers of bad input), format detection, the binary format's round
 * trip, generators, frame-count specs, and the vmem sim command's exit
 * status and CSV.
 */
#include "sim.h"
#include "trace.h"
#include "trace_bin.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int read_string(struct trace *t, const char *text, enum trace_format fmt, char *err,
                       size_t errlen)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    cr_assert_not_null(f);
    int rc = trace_read_stream(t, f, "trace.txt", fmt, err, errlen);
    fclose(f);
    return rc;
}

Test(text, numbers_prefixes_comments)
{
    struct trace t = {0};
    char err[256] = "";
    int rc = read_string(&t,
                         "# a comment\n"
                         "12\n"
                         "\n"
                         "0x1f\n"
                         "R 7\r\n"
                         "W 0XFF\n"
                         "   42   \n"
                         "\t# indented comment\n"
                         "18446744073709551614\n",
                         TRACE_TEXT, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    uint64_t want[] = {12, 31, 7, 255, 42, 18446744073709551614ull};
    cr_assert_eq(t.n, 6);
    cr_assert_arr_eq(t.page, want, sizeof want);
    trace_free(&t);
}

Test(text, bad_line_is_named_by_number)
{
    struct trace t = {0};
    char err[256] = "";
    cr_assert_eq(read_string(&t, "1\n2\n\n# x\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\nxyz\n15\n",
                             TRACE_AUTO, err, sizeof err),
                 -1);
    cr_assert_str_eq(err, "trace.txt:17: not a page number: 'xyz'");
    trace_free(&t);

    static const char *const bad[] = {
        "1\n-5\n",            "1\n0x\n",        "1\n12abc\n",
        "1\n1 2\n",           "1\nX 5\n",       "1\n99999999999999999999999\n",
        "1\n0xfffffffffffffffff\n", "1\nR\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct trace u = {0};
        err[0] = 0;
        cr_expect_eq(read_string(&u, bad[i], TRACE_TEXT, err, sizeof err), -1, "'%s'", bad[i]);
        cr_expect(!strncmp(err, "trace.txt:2: ", 13), "'%s' gave '%s'", bad[i], err);
        trace_free(&u);
    }
}

Test(lackey, records_fold_to_pages)
{
    struct trace t = {0};
    char err[256] = "";
    const char *log = "==1234== Lackey, an example Valgrind tool\n"
                      "==1234== Command: ./a.out\n"
                      "I  04222cb8,4\n"
                      " L 04222cb8,4\n"
                      " S 7ff000ffe,4\n" /* straddles two pages */
                      " M 0000beef,8\n"
                      "==1234== \n";
    cr_assert_eq(read_string(&t, log, TRACE_AUTO, err, sizeof err), 0, "%s", err);
    uint64_t want[] = {0x4222, 0x4222, 0x7ff000, 0x7ff001, 0xb};
    cr_assert_eq(t.n, 5);
    cr_assert_arr_eq(t.page, want, sizeof want);
    trace_free(&t);

    uint64_t pages[2];
    int n;
    char why[128];
    cr_assert_eq(trace_lackey_line("I  04222cb8,4", 1, pages, &n, why, sizeof why), 0);
    cr_assert_eq(n, 0, "--data-only drops instruction fetches");
    cr_assert_eq(trace_lackey_line(" X 1234,4", 0, pages, &n, why, sizeof why), -1);
    cr_assert_eq(trace_lackey_line(" L 1234", 0, pages, &n, why, sizeof why), -1);
    cr_assert_eq(trace_lackey_line(" L zz,4", 0, pages, &n, why, sizeof why), -1);
    cr_assert_eq(trace_lackey_line(" L 1234,0", 0, pages, &n, why, sizeof why), -1);

    cr_assert_eq(read_string(&t, "==1== x\n L 1000,4\ngarbage\n", TRACE_AUTO, err, sizeof err),
                 -1);
    cr_assert_str_eq(err, "trace.txt:3: not a lackey record: 'garbage'");
    trace_free(&t);
}

static char *temp_path(void)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/vmem-test-trace-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    return path;
}

Test(binary, round_trip)
{
    struct trace t = {0};
    uint64_t s = 11;
    uint64_t fixed[] = {0, 1, 2, 0, UINT64_MAX, 0, 0x7fffffffffffull, 5, 5, 4};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        trace_push(&t, fixed[i]);
    for (int i = 0; i < 100000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t v = (s >> 7) & ((1ull << ((s >> 58) % 64)) - 1);
        trace_push(&t, i % 3 ? t.page[t.n - 1] + (s >> 62) : v);
    }
    char *path = temp_path();
    cr_assert_eq(trace_write_file(&t, path), 0);
    struct trace u = {0};
    char err[256] = "";
    cr_assert_eq(trace_load(&u, path, TRACE_AUTO, err, sizeof err), 0, "%s", err);
    cr_assert_eq(u.n, t.n);
    cr_assert_arr_eq(u.page, t.page, t.n * sizeof *t.page);
    trace_free(&u);

    /* cut the last record short */
    FILE *f = fopen(path, "r+");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    f = fopen(path, "ab");
    fputc(0x80, f);
    fclose(f);
    cr_assert_eq(trace_load(&u, path, TRACE_BIN, err, sizeof err), -1);
    cr_assert(strstr(err, "truncated"), "%s", err);
    trace_free(&u);
    cr_assert_eq(truncate(path, 3), 0);
    cr_assert_eq(trace_load(&u, path, TRACE_BIN, err, sizeof err), -1);
    cr_assert(strstr(err, "bad magic"), "%s", err);
    (void)size;
    unlink(path);
    trace_free(&u);
    trace_free(&t);
}

Test(binary, small_deltas_take_one_byte)
{
    struct trace t = {0};
    for (uint64_t p = 0x7f0000; p < 0x7f0000 + 1000; p++)
        trace_push(&t, p);
    char *path = temp_path();
    cr_assert_eq(trace_write_file(&t, path), 0);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    /* magic, the first page's 4-byte varint, then one byte a reference */
    cr_assert_eq(size, TRACE_BIN_MAGIC_LEN + 4 + 999);
    unlink(path);
    trace_free(&t);
}

Test(generators, shapes_and_errors)
{
    struct trace t = {0};
    char err[256];
    cr_assert_eq(trace_generate(&t, "seq:5", err, sizeof err), 0);
    uint64_t seq[] = {0, 1, 2, 3, 4};
    cr_assert_arr_eq(t.page, seq, sizeof seq);
    trace_free(&t);
    cr_assert_eq(trace_generate(&t, "loop:3:7", err, sizeof err), 0);
    uint64_t loop[] = {0, 1, 2, 0, 1, 2, 0};
    cr_assert_eq(t.n, 7);
    cr_assert_arr_eq(t.page, loop, sizeof loop);
    trace_free(&t);

    struct trace a = {0}, b = {0};
    cr_assert_eq(trace_generate(&a, "zipf:0.99:1000:20000:5", err, sizeof err), 0);
    cr_assert_eq(trace_generate(&b, "zipf:0.99:1000:20000:5", err, sizeof err), 0);
    cr_assert_arr_eq(a.page, b.page, a.n * sizeof *a.page);
    size_t count[1000] = {0};
    for (size_t i = 0; i < a.n; i++) {
        cr_assert_lt(a.page[i], 1000);
        count[a.page[i]]++;
    }
    size_t max = 0;
    for (int i = 0; i < 1000; i++)
        max = count[i] > max ? count[i] : max;
    /* the hottest page gets about 1/H(1000, 0.99) ~ 13% of references */
    cr_assert(max > 20000 / 12 && max < 20000 / 5, "hottest page: %zu", max);
    trace_free(&a);
    trace_free(&b);

    cr_assert_eq(trace_generate(&t, "uniform:10:100", err, sizeof err), 0);
    cr_assert_eq(t.n, 100);
    trace_free(&t);
    static const char *const bad[] = {"zipf:x:10:10", "zipf:0.9:0:10", "uniform:10",
                                      "seq:", "loop:0:5", "bogus:1", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(trace_generate(&t, bad[i], err, sizeof err), -1, "'%s'", bad[i]);
    trace_free(&t);
}

Test(frames, specs)
{
    size_t *v;
    char err[256];
    size_t n = sim_parse_frames("300,100,200,100", 0, &v, err, sizeof err);
    cr_assert_eq(n, 3);
    cr_assert(v[0] == 100 && v[1] == 200 && v[2] == 300);
    free(v);
    n = sim_parse_frames("64:4096:64", 0, &v, err, sizeof err);
    cr_assert_eq(n, 64);
    cr_assert(v[0] == 64 && v[63] == 4096);
    free(v);
    n = sim_parse_frames("auto", 1000, &v, err, sizeof err);
    cr_assert_eq(n, 20);
    cr_assert(v[0] == 50 && v[19] == 1000);
    free(v);
    static const char *const bad[] = {"0", "a", "1,,2", "10:5:1", "1:10:0", "1:10", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(sim_parse_frames(bad[i], 10, &v, err, sizeof err), 0, "'%s'", bad[i]);
}

/* Sparse (virtual-address) pages: ranks keep the order, so neighbours in
 * the trace stay neighbours. */
Test(prepare, sparse_pages_are_ranked_in_order)
{
    struct trace t = {0};
    uint64_t pages[] = {0x7fff0001, 0x400000, 0x7fff0000, 0x400000, 0x7fff0001};
    for (int i = 0; i < 5; i++)
        trace_push(&t, pages[i]);
    struct sim_trace st;
    cr_assert_eq(sim_prepare(&st, &t), 0);
    cr_assert_eq(st.distinct, 3);
    cr_assert_eq(st.universe, 3);
    uint32_t want[] = {2, 0, 1, 0, 2};
    cr_assert_arr_eq(st.ref, want, sizeof want);
    cr_assert_not_null(st.orig);
    cr_assert_eq(st.orig[1], 0x7fff0000);
    sim_trace_free(&st);
    trace_free(&t);

    /* the largest page number too (the page map's own marker) */
    uint64_t edge[] = {UINT64_MAX, 0, 1ull << 63, 0, UINT64_MAX};
    for (int i = 0; i < 5; i++)
        trace_push(&t, edge[i]);
    cr_assert_eq(sim_prepare(&st, &t), 0);
    cr_assert_eq(st.distinct, 3);
    uint32_t want_edge[] = {2, 0, 1, 0, 2};
    cr_assert_arr_eq(st.ref, want_edge, sizeof want_edge);
    sim_trace_free(&st);
    trace_free(&t);
}

/* the command itself: runs build/tools/vmem (VMEM_TOOL).  OPT on a loop
 * of 5 pages: (5 - k) misses every 4 references after the first k. */
static int run_tool(const char *args, char *out, size_t outlen)
{
    const char *tool = getenv("VMEM_TOOL");
    cr_assert_not_null(tool, "VMEM_TOOL not set (run through meson test)");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", tool, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(command, bad_input_exits_2_naming_the_line)
{
    char *path = temp_path();
    FILE *f = fopen(path, "w");
    fprintf(f, "1\n2\n3\noops\n");
    fclose(f);
    char args[256], out[4096];
    snprintf(args, sizeof args, "sim --frames 2 %s", path);
    cr_assert_eq(run_tool(args, out, sizeof out), 2);
    char want[256];
    snprintf(want, sizeof want, "%s:4: not a page number: 'oops'", path);
    cr_assert(strstr(out, want), "output: %s", out);
    unlink(path);
    cr_assert_eq(run_tool("sim --frames 2 /nonexistent/trace", out, sizeof out), 2);
    cr_assert_eq(run_tool("sim --policy nope --gen seq:5", out, sizeof out), 2);
    cr_assert_eq(run_tool("sim --frames 0 --gen seq:5", out, sizeof out), 2);
}

Test(command, csv_has_one_header_and_a_line_per_run)
{
    char out[4096];
    cr_assert_eq(run_tool("sim --csv --policy fifo,opt --frames 3,4 --gen loop:5:50", out,
                          sizeof out),
                 0);
    cr_assert_str_eq(out, "policy,frames,refs,faults\n"
                          "fifo,3,50,50\n"
                          "fifo,4,50,50\n"
                          "opt,3,50,27\n"
                          "opt,4,50,16\n");
}

Test(command, trace_records_a_program_under_valgrind)
{
    if (system("command -v valgrind >/dev/null 2>&1") != 0)
        cr_skip_test("valgrind not installed");
    char *path = temp_path();
    char args[256], out[4096];
    /* temp_path created the file: overwriting it takes --force */
    snprintf(args, sizeof args, "trace --force -o %s -- /bin/true", path);
    cr_assert_eq(run_tool(args, out, sizeof out), 0, "%s", out);
    struct trace t = {0};
    char err[256] = "";
    cr_assert_eq(trace_load(&t, path, TRACE_BIN, err, sizeof err), 0, "%s", err);
    /* even /bin/true runs the dynamic loader: thousands of references */
    cr_assert_gt(t.n, 1000, "%zu references", t.n);
    trace_free(&t);
    unlink(path);

    /* without valgrind on PATH: a clear message and status 125 (vmem
     * trace's own failure, apart from CMD's statuses) */
    const char *tool = getenv("VMEM_TOOL");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "PATH=/nonexistent %s trace -- /bin/true 2>&1", tool);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int status = pclose(p);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 125);
    cr_assert(strstr(out, "valgrind not found"), "%s", out);
}
