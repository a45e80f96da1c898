/*
 * win32.c -- the Win32 virtual-memory API over the native one.
 *
 * This file holds what is Windows' own: argument rules, address rounding
 * (64 KiB for reservations, 4 KiB for the rest), the per-thread last error,
 * and the mapping of the native errno values to winerror.h codes.
 */
#include "os/cpu.h"
#include "os/vm.h"
#include "core/prot.h"
#include "core/runtime.h"
#include "core/vmem_internal.h"
#include "section/view.h"
#include <memoryapi.h>
#include <psapi.h>
#include <vmem.h>

#include <errno.h>
#include <unistd.h>

static VMEM_TLS DWORD last_error;

VMEM_API DWORD WINAPI GetLastError(void) { return last_error; }
VMEM_API void WINAPI SetLastError(DWORD e) { last_error = e; }

static DWORD win32_error(int err)
{
    switch (err) {
    case 0:       return ERROR_SUCCESS;
    case EINVAL:  return ERROR_INVALID_PARAMETER;
    case EFAULT:  return ERROR_INVALID_ADDRESS;
    case ENOMEM:  return ERROR_NOT_ENOUGH_MEMORY;
    case EACCES:  return ERROR_NOACCESS;
    case ENOLCK:  return ERROR_NOT_LOCKED;
    case EDQUOT:  return ERROR_WORKING_SET_QUOTA;
    case ENOSPC:  return ERROR_COMMITMENT_LIMIT;
    case EPERM:   return ERROR_PRIVILEGE_NOT_HELD;
    case ENOTSUP: return ERROR_NOT_SUPPORTED;
    case EAGAIN:  return STATUS_GUARD_PAGE_VIOLATION; /* VirtualLock lifted a guard */
    default:      return ERROR_NOT_ENOUGH_MEMORY; /* start-up failed */
    }
}

/* Sets the last error from a native result; 1 if it was a failure. */
static int failed(int err)
{
    if (!err)
        return 0;
    last_error = win32_error(err);
    return 1;
}

/* 1 if [a, a + size) does not lie within the user address space: Windows
 * refuses such a range as a bad parameter before looking at it. */
static int beyond_user(const void *a, SIZE_T size)
{
    uintptr_t u = (uintptr_t)a;
    return u > VM_USER_MAX || size > VM_USER_MAX + 1 - u;
}

#define ALLOC_TYPES (MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_RESET_UNDO | MEM_TOP_DOWN | \
                     MEM_WRITE_WATCH | MEM_LARGE_PAGES | MEM_PHYSICAL)

static LPVOID reset(LPVOID addr, SIZE_T size, DWORD type)
{
    if (!addr) {
        last_error = ERROR_INVALID_PARAMETER;
        return NULL;
    }
    int err = type == MEM_RESET ? vmem_reset(addr, size) : vmem_reset_undo(addr, size);
    return failed(err) ? NULL : (LPVOID)round_down((uintptr_t)addr, PAGE_SZ);
}

