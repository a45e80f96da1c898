/*
 * test_conformance_section.c -- the rules Windows applies to a section's
 * views, as Wine's conformance tests of Windows record them
 * (kernel32/tests/virtual.c): which protections CreateFileMappingA takes,
 * which view accesses each section protection allows, the protection a
 * view gets from its access, which protections VirtualProtect then
 * accepts, and VirtualAlloc(MEM_COMMIT) on a view.  One test per
 * family, each over every combination.  The one rule libvmem does not
 * follow (copy-on-write on a shared view, docs/api.md) is checked to fail
 * cleanly.
 */
#include "section_util.h"

static const DWORD section_prots[] = {
    PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
    PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY,
};

/* What VirtualProtect is asked for on each view. */
static const DWORD page_prots[] = {
    PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
    PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY,
};

#define NSEC (sizeof section_prots / sizeof section_prots[0])
#define NPROT (sizeof page_prots / sizeof page_prots[0])

/* Every combination of the view access bits: copy, write, read, the
 * section's execute right and FILE_MAP_EXECUTE. */
static DWORD access_of(unsigned i)
{
    return (i & 1 ? FILE_MAP_COPY : 0) | (i & 2 ? FILE_MAP_WRITE : 0) |
           (i & 4 ? FILE_MAP_READ : 0) | (i & 8 ? SECTION_MAP_EXECUTE : 0) |
           (i & 16 ? FILE_MAP_EXECUTE : 0);
}

#define NACCESS 32u

/* Windows: the view's protection from its access.  FILE_MAP_COPY makes a
 * copy view only alone (FILE_MAP_EXECUTE aside); write wins over read;
 * FILE_MAP_EXECUTE adds execute to a view that can be read; nothing else
 * gives a no-access view (SECTION_MAP_EXECUTE adds nothing). */
static DWORD expected_view_prot(DWORD access)
{
    int x = (access & FILE_MAP_EXECUTE) != 0;
    DWORD rest = access & ~(DWORD)FILE_MAP_EXECUTE;
    if (rest == FILE_MAP_COPY)
        return x ? PAGE_EXECUTE_WRITECOPY : PAGE_WRITECOPY;
    if (rest & FILE_MAP_WRITE)
        return x ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
    if (rest & FILE_MAP_READ)
        return x ? PAGE_EXECUTE_READ : PAGE_READONLY;
    return PAGE_NOACCESS;
}

/* Windows: only a write view needs more than any section has: a
 * read-write section (execute or not). */
static int expected_map_ok(DWORD section, DWORD access)
{
    return !(access & FILE_MAP_WRITE) || section == PAGE_READWRITE ||
           section == PAGE_EXECUTE_READWRITE;
}

/* The rights Windows weighs protections by. */
enum { RD = 1, WR = 2, CP = 4, EX = 8 };

static unsigned weight(DWORD p)
{
    switch (p) {
    case PAGE_READONLY:          return RD;
    case PAGE_WRITECOPY:         return RD; /* no more than read-only */
    case PAGE_READWRITE:         return RD | WR;
    case PAGE_EXECUTE:
    case PAGE_EXECUTE_READ:      return RD | EX;
    case PAGE_EXECUTE_READWRITE: return RD | WR | CP | EX;
    case PAGE_EXECUTE_WRITECOPY: return RD | CP | EX;
    default:                     return 0;
    }
}

/* Windows: VirtualProtect on a view takes the view's own protection again,
 * or one whose rights are within both the view's and the section's. */
static int expected_protect_ok(DWORD section, DWORD view, DWORD prot)
{
    unsigned s = weight(section), v = weight(view), p = weight(prot);
    if (p == v)
        return 1;
    return v && (p & v) == p && (p & s) == p;
}

static int copy_form(DWORD p)
{
    return p == PAGE_WRITECOPY || p == PAGE_EXECUTE_WRITECOPY;
}

/* A one-page file opened read-write (and execute, as Wine's test does). */
static HANDLE one_page_file(const char *leaf)
{
    static char page[4096];
    memset(page, 'p', sizeof page);
    put_file(scratch_path(leaf), page, sizeof page);
    return open_file(scratch_path(leaf), GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE,
                     OPEN_EXISTING);
}

static void cleanup(void) { scratch_done(); }

TestSuite(conformance_section, .fini = cleanup);

