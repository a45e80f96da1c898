/*
 * section_util.h -- what the tests of sections (tests/test_section_*.c)
 * share: a scratch directory and file paths in it, names unique to the test
 * process (the fault modes' runs go in parallel), files written and read
 * back with plain system calls (never through libvmem), and Win32 calls
 * that must succeed.  Header only: each test file is one program.
 */
#ifndef VMEM_TEST_SECTION_UTIL_H
#define VMEM_TEST_SECTION_UTIL_H

#include "helpers.h"
#include "os/uffd_minor.h"

#include <fcntl.h>
#include <memoryapi.h>
#include <sys/stat.h>

/* A fresh directory of this test process under /tmp, removed with
 * scratch_done. */
static char scratch_dir[64];

static inline const char *scratch_path(const char *leaf)
{
    static char path[192];
    if (!scratch_dir[0]) {
        snprintf(scratch_dir, sizeof scratch_dir, "/tmp/vmem-section-XXXXXX");
        cr_assert_not_null(mkdtemp(scratch_dir), "mkdtemp: %s", strerror(errno));
    }
    snprintf(path, sizeof path, "%s/%s", scratch_dir, leaf);
    return path;
}

static inline void scratch_done(void)
{
    if (!scratch_dir[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch_dir);
    cr_assert_eq(system(cmd), 0);
    scratch_dir[0] = 0;
}

/* "Local\vmem-test-<pid>-<tag>": a section name no other run uses. */
static inline const char *unique_name(const char *tag)
{
    static char name[96];
    snprintf(name, sizeof name, "Local\\vmem-test-%d-%s", (int)getpid(), tag);
    return name;
}

/* Writes n bytes of data to a new file at path (plain system calls). */
static inline void put_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, data, n), (ssize_t)n);
    cr_assert_eq(close(fd), 0);
}

/* Reads up to n bytes of the file at path into buf; returns the count. */
static inline size_t get_file(const char *path, void *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    ssize_t got = read(fd, buf, n);
    cr_assert_geq(got, 0);
    close(fd);
    return (size_t)got;
}

static inline off_t file_bytes(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
    return st.st_size;
}

/* CreateFileA, which must succeed. */
static inline HANDLE open_file(const char *path, DWORD access, DWORD disposition)
{
    HANDLE h = CreateFileA(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, disposition,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    cr_assert_neq(h, INVALID_HANDLE_VALUE, "CreateFileA(%s): error %u", path,
                  (unsigned)GetLastError());
    return h;
}

/* CreateFileMappingA, which must succeed. */
static inline HANDLE make_section(HANDLE file, DWORD protect, uint64_t size, const char *name)
{
    HANDLE h = CreateFileMappingA(file, NULL, protect, (DWORD)(size >> 32), (DWORD)size, name);
    cr_assert_not_null(h, "CreateFileMappingA(%#x, %#llx, %s): error %u", (unsigned)protect,
                       (unsigned long long)size, name ? name : "unnamed",
                       (unsigned)GetLastError());
    return h;
}

/* MapViewOfFile, which must succeed. */
static inline void *map_view(HANDLE s, DWORD access, uint64_t offset, size_t size)
{
    void *p = MapViewOfFile(s, access, (DWORD)(offset >> 32), (DWORD)offset, size);
    cr_assert_not_null(p, "MapViewOfFile(%#x, %#llx, %#zx): error %u", (unsigned)access,
                       (unsigned long long)offset, size, (unsigned)GetLastError());
    return p;
}

/* `call` (a pointer or handle) must be NULL with exactly this last error. */
#define assert_null_fails(err, call)                                                \
    do {                                                                            \
        SetLastError(0);                                                            \
        void *r_ = (void *)(call);                                                  \
        DWORD e_ = GetLastError();                                                  \
        cr_assert_null(r_, "%s should fail", #call);                                \
        cr_assert_eq(e_, (DWORD)(err), "%s: GetLastError %u, want %u", #call,       \
                     (unsigned)e_, (unsigned)(err));                                \
    } while (0)

/* Whether a read of p faults (SIGSEGV or SIGBUS), tried in a forked child so
 * nothing of this process changes. */
static inline int read_faults_in_child(const volatile char *p)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        (void)*p;
        _exit(0);
    }
    int st = child_status(pid);
    return st == 128 + SIGSEGV || st == 128 + SIGBUS;
}

/* Skips the test where views cannot be paged: no minor faults on shared
 * memory (UFFD_FEATURE_MINOR_SHMEM). */
static inline void need_minor_faults(void)
{
    int fd, e = uffd_minor_open(&fd);
    if (e)
        cr_skip_test("no minor faults on shared memory (UFFD_FEATURE_MINOR_SHMEM): %s",
                     strerror(e));
    close(fd);
}

/* ...nor in fault mode kernel, where views stay the kernel's. */
static inline void need_view_support(void)
{
    const char *mode = getenv("VMEM_FAULT_MODE");
    if (mode && strcmp(mode, "kernel") == 0)
        cr_skip_test("fault mode kernel: views stay the kernel's (no userfaultfd)");
    need_minor_faults();
}

/* A peer process (tests/section_peer.c, fork + exec) running `scenario`
 * on the section `name`, and the pipes to talk to it. */
struct peer {
    pid_t pid;
    int to, from; /* pipe ends: to the peer, from the peer */
};

static inline struct peer peer_start(const char *scenario, const char *name)
{
    const char *exe = getenv("SECTION_PEER");
    if (!exe)
        cr_skip_test("SECTION_PEER is not set (run the test through meson)");
    int down[2], up[2];
    cr_assert_eq(pipe(down), 0);
    cr_assert_eq(pipe(up), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char r[16], w[16];
        snprintf(r, sizeof r, "%d", down[0]);
        snprintf(w, sizeof w, "%d", up[1]);
        close(down[1]);
        close(up[0]);
        execl(exe, exe, scenario, name, r, w, (char *)NULL);
        _exit(127);
    }
    close(down[0]);
    close(up[1]);
    return (struct peer){ pid, down[1], up[0] };
}

#endif
