/*
 * test_section_shared.c -- named page-file sections shared between
 * processes: a second program (tests/section_peer.c, fork + exec: not a
 * forked copy) opens or creates the name and sees this process's writes
 * at once, and this process sees its writes; the name lives while any
 * process holds a handle; a process killed holding a name does not leave
 * it behind for good; a section's execute right holds in the other
 * program as in this one.  And two views in one process see each other's
 * writes.  Steps are synchronised with pipes.
 */
#include <memoryapi.h>

#include "section_util.h"

#include <signal.h>

static void tell(struct peer *p, char c)
{
    cr_assert_eq(write(p->to, &c, 1), 1);
}

static void expect(struct peer *p, char c)
{
    char got = 0;
    ssize_t n = read(p->from, &got, 1);
    if (n != 1) {
        int st = child_status(p->pid);
        cr_assert_fail("the peer hung up before step %c (exit %d)", c, st);
    }
    cr_assert_eq(got, c);
}

static void peer_done(struct peer *p)
{
    close(p->to);
    close(p->from);
    child_assert_ok(p->pid, "section_peer");
}

Test(section_shared, two_views_in_one_process)
{
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 4 * GRAN, NULL);
    volatile uint64_t *a = map_view(s, FILE_MAP_WRITE, 0, 0);
    volatile uint64_t *b = map_view(s, FILE_MAP_WRITE, GRAN, 0);
    cr_assert_neq((void *)a, (void *)b);
    for (uint64_t i = 0; i < 3 * GRAN / 8; i++) {
        a[GRAN / 8 + i] = i * 3 + 1;
        cr_assert_eq(b[i], i * 3 + 1, "word %llu", (unsigned long long)i);
    }
    b[17] = 99;
    cr_assert_eq(a[GRAN / 8 + 17], 99);
    assert_ok(UnmapViewOfFile((void *)a));
    assert_ok(UnmapViewOfFile((void *)b));
    assert_ok(CloseHandle(s));
}

Test(section_shared, another_program_sees_the_writes)
{
    const char *name = unique_name("exchange");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, GRAN, name);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    strcpy(v, "from the test");
    /* the peer names it with the other prefix: one namespace */
    char global[128];
    snprintf(global, sizeof global, "Global\\%s", name + 6);
    struct peer p = peer_start("exchange", global);
    expect(&p, 'A');
    cr_assert_str_eq(v + 4096, "from the peer");
    strcpy(v + 8192, "second write");
    tell(&p, 'B');
    expect(&p, 'C');
    peer_done(&p);
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    assert_null_fails(ERROR_FILE_NOT_FOUND, OpenFileMappingA(FILE_MAP_READ, FALSE, name));
}

Test(section_shared, create_in_another_program_returns_it)
{
    const char *name = unique_name("create");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, GRAN, name);
    char *v = map_view(s, FILE_MAP_READ, 0, 0);
    strcpy(map_view(s, FILE_MAP_WRITE, 0, 0), "from the test");
    struct peer p = peer_start("create", name);
    expect(&p, 'A');
    cr_assert_eq(v[GRAN - 1], 'z', "the peer's write, seen at once");
    tell(&p, 'B');
    peer_done(&p);
    /* the peer exited holding its handle: the name is still ours */
    HANDLE o = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    cr_assert_not_null(o, "error %u", (unsigned)GetLastError());
    assert_ok(CloseHandle(o));
    assert_ok(CloseHandle(s));
    assert_null_fails(ERROR_FILE_NOT_FOUND, OpenFileMappingA(FILE_MAP_READ, FALSE, name));
}

Test(section_shared, name_lives_while_any_process_holds_it)
{
    const char *name = unique_name("hold");
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, GRAN, name);
    char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    strcpy(v, "kept");
    struct peer p = peer_start("hold", name);
    expect(&p, 'A');
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s)); /* the peer still holds it */
    tell(&p, 'B');
    expect(&p, 'C');
    peer_done(&p);
    assert_null_fails(ERROR_FILE_NOT_FOUND, OpenFileMappingA(FILE_MAP_READ, FALSE, name));
}

