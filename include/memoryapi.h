/*
 * memoryapi.h -- the Win32 virtual-memory API, implemented by libvmem.
 *
 * Names, types and constant values are Windows' own (winnt.h, minwindef.h,
 * winerror.h, memoryapi.h, sysinfoapi.h), so Windows-style code compiles
 * unchanged against it.  Behaviour follows Microsoft's documentation of each
 * function; where Linux cannot do what Windows does, the call fails with the
 * documented error code and README.md says so.
 *
 * Like <windows.h> (through winnt.h), this header makes the C string
 * functions (memmove, memset, ...) available.
 */
#ifndef LIBVMEM_MEMORYAPI_H
#define LIBVMEM_MEMORYAPI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- minwindef.h / winnt.h / basetsd.h types -------------------------- */
#ifndef WINAPI
#define WINAPI
#endif
#ifndef VOID
#define VOID void
#endif
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

typedef int BOOL;
typedef unsigned char BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;                 /* 32 bits, as on Windows */
typedef unsigned int UINT;
typedef uint32_t ULONG;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef uintptr_t DWORD_PTR, *PDWORD_PTR;
typedef size_t SIZE_T, *PSIZE_T;
typedef void *PVOID, *LPVOID, *HANDLE;
typedef const void *LPCVOID;
typedef DWORD *PDWORD, *LPDWORD;
typedef BOOL *PBOOL, *LPBOOL;

/* ---- VirtualAlloc allocation types (winnt.h) ---------------------------- */
#define MEM_COMMIT                  0x00001000
#define MEM_RESERVE                 0x00002000
#define MEM_REPLACE_PLACEHOLDER     0x00004000
#define MEM_RESERVE_PLACEHOLDER     0x00040000
#define MEM_RESET                   0x00080000
#define MEM_TOP_DOWN                0x00100000
#define MEM_WRITE_WATCH             0x00200000
#define MEM_PHYSICAL                0x00400000
#define MEM_ROTATE                  0x00800000
#define MEM_DIFFERENT_IMAGE_BASE_OK 0x00800000
#define MEM_RESET_UNDO              0x01000000
#define MEM_LARGE_PAGES             0x20000000
#define MEM_4MB_PAGES               0x80000000
#define MEM_64K_PAGES               (MEM_LARGE_PAGES | MEM_PHYSICAL)

/* ---- VirtualFree free types ------------------------------------------- */
#define MEM_COALESCE_PLACEHOLDERS   0x00000001
#define MEM_PRESERVE_PLACEHOLDER    0x00000002
#define MEM_DECOMMIT                0x00004000
#define MEM_RELEASE                 0x00008000

/* ---- MEMORY_BASIC_INFORMATION State and Type --------------------------- */
#define MEM_FREE                    0x00010000
#define MEM_PRIVATE                 0x00020000
#define MEM_MAPPED                  0x00040000
#define MEM_IMAGE                   0x01000000

/* ---- memory protection constants --------------------------------------- */
#define PAGE_NOACCESS               0x01
#define PAGE_READONLY               0x02
#define PAGE_READWRITE              0x04
#define PAGE_WRITECOPY              0x08
#define PAGE_EXECUTE                0x10
#define PAGE_EXECUTE_READ           0x20
#define PAGE_EXECUTE_READWRITE      0x40
#define PAGE_EXECUTE_WRITECOPY      0x80
#define PAGE_GUARD                  0x100
#define PAGE_NOCACHE                0x200
#define PAGE_WRITECOMBINE           0x400
#define PAGE_TARGETS_INVALID        0x40000000
#define PAGE_TARGETS_NO_UPDATE      0x40000000

/* ---- GetWriteWatch ------------------------------------------------------ */
#define WRITE_WATCH_FLAG_RESET      0x01

/* ---- winerror.h codes used by this API ---------------------------------- */
#define ERROR_SUCCESS               0L
#define NO_ERROR                    0L
#define ERROR_INVALID_FUNCTION      1L
#define ERROR_ACCESS_DENIED         5L
#define ERROR_NOT_ENOUGH_MEMORY     8L
#define ERROR_OUTOFMEMORY           14L
#define ERROR_BAD_LENGTH            24L
#define ERROR_INSUFFICIENT_BUFFER   122L
#define ERROR_NOT_SUPPORTED         50L
#define ERROR_INVALID_PARAMETER     87L
#define ERROR_NOT_LOCKED            158L
#define ERROR_INVALID_ADDRESS       487L
#define ERROR_NOACCESS              998L
#define ERROR_INVALID_FLAGS         1004L
#define ERROR_PRIVILEGE_NOT_HELD    1314L
#define ERROR_WORKING_SET_QUOTA     1453L
#define ERROR_COMMITMENT_LIMIT      1455L

/* winnt.h: VirtualLock's last error when it meets a guard page (the guard is
 * lifted; the next call goes on). */
