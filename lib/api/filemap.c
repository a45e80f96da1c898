/*
 * filemap.c -- the Win32 calls of files, sections and handles: CreateFileA,
 * GetFileSize(Ex), CreateFileMappingA, OpenFileMappingA, MapViewOfFile(Ex),
 * UnmapViewOfFile, FlushViewOfFile and CloseHandle, over section/.
 *
 * This file holds what is Windows' own: argument rules, access checks and
 * the error codes, which follow Windows (and Wine's tests of it):
 * docs/sections.md lists them.
 */
#include "api/init.h"
#include "core/prot.h"
#include "core/vmem_internal.h"
#include "os/file.h"
#include "os/fileopen.h"
#include "section/handle.h"
#include "section/section.h"
#include "section/view.h"
#include <fileapi.h>
#include <handleapi.h>
#include <memoryapi.h>

#include <errno.h>

/* Sets the last error; returns NULL, for the calls that fail with it. */
static void *fail(DWORD err)
{
    SetLastError(err);
    return NULL;
}

/* errno of a file or section call -> winerror.h. */
static DWORD file_error(int err)
{
    switch (err) {
    case 0:            return ERROR_SUCCESS;
    case ENOENT:       return ERROR_FILE_NOT_FOUND;
    case ENOTDIR:      return ERROR_PATH_NOT_FOUND;
    case EEXIST:       return ERROR_FILE_EXISTS;
    case EACCES:
    case EPERM:
    case EISDIR:
    case ETXTBSY:      return ERROR_ACCESS_DENIED;
    case EROFS:        return ERROR_WRITE_PROTECT;
    case EMFILE:
    case ENFILE:       return ERROR_TOO_MANY_OPEN_FILES;
    case ENAMETOOLONG: return ERROR_FILENAME_EXCED_RANGE;
    case ENOSPC:
    case EFBIG:
    case EDQUOT:       return ERROR_DISK_FULL;
    case EINVAL:       return ERROR_INVALID_PARAMETER;
    case EBADF:        return ERROR_INVALID_HANDLE;
    case EIO:          return ERROR_IO_DEVICE;
    case ETIMEDOUT:    return ERROR_TIMEOUT; /* the names' registry lock */
    case SECTION_E_SIZE_ZERO:
    case SECTION_E_SLOT_CHANGED: return ERROR_FILE_INVALID;
    case SECTION_E_TOO_BIG:   return ERROR_NOT_ENOUGH_MEMORY; /* STATUS_SECTION_TOO_BIG */
    default:           return ERROR_NOT_ENOUGH_MEMORY;
    }
}

/* ---- files ------------------------------------------------------------------ */

#define FILE_R 0x1u
#define FILE_W 0x2u
#define FILE_X 0x4u /* GENERIC_EXECUTE: the file's sections may execute */

/* A file this process has a view of is not truncated (Windows:
 * ERROR_USER_MAPPED_FILE); views in other processes are not seen
 * (docs/sections.md). */
static int mapped_here(const char *path)
{
    uint64_t id = os_path_id(path);
    return id && section_file_mapped(id);
}

