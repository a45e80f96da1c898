/*
 * test_section_file.c -- CreateFileA's dispositions and their errors,
 * GetFileSize / GetFileSizeEx, and CloseHandle of file handles, as Windows
 * documents them.
 */
#include <memoryapi.h>

#include "section_util.h"

static void cleanup(void) { scratch_done(); }

TestSuite(section_file, .fini = cleanup);

Test(section_file, create_new)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("new"));
    SetLastError(1234);
    HANDLE h = open_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_NEW);
    cr_assert_eq(GetLastError(), ERROR_SUCCESS);
    cr_assert_eq(file_bytes(path), 0);
    assert_ok(CloseHandle(h));
    /* a second CREATE_NEW finds it */
    SetLastError(0);
    h = CreateFileA(path, GENERIC_READ, 0, NULL, CREATE_NEW, 0, NULL);
    cr_assert_eq(h, INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_FILE_EXISTS);
}

Test(section_file, open_existing_missing)
{
    SetLastError(0);
    HANDLE h = CreateFileA(scratch_path("absent"), GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    cr_assert_eq(h, INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_FILE_NOT_FOUND);
    SetLastError(0);
    h = CreateFileA(scratch_path("absent"), GENERIC_READ | GENERIC_WRITE, 0, NULL,
                    TRUNCATE_EXISTING, 0, NULL);
    cr_assert_eq(h, INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_FILE_NOT_FOUND);
}

Test(section_file, open_always_and_create_always_say_already_exists)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("f"));
    SetLastError(1234);
    HANDLE h = open_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_ALWAYS);
    cr_assert_eq(GetLastError(), ERROR_SUCCESS, "OPEN_ALWAYS made it: no error");
    assert_ok(CloseHandle(h));
    put_file(path, "hello", 5);

    SetLastError(0);
    h = open_file(path, GENERIC_READ, OPEN_ALWAYS);
    cr_assert_eq(GetLastError(), ERROR_ALREADY_EXISTS);
    cr_assert_eq(file_bytes(path), 5, "OPEN_ALWAYS keeps the contents");
    assert_ok(CloseHandle(h));

    SetLastError(0);
    h = open_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_ALWAYS);
    cr_assert_eq(GetLastError(), ERROR_ALREADY_EXISTS);
    cr_assert_eq(file_bytes(path), 0, "CREATE_ALWAYS empties it");
    assert_ok(CloseHandle(h));
}

Test(section_file, truncate_existing)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("t"));
    put_file(path, "0123456789", 10);
    SetLastError(0);
    HANDLE h = CreateFileA(path, GENERIC_READ, 0, NULL, TRUNCATE_EXISTING, 0, NULL);
    cr_assert_eq(h, INVALID_HANDLE_VALUE, "TRUNCATE_EXISTING needs GENERIC_WRITE");
    cr_assert_eq(GetLastError(), ERROR_INVALID_PARAMETER);
    cr_assert_eq(file_bytes(path), 10);
    h = open_file(path, GENERIC_WRITE, TRUNCATE_EXISTING);
    cr_assert_eq(file_bytes(path), 0);
    assert_ok(CloseHandle(h));
}

Test(section_file, bad_arguments)
{
    SetLastError(0);
    cr_assert_eq(CreateFileA(scratch_path("x"), GENERIC_READ, 0, NULL, 0, 0, NULL),
                 INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0);
    cr_assert_eq(CreateFileA(scratch_path("x"), GENERIC_READ, 0, NULL, 6, 0, NULL),
                 INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0);
    cr_assert_eq(CreateFileA(scratch_path("x"), GENERIC_READ, 0x100, NULL, OPEN_ALWAYS, 0, NULL),
                 INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0);
    cr_assert_eq(CreateFileA(scratch_path("nodir/x"), GENERIC_READ, 0, NULL, CREATE_NEW, 0, NULL),
                 INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_PATH_NOT_FOUND);
    SetLastError(0);
    cr_assert_eq(CreateFileA(scratch_path("x"), GENERIC_READ, 0, NULL, OPEN_ALWAYS,
                             FILE_FLAG_DELETE_ON_CLOSE, NULL),
                 INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_NOT_SUPPORTED);
    /* a directory is not a file */
    SetLastError(0);
    cr_assert_eq(CreateFileA("/tmp", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL),
                 INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_ACCESS_DENIED);
}

