/*
 * test_section_create.c -- CreateFileMappingA and OpenFileMappingA: the
 * protections and attributes accepted, the size rules (a file's size, an
 * empty file, growing a writable file, a page-file section's size), access
 * of the file handle, named sections and ERROR_ALREADY_EXISTS, and the
 * errors Windows gives (after Wine's test_MapViewOfFile).
 */
#include <memoryapi.h>

#include "section_util.h"

static void cleanup(void) { scratch_done(); }

TestSuite(section_create, .fini = cleanup);

/* A file of n bytes of 'a', opened with access. */
static HANDLE file_of(const char *leaf, size_t n, DWORD access)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path(leaf));
    char *buf = calloc(1, n + 1);
    memset(buf, 'a', n);
    put_file(path, buf, n);
    free(buf);
    return open_file(path, access, OPEN_EXISTING);
}

Test(section_create, protections)
{
    HANDLE f = file_of("p", 8192, GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE);
    const DWORD good[] = { PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE_READ,
                           PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY,
                           PAGE_READWRITE | SEC_COMMIT };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_ok(CloseHandle(make_section(f, good[i], 0, NULL)));
    const DWORD bad[] = { 0, PAGE_NOACCESS, PAGE_EXECUTE, PAGE_READONLY | PAGE_READWRITE,
                          PAGE_READWRITE | PAGE_GUARD, PAGE_READWRITE | SEC_COMMIT | SEC_RESERVE,
                          PAGE_READWRITE | 0x100000 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null_fails(ERROR_INVALID_PARAMETER,
                          CreateFileMappingA(f, NULL, bad[i], 0, 4096, NULL));
    assert_null_fails(ERROR_NOT_SUPPORTED,
                      CreateFileMappingA(f, NULL, PAGE_READONLY | SEC_IMAGE, 0, 0, NULL));
    assert_null_fails(ERROR_NOT_SUPPORTED,
                      CreateFileMappingA(INVALID_HANDLE_VALUE, NULL,
                                         PAGE_READWRITE | SEC_LARGE_PAGES, 0, 1 << 21, NULL));
    assert_ok(CloseHandle(f));
}

Test(section_create, size_zero_is_the_files)
{
    HANDLE f = file_of("z", 0x3456, GENERIC_READ | GENERIC_WRITE);
    HANDLE s = make_section(f, PAGE_READONLY, 0, NULL);
    /* the section is the file's 0x3456 bytes: a view of one byte more fails */
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(s, FILE_MAP_READ, 0, 0, 0x3457));
    char *v = map_view(s, FILE_MAP_READ, 0, 0x3456);
    cr_assert_eq(v[0x3455], 'a');
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(f));
}

Test(section_create, empty_file)
{
    HANDLE f = open_file(scratch_path("empty"), GENERIC_READ | GENERIC_WRITE, CREATE_ALWAYS);
    assert_null_fails(ERROR_FILE_INVALID, CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 0, NULL));
    assert_null_fails(ERROR_FILE_INVALID, CreateFileMappingA(f, NULL, PAGE_READONLY, 0, 0, NULL));
    assert_ok(CloseHandle(f));
}

Test(section_create, larger_size_grows_a_writable_file)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("grow"));
    put_file(path, "abc", 3);
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING);
    /* read-only: the file cannot grow (STATUS_SECTION_TOO_BIG) */
    assert_null_fails(ERROR_NOT_ENOUGH_MEMORY,
                      CreateFileMappingA(f, NULL, PAGE_READONLY, 0, 10000, NULL));
    cr_assert_eq(file_bytes(path), 3, "a refused section leaves the file alone");
    HANDLE s = make_section(f, PAGE_READWRITE, 10000, NULL);
    cr_assert_eq(file_bytes(path), 10000);
    DWORD high;
    cr_assert_eq(GetFileSize(f, &high), 10000);
    char *v = map_view(s, FILE_MAP_ALL_ACCESS, 0, 0);
    cr_assert_eq(memcmp(v, "abc", 3), 0);
    cr_assert_eq(v[9999], 0, "the new bytes are zeros");
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    /* a smaller section never shrinks the file */
    assert_ok(CloseHandle(make_section(f, PAGE_READWRITE, 100, NULL)));
    cr_assert_eq(file_bytes(path), 10000);
    assert_ok(CloseHandle(f));
}