VMEM_API LPVOID WINAPI VirtualAlloc(LPVOID addr, SIZE_T size, DWORD type, DWORD protect)
{
    /* Windows' order: the type, the protection, the range; only then
     * what is not supported. */
    DWORD resets = type & (MEM_RESET | MEM_RESET_UNDO);
    if ((type & ~(DWORD)ALLOC_TYPES) || !(type & (MEM_COMMIT | MEM_RESERVE | resets)) ||
        (resets && type != MEM_RESET && type != MEM_RESET_UNDO) || /* each goes alone */
        ((type & MEM_WRITE_WATCH) && !(type & MEM_RESERVE)) ||
        ((type & MEM_LARGE_PAGES) && !(type & MEM_COMMIT)) ||
        (!prot_check(protect) && !(addr && type == MEM_COMMIT && view_prot_check(protect))) ||
        beyond_user(addr, size) || size == 0) {
        last_error = ERROR_INVALID_PARAMETER;
        return NULL;
    }
    if (type & (MEM_LARGE_PAGES | MEM_PHYSICAL)) {
        last_error = ERROR_NOT_SUPPORTED; /* see docs/api.md: no large pages, no AWE */
        return NULL;
    }
    if (resets)
        return reset(addr, size, type);

    if (addr && !(type & MEM_RESERVE)) {
        /* commit inside an existing reservation (EACCES: a view of a
         * file, ERROR_ACCESS_DENIED as on Windows) */
        int err = vmem_commit(addr, size, protect);
        if (err == EACCES) {
            last_error = ERROR_ACCESS_DENIED;
            return NULL;
        }
        if (failed(err))
            return NULL;
        return (LPVOID)round_down((uintptr_t)addr, PAGE_SZ);
    }

    /* reserve (and commit): at addr rounded down to the granularity, over
     * every page holding a byte of [addr, addr+size) */
    uintptr_t a = (uintptr_t)addr, base_hint = round_down(a, GRAN_SZ);
    size_t rsize = a ? round_up(a + size, PAGE_SZ) - base_hint : size;
    uint32_t flags = (a ? VMEM_RESERVE_FIXED : 0) |
                     ((type & MEM_TOP_DOWN) ? VMEM_RESERVE_TOP_DOWN : 0) |
                     ((type & MEM_WRITE_WATCH) ? VMEM_RESERVE_WRITE_WATCH : 0);
    void *base;
    if (failed(vmem_reserve((void *)base_hint, rsize, flags, protect, &base)))
        return NULL;
    if (type & MEM_COMMIT) {
        int err = vmem_commit(base, rsize, protect);
        if (err) {
            vmem_release(base);
            failed(err);
            return NULL;
        }
    }
    return base;
}

VMEM_API BOOL WINAPI VirtualFree(LPVOID addr, SIZE_T size, DWORD type)
{
    if (!addr || (type != MEM_RELEASE && type != MEM_DECOMMIT) || beyond_user(addr, size) ||
        (type == MEM_RELEASE && size != 0)) {
        last_error = ERROR_INVALID_PARAMETER;
        return FALSE;
    }
    /* Windows takes the page holding addr: the base is anywhere in the
     * first page. */
    void *page = (void *)round_down((uintptr_t)addr, PAGE_SZ);
    if (type == MEM_RELEASE)
        return !failed(vmem_release(page));
    struct vmem_region_info info;
    int err = vmem_query(page, &info);
    if (size == 0) {
        /* the whole reservation, and only from its base */
        if (!err && (!info.managed || info.allocation_base != page))
            err = EFAULT;
        if (failed(err))
            return FALSE;
        return !failed(vmem_decommit(page, info.allocation_size));
    }
    /* a range running out of its reservation frees nothing: Windows'
     * STATUS_UNABLE_TO_FREE_VM, a bad parameter */
    if (!err && info.managed &&
        round_up((uintptr_t)addr + size, PAGE_SZ) >
            (uintptr_t)info.allocation_base + info.allocation_size) {
        last_error = ERROR_INVALID_PARAMETER;
        return FALSE;
    }
    return !failed(vmem_decommit(addr, size));
}

VMEM_API BOOL WINAPI VirtualProtect(LPVOID addr, SIZE_T size, DWORD protect, PDWORD old)
{
    /* Windows' order: the protection, the old-protection pointer, then the
     * range; the copy-on-write forms are valid on views (MEM_MAPPED) only */
    struct vmem_region_info info;
    int valid = prot_check(protect) ||
                (view_prot_check(protect) && vmem_query(addr, &info) == 0 && info.managed &&
                 info.type == VMEM_TYPE_MAPPED);
    if (!valid) {
        last_error = ERROR_INVALID_PARAMETER;
        return FALSE;
    }
    if (!old) {
        last_error = ERROR_NOACCESS;
        return FALSE;
    }
    if (beyond_user(addr, size) || size == 0) {
        last_error = ERROR_INVALID_PARAMETER;
        return FALSE;
    }
    uint32_t o;
    if (failed(vmem_protect(addr, size, protect, &o)))
        return FALSE;
    *old = o;
    return TRUE;
}

