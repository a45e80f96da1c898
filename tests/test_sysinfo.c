/*
 * test_sysinfo.c -- GetSystemInfo's geometry and the per-thread last error.
 */
#include <memoryapi.h>
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdint.h>

static SYSTEM_INFO sysinfo(void)
{
    SYSTEM_INFO si;
    memset(&si, 0xA5, sizeof si); /* every field must be written */
    GetSystemInfo(&si);
    return si;
}

Test(sysinfo, page_size_and_granularity)
{
    SYSTEM_INFO si = sysinfo();
    cr_assert_eq(si.dwPageSize, 4096u);
    cr_assert_eq(si.dwAllocationGranularity, 65536u);
}

Test(sysinfo, processor)
{
    SYSTEM_INFO si = sysinfo();
    cr_assert_eq(si.wProcessorArchitecture, PROCESSOR_ARCHITECTURE_AMD64);
    cr_assert_geq(si.dwNumberOfProcessors, 1u);
    cr_assert_neq(si.dwNumberOfProcessors, 0xA5A5A5A5u);
}

Test(sysinfo, application_address_range)
{
    SYSTEM_INFO si = sysinfo();
    cr_assert_eq((uintptr_t)si.lpMinimumApplicationAddress, (uintptr_t)0x10000);
    cr_assert_eq((uintptr_t)si.lpMaximumApplicationAddress, (uintptr_t)0x7FFFFFFEFFFF);
}

Test(sysinfo, native_matches)
{
    SYSTEM_INFO a = sysinfo(), b;
    memset(&b, 0x5A, sizeof b);
    GetNativeSystemInfo(&b);
    cr_assert_eq(b.dwPageSize, a.dwPageSize);
    cr_assert_eq(b.dwAllocationGranularity, a.dwAllocationGranularity);
    cr_assert_eq(b.wProcessorArchitecture, a.wProcessorArchitecture);
    cr_assert_eq(b.lpMinimumApplicationAddress, a.lpMinimumApplicationAddress);
    cr_assert_eq(b.lpMaximumApplicationAddress, a.lpMaximumApplicationAddress);
}

Test(last_error, set_then_get)
{
    SetLastError(1234);
    cr_assert_eq(GetLastError(), 1234u);
    SetLastError(ERROR_SUCCESS);
    cr_assert_eq(GetLastError(), 0u);
}

Test(last_error, set_by_failing_call)
{
    SetLastError(0);
    cr_assert_null(VirtualAlloc(NULL, 0, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_eq(GetLastError(), (DWORD)ERROR_INVALID_PARAMETER);
}

struct thread_result {
    DWORD seen_after_set;
};

static void *other_thread(void *arg)
{
    struct thread_result *r = arg;
    SetLastError(5678);
    r->seen_after_set = GetLastError();
    return NULL;
}

Test(last_error, per_thread)
{
    SetLastError(1234);
    struct thread_result r = { 0 };
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, other_thread, &r), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_eq(r.seen_after_set, 5678u, "the other thread's own value");
    cr_assert_eq(GetLastError(), 1234u, "this thread's value must be unchanged");
}
