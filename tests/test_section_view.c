/*
 * test_section_view.c -- MapViewOfFile(Ex) and UnmapViewOfFile: access
 * against the handle and the section, 64 KiB offsets and addresses, views
 * beyond the section; what VirtualQuery, VirtualProtect, VirtualFree,
 * VirtualLock and MEM_RESET do on a view; a section outliving its handle
 * (the errors after Wine's test_MapViewOfFile and test_NtMapViewOfSection).
 */
#include <memoryapi.h>

#include "section_util.h"

static void cleanup(void) { scratch_done(); }

TestSuite(section_view, .fini = cleanup);

static HANDLE pagefile_section(DWORD protect, uint64_t size)
{
    return make_section(INVALID_HANDLE_VALUE, protect, size, NULL);
}

Test(section_view, query_reports_a_mapped_view)
{
    HANDLE s = pagefile_section(PAGE_READWRITE, 3 * GRAN);
    char *v = map_view(s, FILE_MAP_ALL_ACCESS, GRAN, 0);
    cr_assert_eq((uintptr_t)v % GRAN, 0, "views start on 64 KiB");
    MEMORY_BASIC_INFORMATION m = query(v + 5 * PG);
    cr_assert_eq(m.BaseAddress, v + 5 * PG);
    cr_assert_eq(m.AllocationBase, v);
    cr_assert_eq(m.AllocationProtect, PAGE_READWRITE);
    cr_assert_eq(m.RegionSize, 2 * GRAN - 5 * PG, "to the view's end: the section's last 128 KiB");
    cr_assert_eq(m.State, MEM_COMMIT);
    cr_assert_eq(m.Protect, PAGE_READWRITE);
    cr_assert_eq(m.Type, MEM_MAPPED);
    assert_ok(UnmapViewOfFile(v));
    m = query(v);
    cr_assert_eq(m.State, MEM_FREE, "unmapped");
    cr_assert_eq(m.AllocationBase, NULL);
    assert_ok(CloseHandle(s));
}

Test(section_view, offsets_and_sizes)
{
    HANDLE s = pagefile_section(PAGE_READWRITE, 2 * GRAN);
    assert_null_fails(ERROR_MAPPED_ALIGNMENT, MapViewOfFile(s, FILE_MAP_READ, 0, PG, 0));
    assert_null_fails(ERROR_MAPPED_ALIGNMENT, MapViewOfFile(s, FILE_MAP_READ, 0, 1, PG));
    /* beyond the section: STATUS_INVALID_VIEW_SIZE, ERROR_ACCESS_DENIED */
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(s, FILE_MAP_READ, 0, 2 * GRAN, 0));
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(s, FILE_MAP_READ, 1, 0, 0));
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(s, FILE_MAP_READ, 0, GRAN, GRAN + 1));
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(s, FILE_MAP_READ, 0, 0, 2 * GRAN + 1));
    char *v = map_view(s, FILE_MAP_WRITE, GRAN, 100); /* a part page: the whole page */
    cr_assert_eq(query(v).RegionSize, PG);
    v[PG - 1] = 9;
    char *all = map_view(s, FILE_MAP_READ, 0, 0);
    cr_assert_eq(all[GRAN + PG - 1], 9, "the offset view shows the section from 64 KiB");
    assert_ok(UnmapViewOfFile(v));
    assert_ok(UnmapViewOfFile(all));
    assert_ok(CloseHandle(s));
}