VMEM_API SIZE_T WINAPI VirtualQuery(LPCVOID addr, PMEMORY_BASIC_INFORMATION buf, SIZE_T len)
{
    if (beyond_user(addr, 0)) { /* checked first, as on Windows */
        last_error = ERROR_INVALID_PARAMETER;
        return 0;
    }
    if (!buf) {
        last_error = ERROR_NOACCESS;
        return 0;
    }
    if (len < sizeof(*buf)) {
        last_error = ERROR_BAD_LENGTH;
        return 0;
    }
    struct vmem_region_info info;
    if (failed(vmem_query(addr, &info)))
        return 0;
    static const DWORD states[] = { MEM_FREE, MEM_RESERVE, MEM_COMMIT };
    static const DWORD types[] = { 0, MEM_PRIVATE, MEM_MAPPED, MEM_IMAGE };
    buf->BaseAddress = info.base;
    buf->AllocationBase = info.allocation_base;
    buf->AllocationProtect = info.allocation_protect;
    buf->PartitionId = 0;
    buf->RegionSize = info.size;
    buf->State = states[info.state];
    buf->Protect = info.protect;
    buf->Type = types[info.type];
    return sizeof(*buf);
}

VMEM_API BOOL WINAPI VirtualLock(LPVOID addr, SIZE_T size)
{
    if (beyond_user(addr, size)) {
        last_error = ERROR_INVALID_PARAMETER;
        return FALSE;
    }
    return !failed(vmem_lock(addr, size));
}

VMEM_API BOOL WINAPI VirtualUnlock(LPVOID addr, SIZE_T size)
{
    if (beyond_user(addr, size)) {
        last_error = ERROR_INVALID_PARAMETER;
        return FALSE;
    }
    return !failed(vmem_unlock(addr, size));
}

/* GetWriteWatch and ResetWriteWatch fail with (UINT)-1, as on Windows NT. */
#define WATCH_FAILED ((UINT)~0u)

static UINT watch_fails(DWORD err)
{
    last_error = err;
    return WATCH_FAILED;
}

VMEM_API UINT WINAPI GetWriteWatch(DWORD flags, PVOID base, SIZE_T size, PVOID *addrs,
                                   ULONG_PTR *count, LPDWORD granularity)
{
    /* Windows' order: the pointers it writes through, the count and size,
     * the flags, the array */
    if (!count || !granularity)
        return watch_fails(ERROR_NOACCESS);
    if (*count == 0 || size == 0 || (flags & ~(DWORD)WRITE_WATCH_FLAG_RESET))
        return watch_fails(ERROR_INVALID_PARAMETER);
    if (!addrs)
        return watch_fails(ERROR_NOACCESS);
    size_t n = *count;
    int err = vmem_write_watch(base, size, flags & WRITE_WATCH_FLAG_RESET, addrs, &n);
    if (failed(err))
        return WATCH_FAILED;
    *count = n;
    *granularity = (DWORD)PAGE_SZ;
    return 0;
}

VMEM_API UINT WINAPI ResetWriteWatch(LPVOID base, SIZE_T size)
{
    if (size == 0)
        return watch_fails(ERROR_INVALID_PARAMETER);
    return failed(vmem_write_watch_reset(base, size)) ? WATCH_FAILED : 0;
}

#define CURRENT_PROCESS ((HANDLE)(intptr_t)-1)

VMEM_API HANDLE WINAPI GetCurrentProcess(void)
{
    return CURRENT_PROCESS;
}