VMEM_API HANDLE WINAPI CreateFileA(LPCSTR name, DWORD access, DWORD share,
                                   LPSECURITY_ATTRIBUTES sa, DWORD disposition, DWORD flags,
                                   HANDLE template_file)
{
    (void)sa;
    (void)template_file;
    if (!name || (share & ~(DWORD)(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE))) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return INVALID_HANDLE_VALUE;
    }
    if (!*name) {
        SetLastError(ERROR_PATH_NOT_FOUND);
        return INVALID_HANDLE_VALUE;
    }
    if (flags & (FILE_FLAG_OVERLAPPED | FILE_FLAG_DELETE_ON_CLOSE)) {
        SetLastError(ERROR_NOT_SUPPORTED); /* docs/sections.md */
        return INVALID_HANDLE_VALUE;
    }
    unsigned rw = ((access & (GENERIC_READ | GENERIC_ALL)) ? FILE_R : 0) |
                  ((access & (GENERIC_WRITE | GENERIC_ALL)) ? FILE_W : 0);
    unsigned x = (access & (GENERIC_EXECUTE | GENERIC_ALL)) ? FILE_X : 0;
    unsigned of = (rw & FILE_R ? OS_OPEN_READ : 0) | (rw & FILE_W ? OS_OPEN_WRITE : 0);
    int fd = -1, existed = 0, err;
    switch (disposition) {
    case CREATE_NEW:
        /* with no access asked, a file made still needs a real descriptor */
        err = os_file_open_path(name, (of ? of : OS_OPEN_READ) | OS_OPEN_CREATE | OS_OPEN_EXCL,
                                &fd);
        break;
    case CREATE_ALWAYS:
    case OPEN_ALWAYS:
        for (;;) {
            err = os_file_open_path(name, (of ? of : OS_OPEN_READ) | OS_OPEN_CREATE |
                                    OS_OPEN_EXCL, &fd);
            if (err != EEXIST)
                break;
            existed = 1;
            if (disposition == CREATE_ALWAYS && mapped_here(name)) {
                SetLastError(ERROR_USER_MAPPED_FILE);
                return INVALID_HANDLE_VALUE;
            }
            err = os_file_open_path(name, of | (disposition == CREATE_ALWAYS
                                                ? OS_OPEN_TRUNC : 0), &fd);
            if (err != ENOENT) /* removed in between: create it after all */
                break;
            existed = 0;
        }
        break;
    case OPEN_EXISTING:
        err = os_file_open_path(name, of, &fd);
        break;
    case TRUNCATE_EXISTING:
        if (!(rw & FILE_W)) {
            SetLastError(ERROR_INVALID_PARAMETER); /* Windows needs GENERIC_WRITE */
            return INVALID_HANDLE_VALUE;
        }
        if (mapped_here(name)) {
            SetLastError(ERROR_USER_MAPPED_FILE);
            return INVALID_HANDLE_VALUE;
        }
        err = os_file_open_path(name, of | OS_OPEN_TRUNC, &fd);
        break;
    default:
        SetLastError(ERROR_INVALID_PARAMETER);
        return INVALID_HANDLE_VALUE;
    }
    if (err) {
        /* creating, a missing name is a missing directory */
        int creating = disposition != OPEN_EXISTING && disposition != TRUNCATE_EXISTING;
        SetLastError(err == ENOENT && creating ? ERROR_PATH_NOT_FOUND : file_error(err));
        return INVALID_HANDLE_VALUE;
    }
    struct handle_obj obj = { .kind = HANDLE_FILE, .access = rw | x, .fd = fd };
    uintptr_t h;
    if ((err = handle_add(&obj, &h)) != 0) {
        os_file_close(fd);
        SetLastError(file_error(err));
        return INVALID_HANDLE_VALUE;
    }
    SetLastError(existed ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
    return (HANDLE)h;
}

static int file_size(HANDLE file, uint64_t *size)
{
    struct handle_obj obj;
    int err = handle_get((uintptr_t)file, HANDLE_FILE, &obj);
    return err ? err : os_file_size(obj.fd, size);
}

VMEM_API DWORD WINAPI GetFileSize(HANDLE file, LPDWORD high)
{
    uint64_t size;
    int err = file_size(file, &size);
    if (err) {
        SetLastError(file_error(err));
        return INVALID_FILE_SIZE;
    }
    if (high)
        *high = (DWORD)(size >> 32);
    SetLastError(ERROR_SUCCESS); /* tells a size of 0xFFFFFFFF from a failure */
    return (DWORD)size;
}

VMEM_API BOOL WINAPI GetFileSizeEx(HANDLE file, PLARGE_INTEGER size)
{
    uint64_t s;
    int err = file_size(file, &s);
    if (err) {
        SetLastError(file_error(err));
        return FALSE;
    }
    if (!size) {
        SetLastError(ERROR_NOACCESS);
        return FALSE;
    }
    size->QuadPart = (LONGLONG)s;
    return TRUE;
}

