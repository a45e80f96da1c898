/*
 * test_section_copy.c -- FILE_MAP_COPY views: private copy-on-write.  A
 * write through one reaches neither the file nor the section's other views
 * (shared or copy); a page not yet written shows the section as it is; a
 * read-only file's PAGE_WRITECOPY section gives writable copy views.
 */
#include <memoryapi.h>

#include "section_util.h"

static void cleanup(void) { scratch_done(); }

TestSuite(section_copy, .fini = cleanup);

Test(section_copy, writes_stay_private_file)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("cow"));
    static char buf[2 * GRAN];
    memset(buf, 'f', sizeof buf);
    put_file(path, buf, sizeof buf);
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING);
    HANDLE s = make_section(f, PAGE_READWRITE, 0, NULL);
    char *shared = map_view(s, FILE_MAP_WRITE, 0, 0);
    char *c1 = map_view(s, FILE_MAP_COPY, 0, 0);
    char *c2 = map_view(s, FILE_MAP_COPY, 0, 0);
    MEMORY_BASIC_INFORMATION m = query(c1);
    cr_assert_eq(m.AllocationProtect, PAGE_WRITECOPY);
    cr_assert_eq(m.Protect, PAGE_WRITECOPY);
    cr_assert_eq(m.Type, MEM_MAPPED);

    memset(c1, 'c', PG);
    c1[GRAN + 7] = 'x';
    cr_assert_eq(shared[0], 'f', "the shared view does not see a copy view's write");
    cr_assert_eq(shared[GRAN + 7], 'f');
    cr_assert_eq(c2[0], 'f', "nor does another copy view");
    /* a page of c2 not yet written shows the section's current bytes */
    shared[3 * PG] = 's';
    cr_assert_eq(c2[3 * PG], 's');
    /* once written, the copy is c2's own */
    c2[3 * PG] = 'p';
    shared[3 * PG] = 't';
    cr_assert_eq(c2[3 * PG], 'p');
    assert_ok(FlushViewOfFile(c1, 0)); /* nothing to write for a copy view */
    assert_ok(UnmapViewOfFile(c1));
    assert_ok(UnmapViewOfFile(c2));
    assert_ok(UnmapViewOfFile(shared));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(f));

    static char back[2 * GRAN];
    cr_assert_eq(get_file(path, back, sizeof back), sizeof back);
    for (size_t i = 0; i < sizeof back; i++)
        if (i != 3 * PG)
            cr_assert_eq(back[i], 'f', "byte %zu of the file: %#x", i, back[i]);
    cr_assert_eq(back[3 * PG], 't', "the shared view's write is in the file");
}

Test(section_copy, writes_stay_private_pagefile)
{
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, GRAN, NULL);
    char *shared = map_view(s, FILE_MAP_WRITE, 0, 0);
    shared[5] = 'a';
    char *c = map_view(s, FILE_MAP_COPY, 0, 0);
    cr_assert_eq(c[5], 'a');
    c[5] = 'b';
    cr_assert_eq(shared[5], 'a');
    char *r = map_view(s, FILE_MAP_READ, 0, 0);
    cr_assert_eq(r[5], 'a');
    assert_ok(UnmapViewOfFile(r));
    assert_ok(UnmapViewOfFile(c));
    assert_ok(UnmapViewOfFile(shared));
    assert_ok(CloseHandle(s));
}

Test(section_copy, read_only_file)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("rocow"));
    put_file(path, "original", 8);
    HANDLE f = open_file(path, GENERIC_READ, OPEN_EXISTING);
    HANDLE s = make_section(f, PAGE_WRITECOPY, 0, NULL);
    char *c = map_view(s, FILE_MAP_COPY, 0, 0);
    memcpy(c, "modified", 8);
    cr_assert_eq(memcmp(c, "modified", 8), 0);
    char *r = map_view(s, FILE_MAP_READ, 0, 0);
    cr_assert_eq(memcmp(r, "original", 8), 0);
    assert_ok(UnmapViewOfFile(r));
    assert_ok(UnmapViewOfFile(c));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(f));
    char back[8];
    cr_assert_eq(get_file(path, back, 8), 8);
    cr_assert_eq(memcmp(back, "original", 8), 0, "the file is untouched");
}
