/*
 * The warning for a working-set cap above the memory there is
 * (paging/cap_warning.c): one line per process, however often the cap is
 * raised.
 *
 * libvmem's lines go to the stderr the process had when the library was
 * loaded, so the scenario runs in a fresh image of this program (the
 * constructor below, selected by CAP_WARNING_PROBE) started with its
 * stderr on a pipe the test reads.
 */
#include "helpers.h"

#include <inttypes.h>

/* MemTotal of /proc/meminfo in bytes, or 0. */
static uint64_t mem_total(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    unsigned long long kib = 0;
    if (f) {
        if (fscanf(f, "MemTotal: %llu kB", &kib) != 1)
            kib = 0;
        fclose(f);
    }
    return (uint64_t)kib * 1024;
}

/* The probe: caps above the machine's memory, set at start and raised
 * twice, with a lower one in between.  Exits 77 where it cannot page. */
__attribute__((constructor)) static void cap_warning_probe(void)
{
    if (!getenv("CAP_WARNING_PROBE"))
        return;
    uint64_t mem = mem_total();
    if (!mem)
        _exit(3);
    int e = vmem_set_max_resident(2 * mem);
    if (e == ENOTSUP)
        _exit(CHILD_SKIP); /* fault mode kernel, or no UFFDIO_MOVE for VMEM_TRIM=move */
    if (e || vmem_set_max_resident(3 * mem) || vmem_set_max_resident(64 * MIB) ||
        vmem_set_max_resident(4 * mem))
        _exit(2);
    exit(0);
}

Test(cap_warning, printed_once_per_process)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        setenv("CAP_WARNING_PROBE", "1", 1);
        execl("/proc/self/exe", "test_cap_warning", (char *)NULL);
        _exit(4);
    }
    close(p[1]);
    char out[8192];
    read_to_end(p[0], out, sizeof(out));
    int st = child_status(pid);
    if (st == CHILD_SKIP)
        cr_skip_test("this fault mode cannot page: no cap to warn about");
    cr_assert_eq(st, 0, "the probe exited with %d; its stderr:\n%s", st, out);
    unsigned lines = 0;
    for (const char *s = out; (s = strstr(s, "working-set cap")) != NULL; s++)
        lines++;
    cr_assert_eq(lines, 1, "%u warnings for one process; its stderr:\n%s", lines, out);
}