Test(section_view, at_an_address)
{
    HANDLE s = pagefile_section(PAGE_READWRITE, GRAN);
    /* a free 64 KiB-aligned address: reserve, note it, release */
    char *spot = VirtualAlloc(NULL, 2 * GRAN, MEM_RESERVE, PAGE_NOACCESS);
    cr_assert_not_null(spot);
    release(spot);
    assert_null_fails(ERROR_MAPPED_ALIGNMENT,
                      MapViewOfFileEx(s, FILE_MAP_WRITE, 0, 0, 0, spot + PG));
    char *v = MapViewOfFileEx(s, FILE_MAP_WRITE, 0, 0, 0, spot);
    cr_assert_eq(v, spot, "error %u", (unsigned)GetLastError());
    /* taken now: by the view, and by private memory */
    assert_null_fails(ERROR_INVALID_ADDRESS, MapViewOfFileEx(s, FILE_MAP_WRITE, 0, 0, 0, spot));
    char *priv = alloc_committed(PG, PAGE_READWRITE);
    assert_null_fails(ERROR_INVALID_ADDRESS, MapViewOfFileEx(s, FILE_MAP_WRITE, 0, 0, 0, priv));
    /* and VirtualAlloc cannot reserve over the view */
    assert_alloc_fails(ERROR_INVALID_ADDRESS, spot, PG, MEM_RESERVE, PAGE_READWRITE);
    release(priv);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_view, access_against_the_section)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("acc"));
    static char page[4096];
    memset(page, 'q', sizeof page);
    put_file(path, page, sizeof page);
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE, OPEN_EXISTING);

    HANDLE rw = make_section(f, PAGE_READWRITE, 0, NULL);
    const DWORD rw_ok[] = { FILE_MAP_READ, FILE_MAP_WRITE, FILE_MAP_COPY, 0, FILE_MAP_ALL_ACCESS };
    for (size_t i = 0; i < sizeof rw_ok / sizeof rw_ok[0]; i++)
        assert_ok(UnmapViewOfFile(map_view(rw, rw_ok[i], 0, 0)));
    /* Windows lets any section have an execute view */
    char *rx = map_view(rw, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0);
    cr_assert_eq(query(rx).Protect, PAGE_EXECUTE_READ);
    assert_ok(UnmapViewOfFile(rx));
    assert_ok(CloseHandle(rw));

    HANDLE ro = make_section(f, PAGE_READONLY, 0, NULL);
    assert_ok(UnmapViewOfFile(map_view(ro, FILE_MAP_READ, 0, 0)));
    assert_ok(UnmapViewOfFile(map_view(ro, FILE_MAP_COPY, 0, 0)));
    assert_ok(UnmapViewOfFile(map_view(ro, 0, 0, 0)));
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(ro, FILE_MAP_WRITE, 0, 0, 0));
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(ro, FILE_MAP_ALL_ACCESS, 0, 0, 0));
    assert_ok(CloseHandle(ro));

    HANDLE wc = make_section(f, PAGE_WRITECOPY, 0, NULL);
    assert_ok(UnmapViewOfFile(map_view(wc, FILE_MAP_READ, 0, 0)));
    assert_ok(UnmapViewOfFile(map_view(wc, FILE_MAP_COPY, 0, 0)));
    assert_null_fails(ERROR_ACCESS_DENIED, MapViewOfFile(wc, FILE_MAP_WRITE, 0, 0, 0));
    assert_ok(CloseHandle(wc));

    HANDLE x = make_section(f, PAGE_EXECUTE_READWRITE, 0, NULL);
    char *xv = map_view(x, FILE_MAP_WRITE | FILE_MAP_EXECUTE, 0, 0);
    MEMORY_BASIC_INFORMATION m = query(xv);
    cr_assert_eq(m.Protect, PAGE_EXECUTE_READWRITE);
    cr_assert_eq(m.AllocationProtect, PAGE_EXECUTE_READWRITE);
    assert_ok(UnmapViewOfFile(xv));
    assert_ok(CloseHandle(x));
    assert_ok(CloseHandle(f));
}

