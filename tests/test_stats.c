/*
 * Counters: demand-zero faults and clustered pages, working set, commit
 * charge and their peaks move as the API and faults say they should.
 */
#include <criterion/criterion.h>
#include <memoryapi.h>
#include <stdint.h>
#include <string.h>
#include <vmem.h>

static struct vmem_stats stats(void)
{
    struct vmem_stats s;
    cr_assert_eq(vmem_get_stats(&s), 0);
    return s;
}

static int mode(void)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    return (int)c.fault_mode;
}

Test(stats, commit_charge_follows_commit_and_decommit)
{
    struct vmem_stats s0 = stats();
    uint8_t *p = VirtualAlloc(NULL, 100 * 4096, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    cr_assert_eq(stats().reserved_pages - s0.reserved_pages, 100);
    cr_assert_eq(stats().commit_charge, s0.commit_charge);
    cr_assert_not_null(VirtualAlloc(p, 40 * 4096, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_eq(stats().commit_charge - s0.commit_charge, 40);
    /* committing committed pages again charges nothing */
    cr_assert_not_null(VirtualAlloc(p, 50 * 4096, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_eq(stats().commit_charge - s0.commit_charge, 50);
    cr_assert(VirtualFree(p + 10 * 4096, 20 * 4096, MEM_DECOMMIT));
    struct vmem_stats s1 = stats();
    cr_assert_eq(s1.commit_charge - s0.commit_charge, 30);
    cr_assert_geq(s1.peak_commit_charge - s0.commit_charge, 50);
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
    cr_assert_eq(stats().commit_charge, s0.commit_charge);
    cr_assert_eq(stats().reserved_pages, s0.reserved_pages);
}

Test(stats, demand_zero_faults_are_clustered)
{
    if (mode() == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: the kernel serves demand-zero faults, "
                     "libvmem does not see them");
    struct vmem_config c;
    vmem_get_config(&c);
    size_t cluster = c.zero_cluster;
    struct vmem_stats s0 = stats();
    volatile uint8_t *p = VirtualAlloc(NULL, 64 * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    p[0] = 1; /* one fault installs a whole aligned cluster */
    struct vmem_stats s1 = stats();
    cr_assert_eq(s1.demand_zero_faults - s0.demand_zero_faults, 1);
    cr_assert_eq(s1.demand_zero_pages - s0.demand_zero_pages, cluster);
    cr_assert_eq(s1.working_set - s0.working_set, cluster);
    for (size_t i = 1; i < cluster; i++)
        p[i * 4096] = 2; /* already there: no fault */
    cr_assert_eq(stats().demand_zero_faults - s0.demand_zero_faults, 1);
    for (size_t i = 0; i < 64; i++)
        p[i * 4096] = 3;
    struct vmem_stats s2 = stats();
    cr_assert_eq(s2.demand_zero_pages - s0.demand_zero_pages, 64, "pages %llu faults %llu",
                 (unsigned long long)(s2.demand_zero_pages - s0.demand_zero_pages),
                 (unsigned long long)(s2.demand_zero_faults - s0.demand_zero_faults));
    cr_assert_eq(s2.demand_zero_faults - s0.demand_zero_faults, (64 + cluster - 1) / cluster);
    cr_assert(VirtualFree((void *)p, 0, MEM_RELEASE));
    cr_assert_eq(stats().working_set, s0.working_set);
    cr_assert_geq(stats().peak_working_set, s0.working_set + 64);
}

Test(stats, cluster_stops_at_protection_change)
{
    if (mode() == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: libvmem does not see demand-zero faults");
    struct vmem_stats s0 = stats();
    volatile uint8_t *p = VirtualAlloc(NULL, 16 * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    DWORD old;
    cr_assert(VirtualProtect((void *)(p + 4 * 4096), 4096, PAGE_READONLY, &old));
    p[0] = 1;
    struct vmem_stats s1 = stats();
    cr_assert_eq(s1.demand_zero_pages - s0.demand_zero_pages, 4,
                 "the cluster should stop at the read-only page");
    cr_assert_eq(p[4 * 4096], 0);
}

#include <psapi.h>

Test(stats, get_process_memory_info)
{
    PROCESS_MEMORY_COUNTERS_EX c;
    memset(&c, 0xCC, sizeof(c));
    cr_assert_not(GetProcessMemoryInfo(GetCurrentProcess(), (PPROCESS_MEMORY_COUNTERS)&c, 8));
    cr_assert_eq(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    cr_assert_not(GetProcessMemoryInfo((HANDLE)42, (PPROCESS_MEMORY_COUNTERS)&c, sizeof(c)));
    cr_assert_eq(GetLastError(), ERROR_INVALID_PARAMETER);

    uint8_t *p = VirtualAlloc(NULL, 64 * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (int i = 0; i < 64; i++)
        p[i * 4096] = 1;
    cr_assert(GetProcessMemoryInfo(GetCurrentProcess(), (PPROCESS_MEMORY_COUNTERS)&c, sizeof(c)));
    struct vmem_stats s = stats();
    cr_assert_eq(c.cb, sizeof(c));
    cr_assert_eq(c.PagefileUsage, s.commit_charge * 4096);
    cr_assert_eq(c.PrivateUsage, c.PagefileUsage);
    cr_assert_geq(c.PagefileUsage, 64 * 4096);
    cr_assert_eq(c.PeakPagefileUsage, s.peak_commit_charge * 4096);
    cr_assert_eq(c.QuotaPagedPoolUsage, 0);
    if (mode() != VMEM_FAULT_KERNEL) {
        cr_assert_geq(c.WorkingSetSize, 64 * 4096);
        cr_assert_geq(c.PageFaultCount, 1);
    }
    /* the plain structure: the extended field is left alone */
    PROCESS_MEMORY_COUNTERS_EX d;
    memset(&d, 0xCC, sizeof(d));
    cr_assert(GetProcessMemoryInfo(GetCurrentProcess(), (PPROCESS_MEMORY_COUNTERS)&d,
                                   sizeof(PROCESS_MEMORY_COUNTERS)));
    cr_assert_eq(d.cb, sizeof(PROCESS_MEMORY_COUNTERS));
    cr_assert_eq(d.PrivateUsage, (SIZE_T)0xCCCCCCCCCCCCCCCCull);
}
