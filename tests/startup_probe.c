/*
 * Helper of test_startup_cost: starts paging with a cap in this fresh
 * process (a forked child of a test runs libvmem in fault mode kernel),
 * does the same small work whatever the cap, and prints its peak RSS.
 *
 *   startup_probe CAP PAGES [LOWER]
 *
 * CAP and LOWER are byte counts.  Commits PAGES pages, writes each, and
 * with LOWER lowers the cap to it, waits until the pages in RAM are within
 * it, and writes and reads every page again.  Prints "ok HWM_KB", or
 * "skip REASON" (exit 77), or "error WHAT" (exit 1).
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memoryapi.h>
#include <vmem.h>

static long hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static uint64_t word(size_t page, unsigned round)
{
    return ((uint64_t)page << 8 | round) * 0x9E3779B97F4A7C15ull;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        printf("error usage: startup_probe CAP PAGES [LOWER]\n");
        return 1;
    }
    uint64_t cap = strtoull(argv[1], NULL, 0);
    size_t pages = strtoull(argv[2], NULL, 0);
    uint64_t lower = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
    struct vmem_config c;
    if (vmem_get_config(&c) != 0) {
        printf("error vmem_get_config\n");
        return 1;
    }
    if (c.fault_mode == VMEM_FAULT_KERNEL) {
        printf("skip fault mode kernel: paging needs userfaultfd\n");
        return 77;
    }
    int e = vmem_set_max_resident(cap);
    if (e == ENOTSUP && c.trim == VMEM_TRIM_MOVE) {
        printf("skip VMEM_TRIM=move: this kernel has no UFFDIO_MOVE\n");
        return 77;
    }
    if (e) {
        printf("error cannot start paging with a cap of %llu bytes: %s\n",
               (unsigned long long)cap, strerror(e));
        return 1;
    }
    uint64_t *p = VirtualAlloc(NULL, pages * 4096, MEM_COMMIT, PAGE_READWRITE);
    if (!p) {
        printf("error VirtualAlloc: %u\n", (unsigned)GetLastError());
        return 1;
    }
    for (size_t i = 0; i < pages; i++)
        p[i * 512] = word(i, 1);
    unsigned round = 1;
    if (lower) {
        if ((e = vmem_set_max_resident(lower)) != 0) {
            printf("error cannot lower the cap: %s\n", strerror(e));
            return 1;
        }
        /* every page again: pages come and go under the lower cap */
        round = 2;
        for (size_t i = 0; i < pages; i++) {
            if (p[i * 512] != word(i, 1)) {
                printf("error page %zu lost before the cap came down\n", i);
                return 1;
            }
            p[i * 512] = word(i, 2);
        }
        /* a page the policy never saw would stay resident: this wait would
         * not end (the suite's timeout reports it) */
        for (;;) {
            struct vmem_stats s;
            if (vmem_get_stats(&s) != 0) {
                printf("error vmem_get_stats\n");
                return 1;
            }
            if (s.working_set + s.standby_pages <= s.cap_pages)
                break;
            sched_yield();
        }
    }
    for (size_t i = 0; i < pages; i++)
        if (p[i * 512] != word(i, round)) {
            printf("error page %zu lost\n", i);
            return 1;
        }
    printf("ok %ld\n", hwm_kb());
    return 0;
}
