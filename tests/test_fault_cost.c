/*
 * VMEM_FAULT_COST (paging/fault_cost.c): with it at 1 a paging process
 * prints where its faults' time went at exit, hard faults and their read
 * included; left out it prints nothing; a value other than 0 or 1 is
 * refused with a message naming the variable.
 *
 * libvmem's lines go to the stderr the process had when the library was
 * loaded, so the scenario runs in a fresh image of this program (the
 * constructor below, selected by FAULT_COST_PROBE) started with its stderr
 * on a pipe the test reads.
 */
#include "helpers.h"

#define PROBE_PAGES 1024 /* 4 MiB under a 1 MiB cap: hard faults */

/* The probe: writes pages past the cap and reads them back.  Exits 77
 * where it cannot page, 2 on a wrong byte. */
__attribute__((constructor)) static void fault_cost_probe(void)
{
    if (!getenv("FAULT_COST_PROBE"))
        return;
    int e = vmem_set_max_resident(1 * MIB);
    if (e == ENOTSUP)
        _exit(CHILD_SKIP); /* fault mode kernel, or no UFFDIO_MOVE for VMEM_TRIM=move */
    if (e)
        _exit(3);
    uint8_t *p = VirtualAlloc(NULL, PROBE_PAGES * PG, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (!p)
        _exit(3);
    for (size_t i = 0; i < PROBE_PAGES; i++)
        fill_page(p, i, 7);
    for (size_t i = 0; i < PROBE_PAGES; i++)
        if (!page_intact(p, i, 7))
            _exit(2);
    exit(0);
}

/* Runs the probe with VMEM_FAULT_COST=value (NULL: unset); its stderr in
 * out.  Returns its status. */
static int run_probe(const char *value, char *out, size_t size)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        setenv("FAULT_COST_PROBE", "1", 1);
        if (value)
            setenv("VMEM_FAULT_COST", value, 1);
        else
            unsetenv("VMEM_FAULT_COST");
        execl("/proc/self/exe", "test_fault_cost", (char *)NULL);
        _exit(4);
    }
    close(p[1]);
    read_to_end(p[0], out, size);
    int st = child_status(pid);
    if (st == CHILD_SKIP)
        cr_skip_test("this fault mode cannot page: no fault costs to print");
    return st;
}

/* The count printed on the line of `part` ("fault cost: PART  N x ..."),
 * or 0 without such a line. */
static unsigned long long count_of(const char *out, const char *part)
{
    char key[64];
    snprintf(key, sizeof key, "fault cost: %s ", part);
    const char *s = strstr(out, key);
    return s ? strtoull(s + strlen(key), NULL, 10) : 0;
}

Test(fault_cost, printed_at_exit_when_asked)
{
    static char out[16384];
    int st = run_probe("1", out, sizeof out);
    cr_assert_eq(st, 0, "the probe exited with %d; its stderr:\n%s", st, out);
    cr_assert_gt(count_of(out, "hard"), 0, "no hard faults counted; stderr:\n%s", out);
    /* in thread mode the fault thread may still be finishing the last
     * fault when the program prints them: counts may differ by one */
    unsigned long long reads = count_of(out, "hard: read");
    cr_assert(reads > 0 && reads <= count_of(out, "hard") + 1,
              "a hard fault reads at most once; stderr:\n%s", out);
    cr_assert_gt(count_of(out, "demand-zero"), 0, "stderr:\n%s", out);
}

Test(fault_cost, silent_by_default)
{
    static char out[16384];
    int st = run_probe(NULL, out, sizeof out);
    cr_assert_eq(st, 0, "the probe exited with %d; its stderr:\n%s", st, out);
    cr_assert_null(strstr(out, "fault cost"), "stderr:\n%s", out);
}

Test(fault_cost, bad_value_named)
{
    static char out[16384];
    int st = run_probe("yes", out, sizeof out);
    cr_assert_eq(st, 0, "the probe exited with %d; its stderr:\n%s", st, out);
    cr_assert_not_null(strstr(out, "VMEM_FAULT_COST=yes"), "stderr:\n%s", out);
    cr_assert_null(strstr(out, "fault cost:"), "stderr:\n%s", out);
}
