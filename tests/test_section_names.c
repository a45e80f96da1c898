/*
 * test_section_names.c -- the names of page-file sections against other
 * users and stuck processes: an object at one of this user's names that is
 * not its own (another owner, group or other access, a symlink) is refused
 * with ERROR_ACCESS_DENIED, never mapped and never removed; the registry
 * lock of the names held elsewhere makes a named create fail with
 * ERROR_TIMEOUT instead of hanging, and leaves unnamed sections alone; a
 * section may be called "registry".  Runs alone (tests/meson.build): it
 * holds the registry lock.
 */
#include <memoryapi.h>

#include "section_util.h"

#include <sys/file.h>

/* The shared-memory file of a plain name made by unique_name. */
static const char *object_path(const char *win)
{
    static char path[192];
    snprintf(path, sizeof path, "/dev/shm/libvmem.%u.%s", (unsigned)getuid(), win + 6);
    return path;
}

/* A file at path, as another user could make it: 64 KiB holding "secret",
 * held with a shared flock as a user of the name would.  Returns its fd. */
static int squat(const char *path, unsigned mode)
{
    unlink(path);
    int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(ftruncate(fd, 65536), 0);
    cr_assert_eq(pwrite(fd, "secret", 6, 0), 6);
    cr_assert_eq(fchmod(fd, (mode_t)mode), 0);
    cr_assert_eq(flock(fd, LOCK_SH), 0);
    return fd;
}

/* Both calls on name fail with ERROR_ACCESS_DENIED and the file at path
 * stays, unchanged. */
static void assert_refused(const char *name, const char *path)
{
    assert_null_fails(ERROR_ACCESS_DENIED,
                      CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, name));
    assert_null_fails(ERROR_ACCESS_DENIED, OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name));
    char buf[8] = "";
    cr_assert_eq(get_file(path, buf, 6), 6, "the object was removed");
    cr_assert_eq(memcmp(buf, "secret", 6), 0);
}

Test(section_names, group_or_other_access_is_refused)
{
    const char *name = unique_name("mode");
    const char *path = object_path(name);
    int fd = squat(path, 0666);
    assert_refused(name, path);
    close(fd);
    /* not even once nobody holds it: it is not a stale object of ours */
    assert_refused(name, path);
    cr_assert_eq(unlink(path), 0);
}

Test(section_names, another_owner_is_refused)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to give a file to another user");
    const char *name = unique_name("owner");
    const char *path = object_path(name);
    int fd = squat(path, 0600);
    cr_assert_eq(fchown(fd, 65534, 65534), 0);
    assert_refused(name, path);
    close(fd);
    assert_refused(name, path);
    cr_assert_eq(unlink(path), 0);
}

Test(section_names, a_symlink_is_refused_and_not_followed)
{
    const char *target = scratch_path("target");
    put_file(target, "secret", 6);
    const char *name = unique_name("link");
    char path[192];
    snprintf(path, sizeof path, "%s", object_path(name));
    unlink(path);
    cr_assert_eq(symlink(target, path), 0, "symlink: %s", strerror(errno));
    assert_refused(name, path);
    cr_assert_eq(file_bytes(target), 6, "the link's target was changed");
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the symlink was replaced");
    cr_assert_eq(unlink(path), 0);
    scratch_done();
}

Test(section_names, held_registry_fails_in_bounded_time)
{
    char path[96];
    snprintf(path, sizeof path, "/dev/shm/libvmem.%u!registry", (unsigned)getuid());
    int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    const char *name = unique_name("reg");
    assert_null_fails(ERROR_TIMEOUT,
                      CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, name));
    /* unnamed sections never touch the registry */
    HANDLE u = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 65536, NULL);
    char *p = map_view(u, FILE_MAP_WRITE, 0, 65536);
    p[1] = 7;
    cr_assert_eq(p[1], 7);
    cr_assert(UnmapViewOfFile(p));
    cr_assert(CloseHandle(u));
    close(fd);
    /* and the name works once the lock is free */
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 65536, name);
    cr_assert_eq(GetLastError(), ERROR_SUCCESS);
    cr_assert(CloseHandle(s));
}

Test(section_names, a_section_may_be_called_registry)
{
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 65536, "Local\\registry");
    char *p = map_view(s, FILE_MAP_WRITE, 0, 65536);
    p[100] = 'r';
    HANDLE o = OpenFileMappingA(FILE_MAP_READ, FALSE, "Local\\registry");
    cr_assert_not_null(o, "OpenFileMappingA: error %u", (unsigned)GetLastError());
    char *q = map_view(o, FILE_MAP_READ, 0, 65536);
    cr_assert_eq(q[100], 'r');
    cr_assert(UnmapViewOfFile(q));
    cr_assert(UnmapViewOfFile(p));
    cr_assert(CloseHandle(o));
    cr_assert(CloseHandle(s));
}