VMEM_API BOOL WINAPI SetProcessWorkingSetSizeEx(HANDLE process, SIZE_T min, SIZE_T max,
                                                DWORD flags)
{
    const DWORD known = QUOTA_LIMITS_HARDWS_MIN_ENABLE | QUOTA_LIMITS_HARDWS_MIN_DISABLE |
                        QUOTA_LIMITS_HARDWS_MAX_ENABLE | QUOTA_LIMITS_HARDWS_MAX_DISABLE;
    if (process != CURRENT_PROCESS || (flags & ~known) || min > max) {
        last_error = ERROR_INVALID_PARAMETER;
        return FALSE;
    }
    if (min == (SIZE_T)-1 && max == (SIZE_T)-1)
        return TRUE; /* "trim what you can": the trimmer already keeps the cap */
    return !failed(vmem_set_max_resident(max));
}

VMEM_API BOOL WINAPI SetProcessWorkingSetSize(HANDLE process, SIZE_T min, SIZE_T max)
{
    return SetProcessWorkingSetSizeEx(process, min, max, 0);
}

VMEM_API BOOL WINAPI GetProcessWorkingSetSize(HANDLE process, PSIZE_T min, PSIZE_T max)
{
    struct vmem_stats st;
    if (process != CURRENT_PROCESS || !min || !max) {
        last_error = ERROR_INVALID_PARAMETER;
        return FALSE;
    }
    if (failed(vmem_get_stats(&st)))
        return FALSE;
    *max = st.cap_pages ? st.cap_pages * PAGE_SZ : (SIZE_T)-1;
    *min = 0;
    return TRUE;
}

VMEM_API BOOL WINAPI GetProcessMemoryInfo(HANDLE process, PPROCESS_MEMORY_COUNTERS pmc,
                                          DWORD cb)
{
    struct vmem_stats st;
    if (process != CURRENT_PROCESS || !pmc) {
        last_error = ERROR_INVALID_PARAMETER;
        return FALSE;
    }
    if (cb < sizeof(PROCESS_MEMORY_COUNTERS)) {
        last_error = ERROR_INSUFFICIENT_BUFFER;
        return FALSE;
    }
    if (failed(vmem_get_stats(&st)))
        return FALSE;
    PROCESS_MEMORY_COUNTERS_EX c = {
        .cb = cb < sizeof(c) ? (DWORD)sizeof(PROCESS_MEMORY_COUNTERS) : (DWORD)sizeof(c),
        .PageFaultCount = (DWORD)(st.demand_zero_faults + st.transition_faults + st.hard_faults),
        .PeakWorkingSetSize = st.peak_working_set * PAGE_SZ,
        .WorkingSetSize = st.working_set * PAGE_SZ,
        .PagefileUsage = st.commit_charge * PAGE_SZ,
        .PeakPagefileUsage = st.peak_commit_charge * PAGE_SZ,
        .PrivateUsage = st.commit_charge * PAGE_SZ,
    };
    memcpy(pmc, &c, c.cb);
    return TRUE;
}

VMEM_API void WINAPI GetSystemInfo(LPSYSTEM_INFO si)
{
    long n = os_cpus_online();
    memset(si, 0, sizeof(*si));
    si->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64;
    si->dwPageSize = (DWORD)PAGE_SZ;
    si->lpMinimumApplicationAddress = (LPVOID)(uintptr_t)GRAN_SZ;
    si->lpMaximumApplicationAddress = (LPVOID)VM_USER_MAX;
    si->dwActiveProcessorMask = n >= 64 ? ~(DWORD_PTR)0 : (((DWORD_PTR)1 << n) - 1);
    si->dwNumberOfProcessors = (DWORD)n;
    si->dwProcessorType = PROCESSOR_AMD_X8664;
    si->dwAllocationGranularity = (DWORD)GRAN_SZ;
    si->wProcessorLevel = 6;
}

VMEM_API void WINAPI GetNativeSystemInfo(LPSYSTEM_INFO si)
{
    GetSystemInfo(si);
}