Test(section_view, no_access_view)
{
    HANDLE s = pagefile_section(PAGE_READWRITE, PG);
    char *v = map_view(s, 0, 0, 0);
    MEMORY_BASIC_INFORMATION m = query(v);
    cr_assert_eq(m.Protect, PAGE_NOACCESS);
    cr_assert(read_faults_in_child(v), "a PAGE_NOACCESS view faults");
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_view, virtualprotect_within_the_views_access)
{
    HANDLE s = pagefile_section(PAGE_READWRITE, GRAN);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    v[0] = 1;
    cr_assert_eq(protect(v, PG, PAGE_READONLY), PAGE_READWRITE);
    assert_run(v, PG, MEM_COMMIT, PAGE_READONLY);
    assert_run(v + PG, GRAN - PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(protect(v, PG, PAGE_NOACCESS), PAGE_READONLY);
    cr_assert(read_faults_in_child(v));
    cr_assert_eq(protect(v, PG, PAGE_READWRITE), PAGE_NOACCESS);
    cr_assert_eq(v[0], 1, "the page kept its contents");
    DWORD old;
    /* copy-on-write and execute are beyond a shared read-write view */
    assert_protect_fails(ERROR_INVALID_PARAMETER, v, PG, PAGE_WRITECOPY, &old);
    assert_protect_fails(ERROR_INVALID_PARAMETER, v, PG, PAGE_EXECUTE_READ, &old);

    char *r = map_view(s, FILE_MAP_READ, 0, 0);
    assert_protect_fails(ERROR_INVALID_PARAMETER, r, PG, PAGE_READWRITE, &old);
    assert_protect_fails(ERROR_INVALID_PARAMETER, r, PG, PAGE_WRITECOPY, &old);
    cr_assert_eq(protect(r, PG, PAGE_NOACCESS), PAGE_READONLY);
    cr_assert_eq(protect(r, PG, PAGE_READONLY), PAGE_NOACCESS);
    cr_assert_eq(r[0], 1);
    /* a copy view: copy-on-write, never shared read-write */
    char *c = map_view(s, FILE_MAP_COPY, 0, 0);
    cr_assert_eq(query(c).Protect, PAGE_WRITECOPY);
    cr_assert_eq(protect(c, PG, PAGE_READONLY), PAGE_WRITECOPY);
    cr_assert_eq(protect(c, PG, PAGE_WRITECOPY), PAGE_READONLY);
    assert_protect_fails(ERROR_INVALID_PARAMETER, c, PG, PAGE_READWRITE, &old);
    /* and private memory still refuses copy-on-write */
    char *p = alloc_committed(PG, PAGE_READWRITE);
    assert_protect_fails(ERROR_INVALID_PARAMETER, p, PG, PAGE_WRITECOPY, &old);
    release(p);
    assert_ok(UnmapViewOfFile(c));
    assert_ok(UnmapViewOfFile(r));
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_view, virtualfree_fails_on_a_view)
{
    HANDLE s = pagefile_section(PAGE_READWRITE, GRAN);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    v[10] = 3;
    assert_free_fails(ERROR_INVALID_PARAMETER, v, 0, MEM_RELEASE);
    assert_free_fails(ERROR_INVALID_PARAMETER, v, PG, MEM_DECOMMIT);
    assert_free_fails(ERROR_INVALID_PARAMETER, v, 0, MEM_DECOMMIT);
    assert_run(v, GRAN, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(v[10], 3, "the failed calls changed nothing");
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_view, lock_and_reset_on_a_view)
{
    HANDLE s = pagefile_section(PAGE_READWRITE, GRAN);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    v[0] = 7;
    assert_ok(VirtualLock(v, 2 * PG));
    assert_ok(VirtualUnlock(v, 2 * PG));
    cr_assert_eq(VirtualAlloc(v, GRAN, MEM_RESET, PAGE_READWRITE), v, "error %u",
                 (unsigned)GetLastError());
    /* MEM_RESET lets a page go only if private: a view's page is the section's */
    cr_assert_eq(v[0], 7);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_view, unmap)
{
    HANDLE s = pagefile_section(PAGE_READONLY, 3 * PG);
    char *v = map_view(s, FILE_MAP_READ, 0, 0);
    assert_ok(UnmapViewOfFile(v + PG + 100)); /* any address in the view */
    cr_assert_eq(query(v).State, MEM_FREE);
    assert_fails(ERROR_INVALID_ADDRESS, UnmapViewOfFile(v));
    char *p = alloc_committed(4 * PG, PAGE_READWRITE);
    assert_fails(ERROR_INVALID_ADDRESS, UnmapViewOfFile(p));
    assert_fails(ERROR_INVALID_ADDRESS, UnmapViewOfFile(p + 3 * PG));
    assert_fails(ERROR_INVALID_ADDRESS, UnmapViewOfFile((void *)(uintptr_t)0xdeadbeef));
    assert_fails(ERROR_INVALID_ADDRESS, UnmapViewOfFile(NULL));
    release(p);
    assert_ok(CloseHandle(s));
}

Test(section_view, section_outlives_its_handle)
{
    HANDLE s = pagefile_section(PAGE_READWRITE, GRAN);
    char *a = map_view(s, FILE_MAP_WRITE, 0, 0);
    char *b = map_view(s, FILE_MAP_READ, 0, 0);
    assert_ok(CloseHandle(s)); /* before unmapping: fine */
    a[1234] = 55;
    cr_assert_eq(b[1234], 55, "both views still show the one section");
    assert_ok(UnmapViewOfFile(a));
    cr_assert_eq(b[1234], 55);
    assert_ok(UnmapViewOfFile(b));
}

Test(section_view, shutdown_unmaps_views)
{
    HANDLE s = pagefile_section(PAGE_READWRITE, 4 * GRAN);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    uint64_t before = stats().commit_charge;
    cr_assert_eq(before, 2, "a view's pages are not commit charge");
    vmem_shutdown();
    struct vmem_stats st = stats(); /* starts the runtime again */
    cr_assert_eq(st.commit_charge, 0, "the counters are whole: %llu",
                 (unsigned long long)st.commit_charge);
    cr_assert_eq(st.regions, 0);
    cr_assert_eq(query(v).State, MEM_FREE, "the view went with the runtime");
    cr_assert_eq(query(p).State, MEM_FREE);
}

Test(section_view, at_an_address_freed_before_the_first_view)
{
    /* the first API call of the process is CreateFileMappingA: the runtime
     * it starts must not take the address freed for the view after it */
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 64 * GRAN, NULL);
    char *q = mmap(NULL, 128 * GRAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(q, MAP_FAILED);
    char *at = (char *)round_up((uintptr_t)q, GRAN);
    cr_assert_eq(munmap(q, 128 * GRAN), 0);
    char *v = MapViewOfFileEx(s, FILE_MAP_WRITE, 0, 0, 0, at);
    cr_assert_eq(v, at, "error %u", (unsigned)GetLastError());
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}