Test(conformance_section, create_protections)
{
    HANDLE f = one_page_file("create");
    assert_null_fails(ERROR_INVALID_PARAMETER,
                      CreateFileMappingA(f, NULL, PAGE_NOACCESS | SEC_COMMIT, 0, PG, NULL));
    assert_null_fails(ERROR_INVALID_PARAMETER,
                      CreateFileMappingA(f, NULL, PAGE_EXECUTE | SEC_COMMIT, 0, PG, NULL));
    for (size_t i = 0; i < NSEC; i++)
        assert_ok(CloseHandle(make_section(f, section_prots[i] | SEC_COMMIT, PG, NULL)));
    assert_ok(CloseHandle(f));
}

Test(conformance_section, view_access_against_the_section)
{
    HANDLE f = one_page_file("access");
    for (size_t i = 0; i < NSEC; i++) {
        HANDLE s = make_section(f, section_prots[i] | SEC_COMMIT, PG, NULL);
        for (unsigned j = 0; j < NACCESS; j++) {
            DWORD a = access_of(j);
            SetLastError(0xdeadbeef);
            void *v = MapViewOfFile(s, a, 0, 0, 0);
            if (expected_map_ok(section_prots[i], a)) {
                cr_assert_not_null(v, "section %#x, access %#x: error %u",
                                   (unsigned)section_prots[i], (unsigned)a,
                                   (unsigned)GetLastError());
                assert_ok(UnmapViewOfFile(v));
            } else {
                cr_assert_null(v, "section %#x, access %#x maps", (unsigned)section_prots[i],
                               (unsigned)a);
                cr_assert_eq(GetLastError(), ERROR_ACCESS_DENIED, "section %#x, access %#x: %u",
                             (unsigned)section_prots[i], (unsigned)a, (unsigned)GetLastError());
            }
        }
        assert_ok(CloseHandle(s));
    }
    assert_ok(CloseHandle(f));
}

Test(conformance_section, view_protection_from_the_access)
{
    HANDLE f = one_page_file("prot");
    for (size_t i = 0; i < NSEC; i++) {
        HANDLE s = make_section(f, section_prots[i] | SEC_COMMIT, PG, NULL);
        for (unsigned j = 0; j < NACCESS; j++) {
            DWORD a = access_of(j);
            if (!expected_map_ok(section_prots[i], a))
                continue;
            char *v = map_view(s, a, 0, 0);
            MEMORY_BASIC_INFORMATION m = query(v);
            DWORD want = expected_view_prot(a);
            cr_assert_eq(m.Protect, want, "section %#x, access %#x: Protect %#x, want %#x",
                         (unsigned)section_prots[i], (unsigned)a, (unsigned)m.Protect,
                         (unsigned)want);
            cr_assert_eq(m.AllocationProtect, want);
            cr_assert_eq(m.AllocationBase, (void *)v);
            cr_assert_eq(m.BaseAddress, (void *)v);
            cr_assert_eq(m.RegionSize, PG);
            cr_assert_eq(m.State, MEM_COMMIT);
            cr_assert_eq(m.Type, MEM_MAPPED);
            assert_ok(UnmapViewOfFile(v));
        }
        assert_ok(CloseHandle(s));
    }
    assert_ok(CloseHandle(f));
}

Test(conformance_section, virtualprotect_on_views)
{
    HANDLE f = one_page_file("vp");
    for (size_t i = 0; i < NSEC; i++) {
        HANDLE s = make_section(f, section_prots[i] | SEC_COMMIT, PG, NULL);
        for (unsigned j = 0; j < NACCESS; j++) {
            DWORD a = access_of(j), vp = expected_view_prot(a);
            if (!expected_map_ok(section_prots[i], a))
                continue;
            char *v = map_view(s, a, 0, 0);
            int shared = !copy_form(vp);
            DWORD now = vp;
            for (size_t k = 0; k < NPROT; k++) {
                DWORD p = page_prots[k], old = 0xdeadbeef;
                int ok = expected_protect_ok(section_prots[i], vp, p);
                /* docs/api.md: a page of a shared view cannot become
                 * copy-on-write on Linux; refused as a bad protection */
                if (shared && copy_form(p))
                    ok = 0;
                SetLastError(0xdeadbeef);
                BOOL r = VirtualProtect(v, PG, p, &old);
                if (ok) {
                    cr_assert(r, "section %#x, view %#x: VirtualProtect(%#x) error %u",
                              (unsigned)section_prots[i], (unsigned)vp, (unsigned)p,
                              (unsigned)GetLastError());
                    cr_assert_eq(old, now, "section %#x, view %#x, %#x: old %#x, want %#x",
                                 (unsigned)section_prots[i], (unsigned)vp, (unsigned)p,
                                 (unsigned)old, (unsigned)now);
                    now = p;
                } else {
                    cr_assert(!r, "section %#x, view %#x: VirtualProtect(%#x) succeeds",
                              (unsigned)section_prots[i], (unsigned)vp, (unsigned)p);
                    cr_assert_eq(GetLastError(), ERROR_INVALID_PARAMETER,
                                 "section %#x, view %#x, %#x: error %u",
                                 (unsigned)section_prots[i], (unsigned)vp, (unsigned)p,
                                 (unsigned)GetLastError());
                }
                cr_assert_eq(query(v).Protect, now, "a refused change changed nothing");
            }
            assert_ok(UnmapViewOfFile(v));
        }
        assert_ok(CloseHandle(s));
    }
    assert_ok(CloseHandle(f));
}

