/*
 * A forked child of a process with views of a page-file section when every
 * record of the section's table is taken (VT_RECORDS processes map it): the
 * child takes a record only when it maps a page of the section, so a child
 * that never touches the views needs none (and says nothing); one that
 * does, and finds none, still reads and writes every byte (the record only
 * lets survivors subtract its pages if it dies), and says so once a
 * process, however many sections (section/vtable.c); with a record free
 * again, the next child takes it.
 */
#include "section_util.h"

#include "section/handle.h"
#include "section/section.h"
#include "section/vtable.h"

#include <stdio.h>

static uint8_t *view;
static size_t npages;
static struct vtable *vt;

/* Touches nothing of the views. */
static int child_idle(void *arg)
{
    (void)arg;
    return vt->rec >= 0 ? 10 : 0; /* no record taken for nothing */
}

static int child_idle_any(void *arg)
{
    (void)arg;
    return 0;
}

/* Reads every page, writes one; *(int *)arg: whether it must have found a
 * record by then. */
static int child_reads(void *arg)
{
    int want_record = *(int *)arg;
    for (size_t pg = 0; pg < npages; pg++)
        if (!page_intact(view, pg, 3))
            return 20;
    fill_page(view, 1, 8); /* shared: the parent sees it */
    if (!page_intact(view, 1, 8))
        return 21;
    return (vt->rec >= 0) == want_record ? 0 : 22;
}

Test(section_records, forked_children_without_a_free_record)
{
    need_view_support();
    size_t size = 1 * MIB;
    npages = size / PG;
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, NULL);
    view = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < npages; pg++)
        fill_page(view, pg, 3);
    struct handle_obj obj;
    cr_assert_eq(handle_get((uintptr_t)s, HANDLE_SECTION, &obj), 0);
    vt = &obj.sec->vt;
    cr_assert_geq(vt->rec, 0, "the parent has no record");
    /* every free record taken, in this process's name (so never reaped) */
    int taken[VT_RECORDS] = { 0 };
    for (int r = 0; r < VT_RECORDS; r++) {
        uint32_t free_word = 0;
        taken[r] = __atomic_compare_exchange_n(&vt->owners[r], &free_word, vt->token, 0,
                                               __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
    }
    child_run(child_idle, NULL, "a child that touches no view");
    int no = 0, yes = 1;
    child_run(child_reads, &no, "a child without a record reading the view");
    cr_assert(page_intact(view, 1, 8), "the child's write is not in the parent's view");
    fill_page(view, 1, 3);
    /* one record free again: the next child takes it at its first page */
    int r0 = -1;
    for (int r = 0; r < VT_RECORDS && r0 < 0; r++)
        if (taken[r])
            r0 = r;
    cr_assert_geq(r0, 0);
    __atomic_store_n(&vt->owners[r0], 0, __ATOMIC_RELEASE);
    taken[r0] = 0;
    child_run(child_reads, &yes, "a child taking the free record");
    cr_assert(page_intact(view, 1, 8));
    for (size_t pg = 2; pg < npages; pg++)
        cr_assert(page_intact(view, pg, 3), "page %zu", pg);
    for (int r = 0; r < VT_RECORDS; r++)
        if (taken[r])
            __atomic_store_n(&vt->owners[r], 0, __ATOMIC_RELEASE);
    section_view_put(obj.sec);
    assert_ok(UnmapViewOfFile(view));
    assert_ok(CloseHandle(s));
}

/* ---- the warning: once a child that needs a record, never for one that
 * does not ---------------------------------------------------------------- */

#define SCENARIO_ENV "SECTION_RECORDS_SCENARIO"
#define WARNING      "found no free record"

/* Every free record of the section behind s taken in this process's name. */
static struct section *fill_records(HANDLE s)
{
    struct handle_obj obj;
    cr_assert_eq(handle_get((uintptr_t)s, HANDLE_SECTION, &obj), 0);
    struct vtable *t = &obj.sec->vt;
    for (int r = 0; r < VT_RECORDS; r++) {
        uint32_t free_word = 0;
        __atomic_compare_exchange_n(&t->owners[r], &free_word, t->token, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED);
    }
    return obj.sec;
}

static uint8_t *view2;

static int child_reads_both(void *arg)
{
    (void)arg;
    for (size_t pg = 0; pg < npages; pg++)
        if (!page_intact(view, pg, 3) || !page_intact(view2, pg, 4))
            return 30;
    return 0;
}

/* Run by the test below in a process of its own, its stderr a file: two
 * sections with every record taken, three children that touch neither,
 * three that read both. */
Test(section_records, scenario_of_the_warning_test)
{
    if (!getenv(SCENARIO_ENV))
        return; /* only as the test below runs it */
    size_t size = 256 * 1024;
    npages = size / PG;
    HANDLE s1 = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, NULL);
    HANDLE s2 = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, size, NULL);
    view = map_view(s1, FILE_MAP_WRITE, 0, 0);
    view2 = map_view(s2, FILE_MAP_WRITE, 0, 0);
    for (size_t pg = 0; pg < npages; pg++) {
        fill_page(view, pg, 3);
        fill_page(view2, pg, 4);
    }
    fill_records(s1);
    fill_records(s2);
    for (int i = 0; i < 3; i++)
        child_run(child_idle_any, NULL, "a child that touches no view");
    for (int i = 0; i < 3; i++)
        child_run(child_reads_both, NULL, "a child reading both views");
}

Test(section_records, warned_once_per_child_that_needs_a_record)
{
    need_view_support();
    char out[] = "/tmp/vmem-records-XXXXXX";
    int fd = mkstemp(out);
    cr_assert_geq(fd, 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fd, 2);
        /* a fresh environment: the harness's own variables are its workers' */
        static char mode[128], asan[256];
        snprintf(mode, sizeof mode, "VMEM_FAULT_MODE=%s",
                 getenv("VMEM_FAULT_MODE") ? getenv("VMEM_FAULT_MODE") : "thread");
        snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s",
                 getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "");
        char *env[] = { mode, asan, SCENARIO_ENV "=1", NULL };
        execle("/proc/self/exe", "test_section_records", "--filter",
               "section_records/scenario_of_the_warning_test", (char *)NULL, env);
        _exit(127);
    }
    int st = child_status(pid);
    FILE *f = fdopen(fd, "r");
    cr_assert_not_null(f);
    rewind(f);
    char line[1024];
    int warnings = 0;
    while (fgets(line, sizeof line, f))
        warnings += strstr(line, WARNING) != NULL;
    fclose(f);
    unlink(out);
    cr_assert_eq(st, 0, "the scenario failed (%d)", st);
    cr_assert_eq(warnings, 3, "%d warnings: want one from each of the 3 children that read "
                 "the views, none from those that touch none", warnings);
}
