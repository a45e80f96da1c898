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
typedef int32_t LONG;
typedef int64_t LONGLONG;
typedef char CHAR;
typedef const CHAR *LPCSTR, *PCSTR;
typedef HANDLE *PHANDLE, *LPHANDLE;

typedef union _LARGE_INTEGER {
    struct {
        DWORD LowPart;
        LONG  HighPart;
    };
    struct {
        DWORD LowPart;
        LONG  HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

/* minwinbase.h: accepted and ignored (Linux has no object security
 * descriptors; handles are never inherited: exec closes them). */
typedef struct _SECURITY_ATTRIBUTES {
    DWORD  nLength;
    LPVOID lpSecurityDescriptor;
    BOOL   bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

/* handleapi.h */
#define INVALID_HANDLE_VALUE        ((HANDLE)(intptr_t)-1)

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

/* ---- CreateFileMapping: section attributes (winnt.h) ------------------- */
#define SEC_FILE                    0x00800000
#define SEC_IMAGE                   0x01000000
#define SEC_PROTECTED_IMAGE         0x02000000
#define SEC_RESERVE                 0x04000000
#define SEC_COMMIT                  0x08000000
#define SEC_NOCACHE                 0x10000000
#define SEC_WRITECOMBINE            0x40000000
#define SEC_LARGE_PAGES             0x80000000
#define SEC_IMAGE_NO_EXECUTE        (SEC_IMAGE | SEC_NOCACHE)

/* ---- section access rights (winnt.h) and MapViewOfFile's (memoryapi.h) -- */
#define STANDARD_RIGHTS_REQUIRED    0x000F0000
#define SECTION_QUERY               0x0001
#define SECTION_MAP_WRITE           0x0002
#define SECTION_MAP_READ            0x0004
#define SECTION_MAP_EXECUTE         0x0008
#define SECTION_EXTEND_SIZE         0x0010
#define SECTION_MAP_EXECUTE_EXPLICIT 0x0020
#define SECTION_ALL_ACCESS          (STANDARD_RIGHTS_REQUIRED | SECTION_QUERY | \
                                     SECTION_MAP_WRITE | SECTION_MAP_READ | \
                                     SECTION_MAP_EXECUTE | SECTION_EXTEND_SIZE)
#define FILE_MAP_COPY               SECTION_QUERY
#define FILE_MAP_WRITE              SECTION_MAP_WRITE
#define FILE_MAP_READ               SECTION_MAP_READ
#define FILE_MAP_ALL_ACCESS         SECTION_ALL_ACCESS
#define FILE_MAP_EXECUTE            SECTION_MAP_EXECUTE_EXPLICIT
#define FILE_MAP_RESERVE            0x80000000
#define FILE_MAP_TARGETS_INVALID    0x40000000
#define FILE_MAP_LARGE_PAGES        0x20000000

/* ---- GetWriteWatch ------------------------------------------------------ */
#define WRITE_WATCH_FLAG_RESET      0x01

/* ---- winerror.h codes used by this API ---------------------------------- */
#define ERROR_SUCCESS               0L
#define NO_ERROR                    0L
#define ERROR_INVALID_FUNCTION      1L
#define ERROR_FILE_NOT_FOUND        2L
#define ERROR_PATH_NOT_FOUND        3L
#define ERROR_TOO_MANY_OPEN_FILES   4L
#define ERROR_ACCESS_DENIED         5L
#define ERROR_INVALID_HANDLE        6L
#define ERROR_NOT_ENOUGH_MEMORY     8L
#define ERROR_OUTOFMEMORY           14L
#define ERROR_WRITE_PROTECT         19L
#define ERROR_BAD_LENGTH            24L
#define ERROR_SHARING_VIOLATION     32L
#define ERROR_NOT_SUPPORTED         50L
#define ERROR_FILE_EXISTS           80L
#define ERROR_INVALID_PARAMETER     87L
#define ERROR_DISK_FULL             112L
#define ERROR_INSUFFICIENT_BUFFER   122L
#define ERROR_INVALID_NAME          123L
#define ERROR_NOT_LOCKED            158L
#define ERROR_ALREADY_EXISTS        183L
#define ERROR_FILENAME_EXCED_RANGE  206L
#define ERROR_INVALID_ADDRESS       487L
#define ERROR_NOACCESS              998L
#define ERROR_INVALID_FLAGS         1004L
#define ERROR_FILE_INVALID          1006L
#define ERROR_IO_DEVICE             1117L
#define ERROR_MAPPED_ALIGNMENT      1132L
#define ERROR_USER_MAPPED_FILE      1224L
#define ERROR_PRIVILEGE_NOT_HELD    1314L
#define ERROR_WORKING_SET_QUOTA     1453L
#define ERROR_COMMITMENT_LIMIT      1455L
#define ERROR_TIMEOUT               1460L

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

/* ---- file mappings (sections) and their views: docs/sections.md ---------- */

/* A section of hFile (its size when both size words are 0), or of the page
 * file (hFile INVALID_HANDLE_VALUE; a size is then required).  flProtect:
 * PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY or an execute form, with
 * SEC_COMMIT (default) or SEC_RESERVE.  A named section is shared with every
 * process that creates or opens the same name ("Local\\" and "Global\\"
 * prefixes accepted); creating an existing name returns it with
 * GetLastError() == ERROR_ALREADY_EXISTS.  NULL on failure. */
HANDLE WINAPI CreateFileMappingA(HANDLE hFile, LPSECURITY_ATTRIBUTES lpAttributes,
                                 DWORD flProtect, DWORD dwMaximumSizeHigh,
                                 DWORD dwMaximumSizeLow, LPCSTR lpName);
/* The named section lpName with dwDesiredAccess (FILE_MAP_*); NULL with
 * ERROR_FILE_NOT_FOUND when there is none. */
HANDLE WINAPI OpenFileMappingA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName);

/* Maps a view of a section: dwDesiredAccess FILE_MAP_READ, FILE_MAP_WRITE,
 * FILE_MAP_ALL_ACCESS or FILE_MAP_COPY (a private copy-on-write view),
 * optionally | FILE_MAP_EXECUTE; the offset a multiple of 65536; 0 bytes
 * maps to the end of the section.  The Ex form maps at lpBaseAddress (a
 * multiple of 65536) or fails with ERROR_INVALID_ADDRESS. */
LPVOID WINAPI MapViewOfFile(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
                            DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
                            SIZE_T dwNumberOfBytesToMap);
LPVOID WINAPI MapViewOfFileEx(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
                              DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
                              SIZE_T dwNumberOfBytesToMap, LPVOID lpBaseAddress);
/* Unmaps the view holding lpBaseAddress. */
BOOL WINAPI UnmapViewOfFile(LPCVOID lpBaseAddress);
/* Writes the view's modified pages of [lpBaseAddress, +dwNumberOfBytesToFlush)
 * (0: to the end of the view) to the file and waits until they are there. */
BOOL WINAPI FlushViewOfFile(LPCVOID lpBaseAddress, SIZE_T dwNumberOfBytesToFlush);

#ifdef __cplusplus
}
#endif

/* Like Windows' memoryapi.h users, Win32 file and handle calls come along. */
#include <fileapi.h>
#include <handleapi.h>

#endif /* LIBVMEM_MEMORYAPI_H */