#ifndef STATUS_GUARD_PAGE_VIOLATION
#define STATUS_GUARD_PAGE_VIOLATION ((DWORD)0x80000001L)
#endif

/* ---- structures ---------------------------------------------------------- */
typedef struct _MEMORY_BASIC_INFORMATION {
    PVOID  BaseAddress;
    PVOID  AllocationBase;
    DWORD  AllocationProtect;
    WORD   PartitionId;
    SIZE_T RegionSize;
    DWORD  State;
    DWORD  Protect;
    DWORD  Type;
} MEMORY_BASIC_INFORMATION, *PMEMORY_BASIC_INFORMATION;

#define PROCESSOR_ARCHITECTURE_AMD64 9
#define PROCESSOR_AMD_X8664          8664

typedef struct _SYSTEM_INFO {
    union {
        DWORD dwOemId;
        struct {
            WORD wProcessorArchitecture;
            WORD wReserved;
        };
    };
    DWORD     dwPageSize;
    LPVOID    lpMinimumApplicationAddress;
    LPVOID    lpMaximumApplicationAddress;
    DWORD_PTR dwActiveProcessorMask;
    DWORD     dwNumberOfProcessors;
    DWORD     dwProcessorType;
    DWORD     dwAllocationGranularity;
    WORD      wProcessorLevel;
    WORD      wProcessorRevision;
} SYSTEM_INFO, *LPSYSTEM_INFO;

/* ---- functions ------------------------------------------------------------ */

/* Reserves, commits, resets or un-resets pages.  Returns the base of the
 * affected pages, or NULL with GetLastError() set. */
LPVOID WINAPI VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize,
                           DWORD flAllocationType, DWORD flProtect);

/* Decommits pages (MEM_DECOMMIT) or releases a whole reservation
 * (MEM_RELEASE, dwSize 0, lpAddress the reservation's base). */
BOOL WINAPI VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType);

/* Changes the protection of committed pages; *lpflOldProtect receives the
 * previous protection of the first page. */
BOOL WINAPI VirtualProtect(LPVOID lpAddress, SIZE_T dwSize,
                           DWORD flNewProtect, PDWORD lpflOldProtect);

/* Describes the run of pages, starting at lpAddress's page, that share
 * state, protection and type.  Returns the bytes written, 0 on error. */
SIZE_T WINAPI VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer,
                           SIZE_T dwLength);

/* Makes committed pages resident and keeps them so until VirtualUnlock. */
BOOL WINAPI VirtualLock(LPVOID lpAddress, SIZE_T dwSize);
BOOL WINAPI VirtualUnlock(LPVOID lpAddress, SIZE_T dwSize);

/* Write tracking of regions reserved with MEM_WRITE_WATCH.  Both return 0
 * on success, (UINT)-1 on failure (the reason in GetLastError). */
UINT WINAPI GetWriteWatch(DWORD dwFlags, PVOID lpBaseAddress, SIZE_T dwRegionSize,
                          PVOID *lpAddresses, ULONG_PTR *lpdwCount,
                          LPDWORD lpdwGranularity);
UINT WINAPI ResetWriteWatch(LPVOID lpBaseAddress, SIZE_T dwRegionSize);

/* The working-set cap (libvmem: the resident-memory cap, working set plus
 * standby pages).  hProcess must be GetCurrentProcess().  The minimum is
 * accepted and ignored; (SIZE_T)-1 for both trims as much as possible. */
HANDLE WINAPI GetCurrentProcess(void);
BOOL WINAPI SetProcessWorkingSetSize(HANDLE hProcess, SIZE_T dwMinimumWorkingSetSize,
                                     SIZE_T dwMaximumWorkingSetSize);
BOOL WINAPI SetProcessWorkingSetSizeEx(HANDLE hProcess, SIZE_T dwMinimumWorkingSetSize,
                                       SIZE_T dwMaximumWorkingSetSize, DWORD Flags);
BOOL WINAPI GetProcessWorkingSetSize(HANDLE hProcess, PSIZE_T lpMinimumWorkingSetSize,
                                     PSIZE_T lpMaximumWorkingSetSize);

#define QUOTA_LIMITS_HARDWS_MIN_ENABLE  0x00000001
#define QUOTA_LIMITS_HARDWS_MIN_DISABLE 0x00000002
#define QUOTA_LIMITS_HARDWS_MAX_ENABLE  0x00000004
#define QUOTA_LIMITS_HARDWS_MAX_DISABLE 0x00000008

/* The calling thread's last-error code. */
DWORD WINAPI GetLastError(void);
void WINAPI SetLastError(DWORD dwErrCode);

/* Page size (4096) and allocation granularity (65536), among others. */
void WINAPI GetSystemInfo(LPSYSTEM_INFO lpSystemInfo);
void WINAPI GetNativeSystemInfo(LPSYSTEM_INFO lpSystemInfo);

#ifdef __cplusplus
}
#endif
#endif /* LIBVMEM_MEMORYAPI_H */
