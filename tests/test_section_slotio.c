/*
 * test_section_slotio.c -- the I/O of a paged page-file section's slot
 * file (docs/sections.md, "Paged views"): the slot file read and written
 * through the page cache, never O_DIRECT; a view fault on a page that is
 * out bringing its out neighbours with it in one read (view_prefetched_pages);
 * a failed slot read (injected EIO) making exactly the faulting page an
 * in-page error (SIGBUS, BUS_MCEERR_AR) while its neighbours read back; and
 * failed slot writes keeping every byte in RAM; a page read back and not
 * changed leaving RAM with no write, a changed one written again.  Where
 * views are not paged (fault mode kernel, no minor faults on shared
 * memory) the tests skip with the reason.
 */
#include "section_util.h"

#include "os/uffd_minor.h"
#include "pagefile/crc32c.h"
#include "pagefile/pagefile.h"

#include <dirent.h>
#include <setjmp.h>
#include <signal.h>

#define PAGES 1024 /* 4 MiB under a 1 MiB cap: most pages go out */
#define PM_PRESENT (1ull << 63)

static void need_view_paging(void)
{
    const char *mode = getenv("VMEM_FAULT_MODE");
    if (mode && strcmp(mode, "kernel") == 0)
        cr_skip_test("fault mode kernel: views stay the kernel's (no userfaultfd)");
    int fd, e = uffd_minor_open(&fd);
    if (e)
        cr_skip_test("no minor faults on shared memory (UFFD_FEATURE_MINOR_SHMEM): %s",
                     strerror(e));
    close(fd);
    need_paging(1 * MIB);
}

/* 1 if this process maps the page at p (a page-table entry). */
static int present(const void *p)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    uint64_t e = 0;
    cr_assert_eq(pread(fd, &e, 8, (off_t)((uintptr_t)p / PG * 8)), 8);
    close(fd);
    return (e & PM_PRESENT) != 0;
}

/* A view of a fresh section with every page written (gen), then the cap
 * raised so that no trim runs any more: once a fault on a page the view
 * does not map has been served (it waits for any trim under way), every
 * page the view does not map is out in its slot file. */
static uint8_t *paged_out_view(HANDLE *s, uint64_t gen)
{
    *s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, NULL);
    uint8_t *v = map_view(*s, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < PAGES; pg++)
        fill_page(v, pg, gen);
    cr_assert_eq(vmem_set_max_resident(256 * MIB), 0);
    size_t pg = 0;
    while (pg < PAGES && present(v + pg * PG))
        pg++;
    cr_assert_lt(pg, PAGES, "no page of 4 MiB went out under a 1 MiB cap");
    cr_assert(page_intact(v, pg, gen));
    return v;
}

/* The first page from `from` that the view does not map and whose
 * neighbours on both sides it does not map either. */
static size_t out_run(const uint8_t *v, size_t from)
{
    for (size_t pg = from + 1; pg + 1 < PAGES; pg++)
        if (!present(v + (pg - 1) * PG) && !present(v + pg * PG) && !present(v + (pg + 1) * PG))
            return pg;
    cr_assert_fail("no three neighbouring pages out");
    return 0;
}

/* The directory slot files go to (section/vslot.c). */
static void slot_dir(char *out, size_t cap)
{
    const char *p = getenv("VMEM_PAGEFILE");
    struct stat st;
    if (p && p[0] && stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(out, cap, "%s", p);
    } else if (p && p[0]) {
        const char *slash = strrchr(p, '/');
        snprintf(out, cap, "%.*s", slash ? (int)(slash - p) : 1, slash ? p : ".");
        if (!out[0])
            snprintf(out, cap, "/");
    } else {
        const char *t = getenv("TMPDIR");
        snprintf(out, cap, "%s", t && t[0] ? t : "/var/tmp");
    }
}

/* Slot files go through the page cache, as main's buffered pread/pwrite
 * did: with O_DIRECT every dirty view page cost a device write (paging
 * views took 2-4 times as long).  A file system that takes O_DIRECT is
 * where the difference shows. */
