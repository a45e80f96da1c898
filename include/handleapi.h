/*
 * handleapi.h -- closing Win32 handles, implemented by libvmem for the
 * handles it gives out (files from CreateFileA, sections from
 * CreateFileMappingA / OpenFileMappingA).  Names and values are Windows'.
 */
#ifndef LIBVMEM_HANDLEAPI_H
#define LIBVMEM_HANDLEAPI_H

#include <memoryapi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Closes a file or section handle.  A section lives on while a view of it
 * is mapped.  FALSE with ERROR_INVALID_HANDLE for a handle that is not
 * open. */
BOOL WINAPI CloseHandle(HANDLE hObject);

#ifdef __cplusplus
}
#endif
#endif /* LIBVMEM_HANDLEAPI_H */