VMEM_API BOOL WINAPI CloseHandle(HANDLE h)
{
    if (h == INVALID_HANDLE_VALUE)
        return TRUE; /* GetCurrentProcess()'s pseudo-handle: closing it does nothing */
    struct handle_obj obj;
    if (handle_remove((uintptr_t)h, &obj) != 0) {
        SetLastError(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    if (obj.kind == HANDLE_FILE)
        os_file_close(obj.fd);
    else
        section_handle_put(obj.sec);
    return TRUE;
}

/* ---- sections --------------------------------------------------------------- */

/* The section protections Windows accepts. */
static int section_prot_ok(DWORD base)
{
    return base == PAGE_READONLY || base == PAGE_READWRITE || base == PAGE_WRITECOPY ||
           base == PAGE_EXECUTE_READ || base == PAGE_EXECUTE_READWRITE ||
           base == PAGE_EXECUTE_WRITECOPY;
}

static HANDLE section_handle(struct section *s, DWORD access, int existed)
{
    struct handle_obj obj = { .kind = HANDLE_SECTION, .access = access, .sec = s };
    uintptr_t h;
    int err = handle_add(&obj, &h);
    if (err) {
        section_handle_put(s);
        return fail(file_error(err));
    }
    SetLastError(existed ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
    return (HANDLE)h;
}

VMEM_API HANDLE WINAPI CreateFileMappingA(HANDLE file, LPSECURITY_ATTRIBUTES sa, DWORD protect,
                                          DWORD size_high, DWORD size_low, LPCSTR name)
{
    (void)sa;
    /* The runtime starts now, not at the first view: its own mappings
     * must not take an address the caller frees to map a view there. */
    if (runtime_ensure() != 0)
        return fail(ERROR_NOT_ENOUGH_MEMORY);
    DWORD base = protect & 0xFFu, attrs = protect & ~(DWORD)0xFFu;
    if (attrs & (SEC_IMAGE | SEC_PROTECTED_IMAGE | SEC_LARGE_PAGES))
        return fail(ERROR_NOT_SUPPORTED); /* docs/sections.md: no images, no large pages */
    if (!section_prot_ok(base) ||
        (attrs & ~(DWORD)(SEC_COMMIT | SEC_RESERVE | SEC_NOCACHE | SEC_WRITECOMBINE)) ||
        (attrs & SEC_COMMIT && attrs & SEC_RESERVE))
        return fail(ERROR_INVALID_PARAMETER);
    struct section_req req = {
        .file_fd = -1,
        .size = ((uint64_t)size_high << 32) | size_low,
        .protect = base,
        .reserve = (attrs & SEC_RESERVE) != 0,
        .name = name && *name ? name : NULL,
    };
    struct handle_obj fobj = { 0 };
    if (file != INVALID_HANDLE_VALUE) {
        if (handle_get((uintptr_t)file, HANDLE_FILE, &fobj) != 0)
            return fail(ERROR_INVALID_HANDLE);
        req.file_fd = fobj.fd;
        req.file_read = (fobj.access & FILE_R) != 0;
        req.file_write = (fobj.access & FILE_W) != 0;
        req.file_exec = (fobj.access & FILE_X) != 0;
        req.reserve = 0; /* SEC_RESERVE is for page-file sections only */
    } else if (req.size == 0) {
        return fail(ERROR_INVALID_PARAMETER); /* the page file has no size to take */
    }
    struct section *s;
    int existed, err = section_create(&req, &s, &existed);
    if (err)
        return fail(err == EINVAL && req.name ? ERROR_INVALID_NAME : file_error(err));
    return section_handle(s, SECTION_ALL_ACCESS | SECTION_MAP_EXECUTE_EXPLICIT, existed);
}

VMEM_API HANDLE WINAPI OpenFileMappingA(DWORD access, BOOL inherit, LPCSTR name)
{
    (void)inherit; /* exec closes every descriptor: nothing is inherited */
    if (!name)
        return fail(ERROR_INVALID_PARAMETER);
    if (runtime_ensure() != 0) /* now, as in CreateFileMappingA */
        return fail(ERROR_NOT_ENOUGH_MEMORY);
    struct section *s;
    int err = section_open(name, &s);
    if (err)
        return fail(file_error(err));
    return section_handle(s, access, 0);
}

/* ---- views ------------------------------------------------------------------- */

VMEM_API LPVOID WINAPI MapViewOfFileEx(HANDLE mapping, DWORD access, DWORD off_high,
                                       DWORD off_low, SIZE_T size, LPVOID at)
{
    if (access & FILE_MAP_LARGE_PAGES)
        return fail(ERROR_NOT_SUPPORTED);
    uint64_t offset = ((uint64_t)off_high << 32) | off_low;
    if (offset % GRAN_SZ || (uintptr_t)at % GRAN_SZ)
        return fail(ERROR_MAPPED_ALIGNMENT);
    struct handle_obj obj;
    if (handle_get((uintptr_t)mapping, HANDLE_SECTION, &obj) != 0)
        return fail(ERROR_INVALID_HANDLE);
    struct section *s = obj.sec; /* handle_get took a reference: the view's, or dropped */
    /* the view's protection, as Windows derives it from the access:
     * copy-on-write only for FILE_MAP_COPY alone (with FILE_MAP_EXECUTE or
     * not), and execute only with FILE_MAP_EXECUTE on a view that reads */
    DWORD prot, need = SECTION_MAP_READ;
    int copy = 0;
    if ((access & ~(DWORD)FILE_MAP_EXECUTE) == FILE_MAP_COPY) {
        prot = PAGE_WRITECOPY;
        copy = 1;
    } else if (access & FILE_MAP_WRITE) {
        prot = PAGE_READWRITE;
        need = SECTION_MAP_WRITE;
    } else if (access & FILE_MAP_READ) {
        prot = PAGE_READONLY;
    } else {
        prot = PAGE_NOACCESS;
    }
    int exec = (access & FILE_MAP_EXECUTE) && prot != PAGE_NOACCESS;
    if (exec)
        prot <<= 4; /* PAGE_EXECUTE_WRITECOPY, _READWRITE, _READ */
    DWORD err = ERROR_SUCCESS;
    if ((obj.access & need) != need ||
        (exec && !(obj.access & (SECTION_MAP_EXECUTE | SECTION_MAP_EXECUTE_EXPLICIT))))
        err = ERROR_ACCESS_DENIED; /* the handle's access */
    else if (prot_is_writable(prot) && !prot_is_writable(s->protect))
        err = ERROR_ACCESS_DENIED; /* the section's protection: Windows lets any
                                      section have execute views, */
    else if (exec && s->no_exec)
        err = ERROR_ACCESS_DENIED; /* but a file only if opened for execute */
    else if (offset >= s->size || (size && (size > s->size - offset)))
        err = ERROR_ACCESS_DENIED; /* STATUS_INVALID_VIEW_SIZE */
    else if (runtime_ensure() != 0)
        err = ERROR_NOT_ENOUGH_MEMORY;
    if (!err) {
        if (!size)
            size = (SIZE_T)(s->size - offset);
        uintptr_t b;
        int e = view_map(s, offset, size, prot, copy, (uintptr_t)at, &b);
        if (!e) {
            SetLastError(ERROR_SUCCESS);
            return (LPVOID)b;
        }
        err = e == EEXIST ? ERROR_INVALID_ADDRESS : file_error(e);
    }
    section_view_put(s);
    return fail(err);
}

VMEM_API LPVOID WINAPI MapViewOfFile(HANDLE mapping, DWORD access, DWORD off_high,
                                     DWORD off_low, SIZE_T size)
{
    return MapViewOfFileEx(mapping, access, off_high, off_low, size, NULL);
}

VMEM_API BOOL WINAPI UnmapViewOfFile(LPCVOID addr)
{
    if (runtime_ensure() != 0 || view_unmap((uintptr_t)addr) != 0) {
        SetLastError(ERROR_INVALID_ADDRESS); /* STATUS_NOT_MAPPED_VIEW */
        return FALSE;
    }
    return TRUE;
}

VMEM_API BOOL WINAPI FlushViewOfFile(LPCVOID addr, SIZE_T size)
{
    int err = runtime_ensure() != 0 ? EFAULT : view_flush((uintptr_t)addr, size);
    if (err) {
        SetLastError(err == EFAULT ? ERROR_INVALID_ADDRESS : file_error(err));
        return FALSE;
    }
    return TRUE;
}
