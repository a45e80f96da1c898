/*
 * test_section_diskfull.c -- a file section that grows its file on a full
 * file system: CreateFileMappingA reserves the blocks of the growth, so it
 * fails with ERROR_DISK_FULL and leaves the file's size as it was when they
 * are not there, and a section it made can be written through whole even
 * once the file system has filled up (no SIGBUS).  The file system is a
 * small tmpfs mounted for the test; without the right to mount, the tests
 * skip.
 */
#include <memoryapi.h>

#include "section_util.h"

#include <sched.h>
#include <sys/mount.h>

#define FS_BYTES (1u << 20)

static char mnt[64];

/* A 1 MiB tmpfs at a fresh directory, or a skip with the reason.  The
 * test process mounts it in a mount namespace of its own when it can, so
 * the mount goes with the process even if the test crashes. */
static void mount_small_fs(void)
{
    snprintf(mnt, sizeof mnt, "/tmp/vmem-secfull-XXXXXX");
    cr_assert_not_null(mkdtemp(mnt), "mkdtemp: %s", strerror(errno));
    if (unshare(CLONE_NEWNS) == 0)
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0) {
        int e = errno;
        rmdir(mnt);
        mnt[0] = 0;
        cr_skip_test("cannot mount a small tmpfs (%s): needs CAP_SYS_ADMIN", strerror(e));
    }
}

static void unmount_small_fs(void)
{
    if (!mnt[0])
        return;
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
    mnt[0] = 0;
}

static const char *small_path(const char *leaf)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", mnt, leaf);
    return path;
}

/* Fills the file system with a file of its own: writes until ENOSPC. */
static void fill_fs(void)
{
    int fd = open(small_path("filler"), O_CREAT | O_EXCL | O_WRONLY, 0600);
    cr_assert_geq(fd, 0, "open: %s", strerror(errno));
    static char block[4096];
    memset(block, 'f', sizeof block);
    ssize_t n;
    while ((n = write(fd, block, sizeof block)) > 0)
        ;
    cr_assert_eq(errno, ENOSPC, "filling: %s", strerror(errno));
    close(fd);
}

TestSuite(section_diskfull, .init = mount_small_fs, .fini = unmount_small_fs);

Test(section_diskfull, growth_beyond_the_space_fails_and_keeps_the_size)
{
    char path[128];
    snprintf(path, sizeof path, "%s", small_path("grow"));
    put_file(path, "twelve bytes", 12);
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING);
    /* four times the file system */
    assert_null_fails(ERROR_DISK_FULL,
                      CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 4 * FS_BYTES, NULL));
    cr_assert_eq(file_bytes(path), 12, "the file's size changed");
    char buf[16] = "";
    cr_assert_eq(get_file(path, buf, sizeof buf), 12);
    cr_assert_eq(memcmp(buf, "twelve bytes", 12), 0);
    /* and nothing of the space is kept: a section that fits is made */
    HANDLE s = make_section(f, PAGE_READWRITE, FS_BYTES / 2, NULL);
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(f));
}

Test(section_diskfull, a_grown_file_is_written_whole_on_a_full_fs)
{
    char path[128];
    snprintf(path, sizeof path, "%s", small_path("reserved"));
    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_NEW);
    HANDLE s = make_section(f, PAGE_READWRITE, FS_BYTES / 2, NULL);
    cr_assert_eq(file_bytes(path), FS_BYTES / 2);
    fill_fs();
    /* every page of the section has its block: no SIGBUS */
    volatile unsigned char *v = map_view(s, FILE_MAP_WRITE, 0, 0);
    for (size_t i = 0; i < FS_BYTES / 2; i += 512)
        v[i] = (unsigned char)(i / 512 + 1);
    assert_ok(FlushViewOfFile((void *)v, 0));
    assert_ok(UnmapViewOfFile((void *)v));
    assert_ok(CloseHandle(s));
    assert_ok(CloseHandle(f));
    static unsigned char back[FS_BYTES / 2];
    cr_assert_eq(get_file(path, back, sizeof back), sizeof back);
    for (size_t i = 0; i < sizeof back; i += 512)
        cr_assert_eq(back[i], (unsigned char)(i / 512 + 1), "byte %zu", i);
}