Test(section_file, sizes)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("s"));
    static char buf[70000];
    memset(buf, 'z', sizeof buf);
    put_file(path, buf, sizeof buf);
    HANDLE h = open_file(path, 0, OPEN_EXISTING); /* size queries need no access */
    DWORD high = 77;
    cr_assert_eq(GetFileSize(h, &high), sizeof buf);
    cr_assert_eq(high, 0);
    cr_assert_eq(GetFileSize(h, NULL), sizeof buf);
    LARGE_INTEGER li;
    assert_ok(GetFileSizeEx(h, &li));
    cr_assert_eq(li.QuadPart, (LONGLONG)sizeof buf);
    assert_ok(CloseHandle(h));

    /* beyond 4 GiB: the high word (a sparse file) */
    int fd = open(path, O_WRONLY);
    cr_assert_eq(ftruncate(fd, ((off_t)5 << 32) + 3), 0);
    close(fd);
    h = open_file(path, GENERIC_READ, OPEN_EXISTING);
    cr_assert_eq(GetFileSize(h, &high), 3);
    cr_assert_eq(high, 5);
    assert_ok(GetFileSizeEx(h, &li));
    cr_assert_eq(li.QuadPart, ((LONGLONG)5 << 32) + 3);
    assert_ok(CloseHandle(h));
}

Test(section_file, close_handle)
{
    HANDLE h = open_file(scratch_path("c"), GENERIC_READ | GENERIC_WRITE, CREATE_ALWAYS);
    cr_assert_neq(h, NULL);
    cr_assert_eq((uintptr_t)h % 4, 0, "handles are multiples of 4, as on Windows");
    assert_ok(CloseHandle(h));
    assert_fails(ERROR_INVALID_HANDLE, CloseHandle(h));
    assert_fails(ERROR_INVALID_HANDLE, CloseHandle(NULL));
    assert_fails(ERROR_INVALID_HANDLE, CloseHandle((HANDLE)(uintptr_t)0x12345670));
    SetLastError(0);
    cr_assert_eq(GetFileSize(h, NULL), INVALID_FILE_SIZE, "a closed handle");
    cr_assert_eq(GetLastError(), ERROR_INVALID_HANDLE);
    /* a closed handle's slot reused by a new file: the old value stays dead */
    HANDLE h2 = open_file(scratch_path("c2"), GENERIC_READ | GENERIC_WRITE, CREATE_ALWAYS);
    assert_fails(ERROR_INVALID_HANDLE, CloseHandle(h));
    assert_ok(CloseHandle(h2));
    cr_assert(CloseHandle(GetCurrentProcess()), "a pseudo-handle closes as a no-op");
}

Test(section_file, a_fifo_is_refused_without_blocking)
{
    const char *path = scratch_path("fifo");
    cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo: %s", strerror(errno));
    /* no writer, no reader: a blocking open would wait for good */
    SetLastError(0);
    HANDLE h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    cr_assert_eq(h, INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_ACCESS_DENIED, "GetLastError %u",
                 (unsigned)GetLastError());
    h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_ALWAYS, 0, NULL);
    cr_assert_eq(h, INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_ACCESS_DENIED, "GetLastError %u",
                 (unsigned)GetLastError());
}

Test(section_file, a_mapped_file_is_not_truncated)
{
    const char *path = scratch_path("mapped");
    put_file(path, "keep me", 7);
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING);
    HANDLE s = make_section(f, PAGE_READWRITE, 0, NULL);
    char *v = map_view(s, FILE_MAP_READ, 0, 0);
    SetLastError(0);
    cr_assert_eq(CreateFileA(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                             CREATE_ALWAYS, 0, NULL), INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_USER_MAPPED_FILE, "GetLastError %u",
                 (unsigned)GetLastError());
    SetLastError(0);
    cr_assert_eq(CreateFileA(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                             TRUNCATE_EXISTING, 0, NULL), INVALID_HANDLE_VALUE);
    cr_assert_eq(GetLastError(), ERROR_USER_MAPPED_FILE, "GetLastError %u",
                 (unsigned)GetLastError());
    cr_assert_eq(file_bytes(path), 7);
    cr_assert_eq(memcmp(v, "keep me", 7), 0);
    /* the section alone (no view) does not stop it, nor does a closed one */
    cr_assert(UnmapViewOfFile(v));
    cr_assert(CloseHandle(s));
    cr_assert(CloseHandle(f));
    HANDLE t = open_file(path, GENERIC_WRITE, TRUNCATE_EXISTING);
    cr_assert(CloseHandle(t));
    cr_assert_eq(file_bytes(path), 0);
}