/* Windows: a file's view is committed by its file; committing its pages
 * again is refused with ERROR_ACCESS_DENIED, whatever the protection (the
 * copy-on-write ones included), and changes nothing.  A page-file view's
 * pages, SEC_COMMIT or SEC_RESERVE, take the commit and its protection. */
Test(conformance_section, commit_on_a_view)
{
    HANDLE f = one_page_file("commit");
    for (size_t i = 0; i < NSEC; i++) {
        HANDLE s = make_section(f, section_prots[i] | SEC_COMMIT, PG, NULL);
        for (unsigned j = 0; j < NACCESS; j++) {
            DWORD a = access_of(j);
            if (!expected_map_ok(section_prots[i], a))
                continue;
            char *v = map_view(s, a, 0, 0);
            for (size_t k = 0; k < NPROT; k++) {
                SetLastError(0xdeadbeef);
                void *r = VirtualAlloc(v, PG, MEM_COMMIT, page_prots[k]);
                cr_assert_null(r, "section %#x, access %#x: commit %#x succeeds",
                               (unsigned)section_prots[i], (unsigned)a,
                               (unsigned)page_prots[k]);
                cr_assert_eq(GetLastError(), ERROR_ACCESS_DENIED,
                             "section %#x, access %#x, commit %#x: error %u",
                             (unsigned)section_prots[i], (unsigned)a,
                             (unsigned)page_prots[k], (unsigned)GetLastError());
            }
            cr_assert_eq(query(v).Protect, expected_view_prot(a));
            assert_ok(UnmapViewOfFile(v));
        }
        assert_ok(CloseHandle(s));
    }
    assert_ok(CloseHandle(f));
    /* the page file's sections take it, SEC_COMMIT and SEC_RESERVE */
    const DWORD kinds[] = { SEC_COMMIT, SEC_RESERVE };
    for (size_t i = 0; i < 2; i++) {
        HANDLE p = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE | kinds[i], GRAN, NULL);
        char *v = map_view(p, FILE_MAP_WRITE, 0, 0);
        char *w = map_view(p, FILE_MAP_WRITE, 0, 0);
        cr_assert_eq(VirtualAlloc(v, GRAN, MEM_COMMIT, PAGE_READONLY), (void *)v, "error %u",
                     (unsigned)GetLastError());
        MEMORY_BASIC_INFORMATION m = query(v);
        cr_assert_eq(m.State, MEM_COMMIT);
        cr_assert_eq(m.Protect, PAGE_READONLY);
        cr_assert_eq(m.AllocationProtect, PAGE_READWRITE);
        cr_assert_eq(m.RegionSize, GRAN);
        /* the other view: committed, with its own protection */
        m = query(w);
        cr_assert_eq(m.State, MEM_COMMIT);
        cr_assert_eq(m.Protect, PAGE_READWRITE);
        w[0] = 7;
        cr_assert_eq(v[0], 7);
        assert_ok(UnmapViewOfFile(w));
        assert_ok(UnmapViewOfFile(v));
        assert_ok(CloseHandle(p));
    }
}

/* Windows: an execute view of a section made without execute runs code
 * (Wine maps FILE_MAP_EXECUTE views of every section). */
Test(conformance_section, execute_view_of_a_read_write_section_runs)
{
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PG, NULL);
    unsigned char *w = map_view(s, FILE_MAP_WRITE, 0, 0);
    w[0] = 0xC3; /* x86-64 "ret" */
    unsigned char *x = map_view(s, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0);
    cr_assert_eq(query(x).Protect, PAGE_EXECUTE_READ);
    void (*fn)(void);
    memcpy(&fn, &x, sizeof fn);
    fn();
    assert_ok(UnmapViewOfFile(x));
    assert_ok(UnmapViewOfFile(w));
    assert_ok(CloseHandle(s));
}
