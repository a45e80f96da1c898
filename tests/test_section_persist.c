/*
 * test_section_persist.c -- a file's section: the file's bytes appear in a
 * new view; bytes written through a view are in the file after
 * FlushViewOfFile (the page no longer dirty in the page cache) and after
 * UnmapViewOfFile and CloseHandle; two sections of one file share its
 * bytes; FlushViewOfFile's arguments.
 */
#include <memoryapi.h>

#include "section_util.h"

#include <sys/mman.h>

static void cleanup(void) { scratch_done(); }

TestSuite(section_persist, .fini = cleanup);

/* A file of n bytes, byte i = pattern(i, salt). */
static unsigned char pattern(size_t i, unsigned salt)
{
    return (unsigned char)((i * 131u + salt * 7u + (i >> 12)) & 0xFF);
}

static void fill(unsigned char *p, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(i, salt);
}

static size_t first_diff(const unsigned char *p, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(i, salt))
            return i;
    return n;
}

/* Whether the page cache holds the page at addr dirty: 1 or 0, or -1 where
 * the kernel does not say (its frame number and /proc/kpageflags need
 * CAP_SYS_ADMIN). */
static int page_dirty(const void *addr)
{
    int pm = open("/proc/self/pagemap", O_RDONLY), kf = open("/proc/kpageflags", O_RDONLY);
    int out = -1;
    uint64_t e, flags;
    if (pm >= 0 && kf >= 0 &&
        pread(pm, &e, 8, (off_t)((uintptr_t)addr / PG * 8)) == 8 && (e >> 63) &&
        (e & ((1ull << 55) - 1)) &&
        pread(kf, &flags, 8, (off_t)((e & ((1ull << 55) - 1)) * 8)) == 8)
        out = (flags >> 4) & 1; /* KPF_DIRTY */
    if (pm >= 0)
        close(pm);
    if (kf >= 0)
        close(kf);
    return out;
}

#define FSIZE (5 * GRAN + 1234)

Test(section_persist, existing_bytes_appear_in_a_view)
{
    static unsigned char buf[FSIZE];
    fill(buf, FSIZE, 1);
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("in"));
    put_file(path, buf, FSIZE);
    HANDLE f = open_file(path, GENERIC_READ, OPEN_EXISTING);
    HANDLE s = make_section(f, PAGE_READONLY, 0, NULL);
    unsigned char *v = map_view(s, FILE_MAP_READ, 0, 0);
    cr_assert_eq(first_diff(v, FSIZE, 1), FSIZE, "the view shows the file");
    for (size_t i = FSIZE; i < round_up(FSIZE, PG); i++)
        cr_assert_eq(v[i], 0, "past the end of the file, its last page reads zeros");
    /* a view from an offset shows the file from there */
    unsigned char *w = map_view(s, FILE_MAP_READ, 2 * GRAN, GRAN);
    cr_assert_eq(memcmp(w, buf + 2 * GRAN, GRAN), 0);
    assert_ok(UnmapViewOfFile(w));
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(f));
}

Test(section_persist, flush_puts_the_bytes_in_the_file)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("flush"));
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_ALWAYS);
    HANDLE s = make_section(f, PAGE_READWRITE, FSIZE, NULL);
    cr_assert_eq(file_bytes(path), FSIZE, "the section grew the empty file");
    unsigned char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    fill(v, FSIZE, 2);
    int dirty = page_dirty(v + GRAN);
    assert_ok(FlushViewOfFile(v, 0));
    if (dirty >= 0) {
        cr_assert_eq(dirty, 1, "written: dirty in the page cache before the flush");
        cr_assert_eq(page_dirty(v + GRAN), 0, "written back by FlushViewOfFile");
    }
    static unsigned char back[FSIZE];
    cr_assert_eq(get_file(path, back, FSIZE), FSIZE);
    cr_assert_eq(first_diff(back, FSIZE, 2), FSIZE);

    /* a part: only what it names needs to be written */
    v[3 * GRAN + 5] ^= 0xFF;
    v[10] ^= 0xFF;
    assert_ok(FlushViewOfFile(v + 3 * GRAN + 5, 1));
    if (dirty >= 0)
        cr_assert_eq(page_dirty(v + 3 * GRAN), 0);
    v[3 * GRAN + 5] ^= 0xFF;
    v[10] ^= 0xFF;
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(f));
    cr_assert_eq(get_file(path, back, FSIZE), FSIZE);
    cr_assert_eq(first_diff(back, FSIZE, 2), FSIZE, "after unmap and close");
    if (dirty < 0)
        cr_log_warn("page-cache dirtiness not visible (needs CAP_SYS_ADMIN): checked the "
                    "contents only");
}