Test(section_create, page_file_section_needs_a_size)
{
    assert_null_fails(ERROR_INVALID_PARAMETER,
                      CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0, NULL));
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 4090, NULL);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    MEMORY_BASIC_INFORMATION m = query(v);
    cr_assert_eq(m.RegionSize, 4096, "4090 bytes: one page");
    cr_assert_eq(v[4095], 0);
    v[4095] = 1;
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_create, file_handle_access)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("ro"));
    put_file(path, "0123456789", 10);
    HANDLE ro = open_file(path, GENERIC_READ, OPEN_EXISTING);
    assert_null_fails(ERROR_ACCESS_DENIED,
                      CreateFileMappingA(ro, NULL, PAGE_READWRITE, 0, 0, NULL));
    assert_null_fails(ERROR_ACCESS_DENIED,
                      CreateFileMappingA(ro, NULL, PAGE_EXECUTE_READWRITE, 0, 0, NULL));
    assert_ok(CloseHandle(make_section(ro, PAGE_READONLY, 0, NULL)));
    assert_ok(CloseHandle(make_section(ro, PAGE_WRITECOPY, 0, NULL)));
    assert_ok(CloseHandle(ro));

    HANDLE none = open_file(path, 0, OPEN_EXISTING);
    assert_null_fails(ERROR_ACCESS_DENIED,
                      CreateFileMappingA(none, NULL, PAGE_READONLY, 0, 0, NULL));
    assert_null_fails(ERROR_ACCESS_DENIED,
                      CreateFileMappingA(none, NULL, PAGE_WRITECOPY, 0, 0, NULL));
    assert_null_fails(ERROR_ACCESS_DENIED,
                      CreateFileMappingA(none, NULL, PAGE_READWRITE, 0, 0, NULL));
    assert_ok(CloseHandle(none));

    /* Windows: an execute section needs GENERIC_EXECUTE on the file; and
     * a file not opened for execute gets no execute view (libvmem) */
    HANDLE rw = open_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING);
    const DWORD exec[] = { PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY };
    for (size_t i = 0; i < 3; i++)
        assert_null_fails(ERROR_ACCESS_DENIED, CreateFileMappingA(rw, NULL, exec[i], 0, 0, NULL));
    HANDLE s = make_section(rw, PAGE_READWRITE, 0, NULL);
    assert_null_fails(ERROR_ACCESS_DENIED,
                      MapViewOfFile(s, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0, 0));
    assert_ok(UnmapViewOfFile(map_view(s, FILE_MAP_READ, 0, 0)));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(rw));
    HANDLE all = open_file(path, GENERIC_ALL, OPEN_EXISTING);
    s = make_section(all, PAGE_EXECUTE_READ, 0, NULL);
    assert_ok(UnmapViewOfFile(map_view(s, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0)));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(all));
}

Test(section_create, bad_handles)
{
    assert_null_fails(ERROR_INVALID_HANDLE,
                      CreateFileMappingA((HANDLE)(uintptr_t)0x40, NULL, PAGE_READWRITE, 0, 4096,
                                         NULL));
    /* a section handle is not a file handle */
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 4096, NULL);
    assert_null_fails(ERROR_INVALID_HANDLE, CreateFileMappingA(s, NULL, PAGE_READWRITE, 0, 4096,
                                                               NULL));
    /* and a file handle is not a section */
    HANDLE f = open_file(scratch_path("bh"), GENERIC_READ | GENERIC_WRITE, CREATE_ALWAYS);
    assert_null_fails(ERROR_INVALID_HANDLE, MapViewOfFile(f, FILE_MAP_READ, 0, 0, 0));
    assert_ok(CloseHandle(f));
    assert_ok(CloseHandle(s));
    assert_null_fails(ERROR_INVALID_HANDLE, MapViewOfFile(s, FILE_MAP_READ, 0, 0, 0));
}

Test(section_create, named_twice_returns_the_same)
{
    const char *name = unique_name("twice");
    SetLastError(1234);
    HANDLE a = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 65536, name);
    cr_assert_eq(GetLastError(), ERROR_SUCCESS);
    SetLastError(0);
    /* another size: the existing section is returned as it is */
    HANDLE b = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 4096, name);
    cr_assert_eq(GetLastError(), ERROR_ALREADY_EXISTS);
    cr_assert_neq(a, b, "a new handle");
    char *va = map_view(a, FILE_MAP_WRITE, 0, 0);
    char *vb = map_view(b, FILE_MAP_WRITE, 0, 0);
    cr_assert_eq(query(vb).RegionSize, 65536, "b is a's 64 KiB section");
    va[65535] = 42;
    cr_assert_eq(vb[65535], 42, "one section under two handles");
    assert_ok(UnmapViewOfFile(va));
    assert_ok(UnmapViewOfFile(vb));
    assert_ok(CloseHandle(a));
    assert_ok(CloseHandle(b));
}

