/*
 * test_section_reserve.c -- SEC_RESERVE sections: views start reserved
 * (MEM_RESERVE, Protect 0, MEM_MAPPED), VirtualAlloc(MEM_COMMIT) commits
 * pages of a view within its access, the commit is the section's (the
 * process's other views see it committed), and decommitting is refused
 * (after Wine's test_MapViewOfFile, "read/write mapping with SEC_RESERVE").
 */
#include <memoryapi.h>

#include "section_util.h"

#define SIZE (16 * GRAN)

Test(section_reserve, views_start_reserved)
{
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE | SEC_RESERVE, SIZE, NULL);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    char *w = map_view(s, FILE_MAP_WRITE, 0, 0);
    cr_assert_neq(v, w);
    for (int k = 0; k < 2; k++) {
        MEMORY_BASIC_INFORMATION m = query(k ? w : v);
        cr_assert_eq(m.AllocationBase, k ? w : v);
        cr_assert_eq(m.RegionSize, SIZE);
        cr_assert_eq(m.State, MEM_RESERVE);
        cr_assert_eq(m.AllocationProtect, PAGE_READWRITE);
        cr_assert_eq(m.Protect, 0);
        cr_assert_eq(m.Type, MEM_MAPPED);
    }
    cr_assert(read_faults_in_child(v + PG), "a reserved page of a view is not accessible");
    DWORD old;
    assert_protect_fails(ERROR_INVALID_ADDRESS, v, PG, PAGE_READONLY, &old);
    assert_ok(UnmapViewOfFile(w));
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_reserve, commit_in_a_view)
{
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE | SEC_RESERVE, SIZE, NULL);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    char *w = map_view(s, FILE_MAP_WRITE, 0, 0);
    cr_assert_eq(VirtualAlloc(v, GRAN, MEM_COMMIT, PAGE_READONLY), v, "error %u",
                 (unsigned)GetLastError());
    MEMORY_BASIC_INFORMATION m = query(v);
    cr_assert_eq(m.RegionSize, GRAN);
    cr_assert_eq(m.State, MEM_COMMIT);
    cr_assert_eq(m.Protect, PAGE_READONLY);
    cr_assert_eq(m.AllocationProtect, PAGE_READWRITE);
    cr_assert_eq(m.Type, MEM_MAPPED);
    assert_run(v + GRAN, SIZE - GRAN, MEM_RESERVE, 0);
    /* the section's pages are committed: w shows them with its protection */
    m = query(w);
    cr_assert_eq(m.RegionSize, GRAN);
    cr_assert_eq(m.State, MEM_COMMIT);
    cr_assert_eq(m.Protect, PAGE_READWRITE);
    cr_assert_eq(v[100], 0, "committed pages read zeros");
    w[100] = 77;
    cr_assert_eq(v[100], 77, "one section behind both views");
    protect(v, PG, PAGE_READWRITE);
    v[101] = 78;
    cr_assert_eq(w[101], 78);

    /* a commit beyond the view's access */
    char *r = map_view(s, FILE_MAP_READ, 0, 0);
    cr_assert_eq(query(r).State, MEM_COMMIT, "committed in a view mapped after");
    assert_run(r + GRAN, SIZE - GRAN, MEM_RESERVE, 0);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, r + GRAN, PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run(r + GRAN, SIZE - GRAN, MEM_RESERVE, 0);
    cr_assert_eq(VirtualAlloc(r + GRAN, PG, MEM_COMMIT, PAGE_READONLY), r + GRAN);
    cr_assert_eq(r[GRAN], 0);

    /* and no decommit */
    assert_free_fails(ERROR_INVALID_PARAMETER, v, GRAN, MEM_DECOMMIT);
    cr_assert_eq(v[100], 77);
    assert_ok(UnmapViewOfFile(r));
    assert_ok(UnmapViewOfFile(w));
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_reserve, named_across_opens)
{
    /* an opener of the name gets a SEC_RESERVE section too */
    const char *name = unique_name("reserve");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE | SEC_RESERVE, SIZE, name);
    HANDLE o = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
    cr_assert_not_null(o);
    char *v = map_view(o, FILE_MAP_WRITE, 0, 0);
    cr_assert_eq(query(v).State, MEM_RESERVE);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(o));
    assert_ok(CloseHandle(s));
}

Test(section_reserve, commit_section_is_committed)
{
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE | SEC_COMMIT, SIZE, NULL);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    assert_run(v, SIZE, MEM_COMMIT, PAGE_READWRITE);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}