Test(section_persist, after_unmap_and_close)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("close"));
    static unsigned char buf[FSIZE];
    fill(buf, FSIZE, 3);
    put_file(path, buf, FSIZE);
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING);
    HANDLE s = make_section(f, PAGE_READWRITE, 0, NULL);
    assert_ok(CloseHandle(f)); /* the section keeps the file */
    unsigned char *v = map_view(s, FILE_MAP_ALL_ACCESS, GRAN, 0);
    fill(v, FSIZE - GRAN, 4);
    assert_ok(CloseHandle(s));
    assert_ok(UnmapViewOfFile(v));
    static unsigned char back[FSIZE];
    cr_assert_eq(get_file(path, back, FSIZE), FSIZE, "the file keeps its size");
    cr_assert_eq(first_diff(back, GRAN, 3), GRAN, "the bytes before the view unchanged");
    cr_assert_eq(first_diff(back + GRAN, FSIZE - GRAN, 4), FSIZE - GRAN, "the view's bytes");

    /* and a new section of the file shows them */
    f = open_file(path, GENERIC_READ, OPEN_EXISTING);
    s = make_section(f, PAGE_READONLY, 0, NULL);
    v = map_view(s, FILE_MAP_READ, GRAN, 0);
    cr_assert_eq(first_diff(v, FSIZE - GRAN, 4), FSIZE - GRAN);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(f));
}

Test(section_persist, two_sections_of_one_file)
{
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("two"));
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_ALWAYS);
    HANDLE a = make_section(f, PAGE_READWRITE, GRAN, NULL);
    HANDLE b = make_section(f, PAGE_READONLY, 0, NULL);
    char *va = map_view(a, FILE_MAP_WRITE, 0, 0), *vb = map_view(b, FILE_MAP_READ, 0, 0);
    strcpy(va + 100, "one file");
    cr_assert_str_eq(vb + 100, "one file");
    assert_ok(UnmapViewOfFile(va));
    assert_ok(UnmapViewOfFile(vb));
    assert_ok(CloseHandle(a));
    assert_ok(CloseHandle(b));
    assert_ok(CloseHandle(f));
}

Test(section_persist, flush_arguments)
{
    assert_fails(ERROR_INVALID_ADDRESS, FlushViewOfFile(NULL, 0));
    char *p = alloc_committed(PG, PAGE_READWRITE);
    assert_fails(ERROR_INVALID_ADDRESS, FlushViewOfFile(p, PG));
    release(p);
    /* a page-file view has no file: nothing to do */
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PG, NULL);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    v[0] = 1;
    assert_ok(FlushViewOfFile(v, 0));
    assert_ok(FlushViewOfFile(v, 100 * PG)); /* past the view: to its end */
    assert_ok(UnmapViewOfFile(v));
    assert_fails(ERROR_INVALID_ADDRESS, FlushViewOfFile(v, 0));
    assert_ok(CloseHandle(s));
}

Test(section_persist, truncated_file_raises_a_catchable_sigbus)
{
    /* Someone else truncates the file under a view: the page past the end
     * raises SIGBUS (BUS_ADRERR), which reaches the program's handler in
     * every fault mode, and the rest of the view keeps working. */
    catch_sigbus(); /* before the runtime starts: libvmem's handler chains to it */
    char path[192];
    snprintf(path, sizeof path, "%s", scratch_path("trunc"));
    static char buf[2 * PG];
    memset(buf, 'k', sizeof buf);
    put_file(path, buf, sizeof buf);
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING);
    HANDLE s = make_section(f, PAGE_READWRITE, 0, NULL);
    uint64_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    cr_assert_eq(truncate(path, PG), 0);
    uint64_t w;
    cr_assert(read_faults(v + PG / 8, &w), "the page past the end of the file");
    cr_assert_eq(got_code, BUS_ADRERR);
    cr_assert(write_faults(v + PG / 8, 1));
    cr_assert_eq(read_faults(v, &w), 0);
    cr_assert_eq(w, 0x6b6b6b6b6b6b6b6bull, "the first page is still the file's");
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(f));
}
