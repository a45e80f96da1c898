/*
 * psapi.h -- GetProcessMemoryInfo, as Windows' psapi.h declares it, over
 * libvmem's counters: the process's managed memory (what VirtualAlloc
 * committed) is what it counts.
 */
#ifndef LIBVMEM_PSAPI_H
#define LIBVMEM_PSAPI_H

#include <memoryapi.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _PROCESS_MEMORY_COUNTERS {
    DWORD cb;                     /* the structure's size, set by the caller */
    DWORD PageFaultCount;         /* demand-zero, transition and hard faults */
    SIZE_T PeakWorkingSetSize;    /* bytes */
    SIZE_T WorkingSetSize;        /* bytes */
    SIZE_T QuotaPeakPagedPoolUsage;    /* 0: no kernel pools here */
    SIZE_T QuotaPagedPoolUsage;        /* 0 */
    SIZE_T QuotaPeakNonPagedPoolUsage; /* 0 */
    SIZE_T QuotaNonPagedPoolUsage;     /* 0 */
    SIZE_T PagefileUsage;         /* the commit charge, in bytes (as Windows) */
    SIZE_T PeakPagefileUsage;     /* its peak */
} PROCESS_MEMORY_COUNTERS, *PPROCESS_MEMORY_COUNTERS;

typedef struct _PROCESS_MEMORY_COUNTERS_EX {
    DWORD cb;
    DWORD PageFaultCount;
    SIZE_T PeakWorkingSetSize;
    SIZE_T WorkingSetSize;
    SIZE_T QuotaPeakPagedPoolUsage;
    SIZE_T QuotaPagedPoolUsage;
    SIZE_T QuotaPeakNonPagedPoolUsage;
    SIZE_T QuotaNonPagedPoolUsage;
    SIZE_T PagefileUsage;
    SIZE_T PeakPagefileUsage;
    SIZE_T PrivateUsage;          /* the commit charge again */
} PROCESS_MEMORY_COUNTERS_EX, *PPROCESS_MEMORY_COUNTERS_EX;

/* Process must be GetCurrentProcess() (else ERROR_INVALID_PARAMETER); cb
 * the size of either structure (smaller: ERROR_INSUFFICIENT_BUFFER). */
BOOL WINAPI GetProcessMemoryInfo(HANDLE Process, PPROCESS_MEMORY_COUNTERS ppsmemCounters,
                                 DWORD cb);

#ifdef __cplusplus
}
#endif

#endif