Test(section_create, open_by_name)
{
    const char *name = unique_name("open");
    assert_null_fails(ERROR_FILE_NOT_FOUND, OpenFileMappingA(FILE_MAP_READ, FALSE, name));
    assert_null_fails(ERROR_INVALID_PARAMETER, OpenFileMappingA(FILE_MAP_READ, FALSE, NULL));
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 8192, name);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    strcpy(v, "shared");

    HANDLE r = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    cr_assert_not_null(r, "error %u", (unsigned)GetLastError());
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(r, FILE_MAP_WRITE, 0, 0, 0));
    char *rv = map_view(r, FILE_MAP_READ, 0, 0);
    cr_assert_str_eq(rv, "shared");
    MEMORY_BASIC_INFORMATION m = query(rv);
    cr_assert_eq(m.AllocationProtect, PAGE_READONLY);
    cr_assert_eq(m.Protect, PAGE_READONLY);
    cr_assert_eq(m.Type, MEM_MAPPED);
    assert_ok(UnmapViewOfFile(rv));
    assert_ok(CloseHandle(r));

    /* FILE_MAP_WRITE alone does not allow a read view (SECTION_MAP_READ) */
    HANDLE w = OpenFileMappingA(FILE_MAP_WRITE, FALSE, name);
    cr_assert_not_null(w);
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(w, FILE_MAP_READ, 0, 0, 0));
    char *wv = map_view(w, FILE_MAP_WRITE, 0, 0);
    cr_assert_eq(query(wv).Protect, PAGE_READWRITE);
    assert_ok(UnmapViewOfFile(wv));
    assert_ok(CloseHandle(w));

    /* "Global\" and "Local\" are one namespace here, and the bare name too */
    char global[128];
    snprintf(global, sizeof global, "Global\\%s", name + 6);
    HANDLE g = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, global);
    cr_assert_not_null(g, "error %u", (unsigned)GetLastError());
    assert_ok(CloseHandle(g));
    HANDLE bare = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name + 6);
    cr_assert_not_null(bare, "error %u", (unsigned)GetLastError());
    assert_ok(CloseHandle(bare));

    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    assert_null_fails(ERROR_FILE_NOT_FOUND, OpenFileMappingA(FILE_MAP_READ, FALSE, name));
}

Test(section_create, name_goes_with_the_last_handle)
{
    /* Windows drops the name with the last handle even while a view lives
     * (Wine's test: "close named mapping handle without unmapping") */
    const char *name = unique_name("lasthandle");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 65536, name);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    HANDLE o = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    cr_assert_not_null(o);
    assert_ok(CloseHandle(o));
    assert_ok(CloseHandle(s));
    v[100] = 5; /* the view still works */
    cr_assert_eq(v[100], 5);
    MEMORY_BASIC_INFORMATION m = query(v);
    cr_assert_eq(m.State, MEM_COMMIT);
    cr_assert_eq(m.Type, MEM_MAPPED);
    assert_null_fails(ERROR_FILE_NOT_FOUND, OpenFileMappingA(FILE_MAP_READ, FALSE, name));
    /* a new section of that name is a new one: ERROR_SUCCESS, zeros */
    SetLastError(1234);
    HANDLE n = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 65536, name);
    cr_assert_eq(GetLastError(), ERROR_SUCCESS);
    char *nv = map_view(n, FILE_MAP_READ, 0, 0);
    cr_assert_eq(nv[100], 0);
    assert_ok(UnmapViewOfFile(nv));
    assert_ok(CloseHandle(n));
    assert_ok(UnmapViewOfFile(v));
}

Test(section_create, bad_names)
{
    assert_null_fails(ERROR_INVALID_NAME,
                      CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096,
                                         "Local\\a\\b"));
    assert_null_fails(ERROR_INVALID_NAME,
                      CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096,
                                         "Local\\"));
    /* odd characters are fine: '/' and '%' too */
    const char *odd = "vmem test/odd%name";
    char name[128];
    snprintf(name, sizeof name, "%s-%d", odd, (int)getpid());
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 4096, name);
    HANDLE o = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    cr_assert_not_null(o, "error %u", (unsigned)GetLastError());
    assert_ok(CloseHandle(o));
    assert_ok(CloseHandle(s));
}

Test(section_create, page_file_size_that_wraps_is_refused)
{
    /* 2^64 - 4095 and up round to 0 pages */
    assert_null_fails(ERROR_NOT_ENOUGH_MEMORY,
                      CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0xFFFFFFFFu,
                                         0xFFFFF001u, NULL));
    assert_null_fails(ERROR_NOT_ENOUGH_MEMORY,
                      CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0xFFFFFFFFu,
                                         0xFFFFFFFFu, NULL));
}

Test(section_create, a_closed_handle_stays_invalid_through_reuses)
{
    const char *path = scratch_path("gen");
    put_file(path, "x", 1);
    HANDLE a = open_file(path, GENERIC_READ, OPEN_EXISTING);
    assert_ok(CloseHandle(a));
    /* 16383 was the generation's period: go past it */
    for (int n = 0; n < 20000; n++) {
        HANDLE b = open_file(path, GENERIC_READ, OPEN_EXISTING);
        cr_assert_neq(b, a, "the closed handle names a new file after %d reuses", n + 1);
        assert_ok(CloseHandle(b));
    }
    SetLastError(0);
    cr_assert_not(CloseHandle(a));
    cr_assert_eq(GetLastError(), ERROR_INVALID_HANDLE);
}