Test(section_slotio, slot_file_goes_through_the_page_cache)
{
    need_view_paging();
    char dir[512];
    slot_dir(dir, sizeof dir);
    int probe = open(dir, O_TMPFILE | O_RDWR | O_DIRECT | O_CLOEXEC, 0600);
    void *pg = NULL;
    cr_assert_eq(posix_memalign(&pg, PG, PG), 0);
    memset(pg, 0, PG);
    if (probe < 0 || pwrite(probe, pg, PG, 0) != (ssize_t)PG) {
        int e = errno;
        free(pg);
        if (probe >= 0)
            close(probe);
        cr_skip_test("the slot files' directory %s takes no O_DIRECT (%s): buffered anyway",
                     dir, strerror(e));
    }
    free(pg);
    close(probe);

    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 64 * PG,
                            unique_name("buffered"));
    /* the slot file among this process's descriptors, by its name */
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    struct dirent *de;
    int found = -1;
    while ((de = readdir(d)) != NULL) {
        char link[600], path[300];
        snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = 0;
        if (strstr(link, "/libvmem-section."))
            found = atoi(de->d_name);
    }
    closedir(d);
    cr_assert_geq(found, 0, "no slot file (libvmem-section.*) open in %s", dir);
    char info[64], line[128];
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", found);
    FILE *f = fopen(info, "r");
    cr_assert_not_null(f);
    unsigned long flags = 0;
    int got = 0;
    while (fgets(line, sizeof line, f))
        got |= sscanf(line, "flags: %lo", &flags) == 1;
    fclose(f);
    cr_assert(got, "no flags in %s", info);
    cr_assert(!(flags & O_DIRECT), "the slot file in %s is O_DIRECT (flags %#lo)", dir, flags);
    assert_ok(CloseHandle(s));
}