Test(section_shared, a_killed_holder_leaves_no_name)
{
    const char *name = unique_name("crash");
    struct peer p = peer_start("crash", name);
    expect(&p, 'A');
    /* the peer holds it: visible */
    HANDLE o = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    cr_assert_not_null(o, "error %u", (unsigned)GetLastError());
    char *v = map_view(o, FILE_MAP_READ, 0, 0);
    cr_assert_str_eq(v, "left behind");
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(o));
    kill(p.pid, SIGKILL);
    cr_assert_eq(child_status(p.pid), 128 + SIGKILL);
    close(p.to);
    close(p.from);
    /* its name is stale now: gone to an open, and a create makes it anew */
    assert_null_fails(ERROR_FILE_NOT_FOUND, OpenFileMappingA(FILE_MAP_READ, FALSE, name));
    SetLastError(1234);
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, GRAN, name);
    cr_assert_eq(GetLastError(), ERROR_SUCCESS, "a new section, not the dead one's");
    v = map_view(s, FILE_MAP_READ, 0, 0);
    cr_assert_eq(v[0], 0, "zeros, not what the dead process left");
    assert_ok(UnmapViewOfFile(v));
    assert_ok(CloseHandle(s));
    /* nothing left in the shared-memory file system */
    char path[256];
    snprintf(path, sizeof path, "/dev/shm/libvmem.%u.vmem-test-%d-crash", (unsigned)getuid(),
             (int)getpid());
    cr_assert_neq(access(path, F_OK), 0, "%s is left behind", path);
}

/* The shared-memory file of unique_name(tag). */
static const char *object_path(const char *tag)
{
    static char path[256];
    snprintf(path, sizeof path, "/dev/shm/libvmem.%u.vmem-test-%d-%s", (unsigned)getuid(),
             (int)getpid(), tag);
    return path;
}

Test(section_shared, an_exit_without_close_leaves_no_name)
{
    const char *name = unique_name("exit");
    struct peer p = peer_start("exit", name);
    peer_done(&p);
    cr_assert_neq(access(object_path("exit"), F_OK), 0, "%s is left behind",
                  object_path("exit"));
}

Test(section_shared, shutdown_lets_go_of_the_names)
{
    const char *name = unique_name("shutdown");
    struct peer p = peer_start("shutdown", name);
    expect(&p, 'A');
    /* the peer still runs, its handle never closed */
    cr_assert_neq(access(object_path("shutdown"), F_OK), 0, "%s is left behind",
                  object_path("shutdown"));
    tell(&p, 'B');
    peer_done(&p);
}

/* An execute section (each of the three execute forms) opened by name in
 * another program keeps its execute right there: its execute views map
 * and run, and take the protections Windows allows an execute section. */
static void execute_right_seen(DWORD protect, const char *scenario)
{
    const char *name = unique_name(scenario);
    HANDLE s = make_section(INVALID_HANDLE_VALUE, protect, GRAN, name);
    if (protect == PAGE_EXECUTE_READWRITE) {
        unsigned char *w = map_view(s, FILE_MAP_WRITE, 0, 0);
        w[0] = 0xC3; /* x86-64 "ret" */
        assert_ok(UnmapViewOfFile(w));
    }
    struct peer p = peer_start(scenario, name);
    expect(&p, 'A');
    peer_done(&p);
    assert_ok(CloseHandle(s));
}

Test(section_shared, execute_writecopy_keeps_execute_in_another_program)
{
    execute_right_seen(PAGE_EXECUTE_WRITECOPY, "exec-ewc");
}

Test(section_shared, execute_read_keeps_execute_in_another_program)
{
    execute_right_seen(PAGE_EXECUTE_READ, "exec-er");
}

Test(section_shared, execute_readwrite_keeps_execute_in_another_program)
{
    execute_right_seen(PAGE_EXECUTE_READWRITE, "exec-erw");
}
