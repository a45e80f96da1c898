/*
 * fileapi.h -- the Win32 file calls a file mapping needs, implemented by
 * libvmem over Linux files: CreateFileA, GetFileSize, GetFileSizeEx.
 * Names, types and constant values are Windows' (fileapi.h, winnt.h,
 * winbase.h); docs/sections.md says where Linux differs.
 */
#ifndef LIBVMEM_FILEAPI_H
#define LIBVMEM_FILEAPI_H

#include <memoryapi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- access rights (winnt.h) -------------------------------------------- */
#define GENERIC_READ                0x80000000
#define GENERIC_WRITE               0x40000000
#define GENERIC_EXECUTE             0x20000000
#define GENERIC_ALL                 0x10000000

/* ---- share modes (winnt.h): accepted, not enforced (Linux has none) ----- */
#define FILE_SHARE_READ             0x00000001
#define FILE_SHARE_WRITE            0x00000002
#define FILE_SHARE_DELETE           0x00000004

/* ---- creation dispositions (fileapi.h) ---------------------------------- */
#define CREATE_NEW                  1
#define CREATE_ALWAYS               2
#define OPEN_EXISTING               3
#define OPEN_ALWAYS                 4
#define TRUNCATE_EXISTING           5

/* ---- attributes and flags (winnt.h, winbase.h) -------------------------- */
#define FILE_ATTRIBUTE_READONLY     0x00000001
#define FILE_ATTRIBUTE_HIDDEN       0x00000002
#define FILE_ATTRIBUTE_SYSTEM       0x00000004
#define FILE_ATTRIBUTE_ARCHIVE      0x00000020
#define FILE_ATTRIBUTE_NORMAL       0x00000080
#define FILE_ATTRIBUTE_TEMPORARY    0x00000100
#define FILE_FLAG_DELETE_ON_CLOSE   0x04000000
#define FILE_FLAG_SEQUENTIAL_SCAN   0x08000000
#define FILE_FLAG_RANDOM_ACCESS     0x10000000
#define FILE_FLAG_NO_BUFFERING      0x20000000
#define FILE_FLAG_OVERLAPPED        0x40000000
#define FILE_FLAG_WRITE_THROUGH     0x80000000

#define INVALID_FILE_SIZE           ((DWORD)0xFFFFFFFF)

/* Opens or creates the file lpFileName.  dwDesiredAccess: GENERIC_READ,
 * GENERIC_WRITE, both, GENERIC_ALL or 0 (size queries only), with
 * GENERIC_EXECUTE for sections that execute.
 * OPEN_ALWAYS and CREATE_ALWAYS on an existing file succeed with
 * GetLastError() == ERROR_ALREADY_EXISTS; CREATE_NEW on one fails with
 * ERROR_FILE_EXISTS; OPEN_EXISTING and TRUNCATE_EXISTING on a missing one
 * with ERROR_FILE_NOT_FOUND.  INVALID_HANDLE_VALUE on failure.
 * FILE_FLAG_OVERLAPPED and FILE_FLAG_DELETE_ON_CLOSE are refused
 * (ERROR_NOT_SUPPORTED); the other attributes and flags are ignored. */
HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes,
                          DWORD dwCreationDisposition, DWORD dwFlagsAndAttributes,
                          HANDLE hTemplateFile);

/* The file's size: the low 32 bits returned, the high ones in
 * *lpFileSizeHigh (if not NULL).  INVALID_FILE_SIZE with a last error on
 * failure (GetLastError() == NO_ERROR when it is the size's low word). */
DWORD WINAPI GetFileSize(HANDLE hFile, LPDWORD lpFileSizeHigh);
BOOL WINAPI GetFileSizeEx(HANDLE hFile, PLARGE_INTEGER lpFileSize);

#ifdef __cplusplus
}
#endif
#endif /* LIBVMEM_FILEAPI_H */