Test(section_slotio, a_fault_brings_its_out_neighbours_in_one_read)
{
    setenv("VMEM_PREFETCH", "cluster:8", 1);
    need_view_paging();
    HANDLE s;
    uint8_t *v = paged_out_view(&s, 1);
    size_t pg = out_run(v, 0);
    uint64_t before = stats().view_prefetched_pages;
    cr_assert(page_intact(v, pg, 1));
    uint64_t after = stats().view_prefetched_pages;
    cr_assert_gt(after, before, "a fault on page %zu (out, with out neighbours) read none "
                 "of them", pg);
    /* a neighbour came in with it: the view maps it without a fault */
    cr_assert(present(v + (pg - 1) * PG) || present(v + (pg + 1) * PG),
              "page %zu's neighbours are not mapped after its fault", pg);
    for (size_t k = 0; k < PAGES; k++)
        cr_assert(page_intact(v, k, 1), "page %zu changed", k);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_slotio, a_failed_slot_read_loses_exactly_the_faulting_page)
{
    catch_sigbus();
    need_view_paging();
    HANDLE s;
    uint8_t *v = paged_out_view(&s, 2);
    size_t victim = out_run(v, 0);
    uint64_t before = stats().inpage_errors;
    pagefile_inject_errors(1, EIO);
    uint64_t w;
    volatile uint64_t *at = (volatile uint64_t *)(v + victim * PG + 8);
    int faulted = read_faults(at, &w);
    pagefile_inject_errors(0, 0);
    cr_assert(faulted, "page %zu read back though every slot read fails", victim);
    cr_assert_eq(got_code, BUS_MCEERR_AR, "si_code %d", (int)got_code);
    cr_assert_eq((uintptr_t)got_addr & ~(uintptr_t)(PG - 1), (uintptr_t)(v + victim * PG),
                 "si_addr %p, page %p", got_addr, (void *)(v + victim * PG));
    cr_assert_eq(stats().inpage_errors, before + 1);
    /* its neighbours were not lost with it: every other page reads back */
    for (size_t k = 0; k < PAGES; k++) {
        if (k == victim)
            continue;
        volatile uint64_t *p = (volatile uint64_t *)(v + k * PG);
        cr_assert(!read_faults(p, &w), "page %zu raised SIGBUS (si_code %d)", k,
                  (int)got_code);
        cr_assert(page_intact(v, k, 2), "page %zu changed", k);
    }
    /* and the lost page stays lost */
    cr_assert(read_faults(at, &w));
    cr_assert_eq(got_code, BUS_MCEERR_AR);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* A lost page stays lost for the life of its view, however many pages are
 * lost after it: each of more than a thousand lost pages (two views whose
 * every slot read fails) raises BUS_MCEERR_AR when read again, the first
 * one included. */
Test(section_slotio, every_lost_page_stays_an_inpage_error)
{
    catch_sigbus();
    need_view_paging();
    HANDLE s[2];
    uint8_t *v[2];
    v[0] = paged_out_view(&s[0], 3);
    cr_assert_eq(vmem_set_max_resident(1 * MIB), 0); /* the second one's pages go out too */
    v[1] = paged_out_view(&s[1], 4);
    static uint8_t was_lost[2][PAGES];
    size_t lost = 0;
    uint64_t w;
    pagefile_inject_errors(1, EIO);
    for (int k = 0; k < 2; k++)
        for (size_t pg = 0; pg < PAGES; pg++)
            if (!present(v[k] + pg * PG) && read_faults((volatile uint64_t *)(v[k] + pg * PG), &w)) {
                cr_assert_eq(got_code, BUS_MCEERR_AR, "view %d page %zu: si_code %d", k, pg,
                             (int)got_code);
                was_lost[k][pg] = 1;
                lost++;
            }
    pagefile_inject_errors(0, 0);
    cr_assert_gt(lost, 1100, "only %zu pages lost: too few to tell", lost);
    for (int k = 0; k < 2; k++)
        for (size_t pg = 0; pg < PAGES; pg++) {
            volatile uint64_t *p = (volatile uint64_t *)(v[k] + pg * PG);
            if (!was_lost[k][pg]) {
                cr_assert(page_intact(v[k], pg, 3 + (uint64_t)k), "view %d page %zu changed", k,
                          pg);
                continue;
            }
            cr_assert(read_faults(p, &w), "view %d page %zu, lost, read back", k, pg);
            cr_assert_eq(got_code, BUS_MCEERR_AR, "view %d page %zu, lost %zu pages ago: "
                         "si_code %d", k, pg, lost, (int)got_code);
        }
    for (int k = 0; k < 2; k++) {
        assert_ok(UnmapViewOfFile(v[k]));
        assert_ok(CloseHandle(s[k]));
    }
}

/* A page lost in the parent is the parent's: a child forked afterwards
 * reads it from its slot (the child's views are registered afresh, with
 * no page-table entries, the poisoned one included). */
Test(section_slotio, a_forked_child_reads_a_page_its_parent_lost)
{
    catch_sigbus();
    need_view_paging();
    HANDLE s;
    uint8_t *v = paged_out_view(&s, 5);
    size_t victim = out_run(v, 0);
    uint64_t w;
    volatile uint64_t *at = (volatile uint64_t *)(v + victim * PG + 8);
    pagefile_inject_errors(1, EIO);
    int faulted = read_faults(at, &w);
    pagefile_inject_errors(0, 0);
    cr_assert(faulted && got_code == BUS_MCEERR_AR, "page %zu not lost (si_code %d)", victim,
              (int)got_code);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (read_faults(at, &w))
            _exit(got_code == BUS_MCEERR_AR ? 10 : 11);
        _exit(page_intact(v, victim, 5) ? 0 : 12);
    }
    int st = child_status(pid);
    cr_assert_eq(st, 0, "the child's read of page %zu: %s", victim,
                 st == 10 ? "SIGBUS, BUS_MCEERR_AR" : st == 11 ? "SIGBUS, another si_code" :
                 st == 12 ? "wrong data" : "the child failed");
    /* and the parent's stays lost */
    cr_assert(read_faults(at, &w));
    cr_assert_eq(got_code, BUS_MCEERR_AR);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* A slot read that fails once is tried again (three reads in all), as a
 * private page's is (docs/paging.md): a transient error is invisible. */
Test(section_slotio, a_slot_read_failing_once_is_tried_again)
{
    catch_sigbus();
    need_view_paging();
    HANDLE s;
    uint8_t *v = paged_out_view(&s, 2);
    uint64_t before = stats().inpage_errors;
    pagefile_inject_errors(2, EIO); /* every other slot I/O fails */
    uint64_t w;
    size_t lost = 0;
    for (size_t k = 0; k < PAGES; k++)
        lost += read_faults((volatile uint64_t *)(v + k * PG), &w);
    pagefile_inject_errors(0, 0);
    cr_assert_eq(lost, 0, "%zu pages raised SIGBUS (si_code %d)", lost, (int)got_code);
    cr_assert_eq(stats().inpage_errors, before);
    for (size_t k = 0; k < PAGES; k++)
        cr_assert(page_intact(v, k, 2), "page %zu changed", k);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

Test(section_slotio, failed_slot_writes_keep_every_byte)
{
    need_view_paging();
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, PAGES * PG, NULL);
    uint8_t *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    uint64_t errors = stats().write_errors;
    pagefile_inject_errors(1, EIO);
    for (size_t pg = 0; pg < PAGES; pg++)
        fill_page(v, pg, 3);
    pagefile_inject_errors(0, 0);
    cr_assert_gt(stats().write_errors, errors, "no slot write was made (and failed)");
    for (size_t pg = 0; pg < PAGES; pg++)
        cr_assert(page_intact(v, pg, 3), "page %zu changed after its write-out failed", pg);
    /* writes work again: the pages go out and come back */
    for (int pass = 0; pass < 2; pass++)
        for (size_t pg = 0; pg < PAGES; pg++)
            cr_assert(page_intact(v, pg, 3), "page %zu changed", pg);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* Every page of the view read (checked against gen) in order: under a
 * 1 MiB cap, each leaves RAM again for the pages after it. */
static void sweep(const uint8_t *v, size_t n, const uint64_t *gen)
{
    for (size_t k = 0; k < n; k++)
        cr_assert(page_intact(v, k, gen[k]), "page %zu did not read back", k);
}

/* A nonzero 8-byte change d of a page's first word that keeps its crc32c:
 * the crc is affine in the data, so a page's crc is unchanged by any x
 * with crc(x . 0...) == crc(0...), found by elimination over the 64 bits. */
static uint64_t crc_keeping_change(void)
{
    static uint8_t t[PG];
    memset(t, 0, PG);
    uint32_t c0 = crc32c(t, PG), v[64];
    uint64_t m[64];
    for (int i = 0; i < 64; i++) {
        uint64_t bit = 1ull << i;
        memcpy(t, &bit, 8);
        v[i] = crc32c(t, PG) ^ c0;
        m[i] = bit;
    }
    /* 64 vectors in a space of 32 bits: some nonzero sum of them is 0 */
    for (int col = 31, row = 0; col >= 0 && row < 64; col--) {
        int piv = -1;
        for (int i = row; i < 64 && piv < 0; i++)
            if (v[i] >> col & 1)
                piv = i;
        if (piv < 0)
            continue;
        uint32_t tv = v[piv]; v[piv] = v[row]; v[row] = tv;
        uint64_t tm = m[piv]; m[piv] = m[row]; m[row] = tm;
        for (int i = 0; i < 64; i++)
            if (i != row && (v[i] >> col & 1)) {
                v[i] ^= v[row];
                m[i] ^= m[row];
            }
        row++;
    }
    for (int i = 0; i < 64; i++)
        if (v[i] == 0 && m[i])
            return m[i];
    cr_assert_fail("no change keeps the crc");
    return 0;
}

/* A page read back from its slot, then changed in a way that keeps its
 * crc32c, goes to its slot again: equal checksums never stand for equal
 * contents (a write-out that trusted them dropped every such change). */
Test(section_slotio, a_change_that_keeps_the_crc_is_written_out)
{
    need_view_paging();
    uint64_t d = crc_keeping_change();
    HANDLE s;
    uint8_t *v = paged_out_view(&s, 1);
    static uint64_t gen[PAGES];
    for (size_t k = 0; k < PAGES; k++)
        gen[k] = 1;
    cr_assert_eq(vmem_set_max_resident(1 * MIB), 0);
    sweep(v, PAGES, gen); /* every page out once at least: its slot holds it */
    for (size_t k = 0; k < PAGES; k += 4) {
        uint64_t w;
        memcpy(&w, v + k * PG, 8);
        uint32_t before = crc32c(v + k * PG, PG);
        w ^= d;
        memcpy(v + k * PG, &w, 8);
        cr_assert_eq(crc32c(v + k * PG, PG), before);
    }
    /* a pass over 4 MiB under a 1 MiB cap: every changed page leaves RAM
     * (then the check below brings each back) */
    for (size_t k = 0; k < PAGES; k++)
        (void)*(volatile const uint8_t *)(v + k * PG + 8);
    size_t stale = 0;
    for (size_t k = 0; k < PAGES; k++) {
        uint64_t w;
        memcpy(&w, v + k * PG, 8);
        uint64_t expect = page_word(k, 0, 1) ^ (k % 4 == 0 ? d : 0);
        if (w != expect)
            stale++;
        for (size_t j = 1; j < PG / 8; j++)
            cr_assert_eq(((const uint64_t *)(v + k * PG))[j], page_word(k, j, 1), "page %zu", k);
    }
    cr_assert_eq(stale, 0, "%zu of %d changed pages read back their old content", stale,
                 PAGES / 4);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
}

/* Another file of the same user put at a named section's slot-file path
 * (the section's own renamed away), a symbolic link put there, or the slot
 * file removed: a process that opens the name must not take whatever is
 * there as the section's pages (every page it held would be an in-page
 * error, and write-outs would go into a foreign file).  The table records
 * the slot file's device and inode: the open fails cleanly, with
 * ERROR_FILE_INVALID. */
static void slot_file_changed(const char *how)
{
    need_view_paging();
    const char *name = unique_name(how);
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 64 * PG, name);
    char path[600] = "";
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char fdp[300];
        snprintf(fdp, sizeof fdp, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(fdp, path, sizeof path - 1);
        if (n > 0 && (path[n] = 0, strstr(path, "/libvmem-section.") && !strstr(path, "(deleted)")))
            break;
        path[0] = 0;
    }
    closedir(d);
    cr_assert(path[0], "no slot file (libvmem-section.*) open");
    char orig[640];
    snprintf(orig, sizeof orig, "%s.orig", path);
    cr_assert_eq(rename(path, orig), 0, "rename %s: %s", path, strerror(errno));
    if (strcmp(how, "impostor") == 0) {
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
        static uint8_t junk[64 * PG];
        memset(junk, 0x5a, sizeof junk);
        cr_assert_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
        close(fd);
    } else if (strcmp(how, "symlink") == 0) {
        cr_assert_eq(symlink(orig, path), 0, "symlink: %s", strerror(errno));
    } /* else removed: nothing at the path */

    struct peer p = peer_start("open-invalid", name);
    int st = 0;
    cr_assert_eq(waitpid(p.pid, &st, 0), p.pid);
    close(p.to);
    close(p.from);
    unlink(path);
    cr_assert_eq(rename(orig, path), 0); /* the section's, for its last close */
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: the peer: status %#x", how, st);
    assert_ok(CloseHandle(s));
    cr_assert(access(path, F_OK) != 0, "%s: the slot file was left at the last close", how);
}

Test(section_slotio, a_replaced_slot_file_is_refused_at_open) { slot_file_changed("impostor"); }
Test(section_slotio, a_removed_slot_file_is_refused_at_open) { slot_file_changed("removed"); }
Test(section_slotio, a_slot_file_link_is_refused_at_open) { slot_file_changed("symlink"); }
