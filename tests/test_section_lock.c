/*
 * test_section_lock.c -- the page-entry locks of paged section views
 * (section/vtable.h) between processes: a holder's death is seen when it is
 * an unreaped zombie and from another PID namespace, a live holder in
 * another PID namespace keeps its lock, a waiter that takes over a dead
 * holder's lock punches out a page it left half read in, a forked child
 * has a token of its own, a page another process holds stops no other
 * fault of a process; and a section's slot file is removed only if it
 * is the file libvmem made (section/vslot.h).
 */
#include "section_util.h"

#include "section/vslot.h"
#include "section/vtable.h"
#include "os/file.h"
#include "os/page.h"
#include "os/shm.h"
#include "os/uffd_minor.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NPAGES 4

static int mem_fd = -1;
static struct vtable vt;

/* A section's memory of NPAGES pages with its table mapped. */
static void table_setup(void)
{
    cr_assert_eq(os_memfd("test-vtable", &mem_fd), 0);
    uint64_t off = vt_data_off(NPAGES * PAGE_SZ);
    cr_assert_eq(ftruncate(mem_fd, (off_t)(off + NPAGES * PAGE_SZ)), 0);
    cr_assert_eq(vt_format(mem_fd, NPAGES * PAGE_SZ, "", 0), 0);
    cr_assert_eq(vt_map(mem_fd, off, NPAGES * PAGE_SZ, &vt), 0);
    cr_assert_neq(vt.token, 0);
}

static void table_teardown(void)
{
    vt_unmap(&vt);
    if (mem_fd >= 0)
        close(mem_fd);
}

TestSuite(section_lock, .init = table_setup, .fini = table_teardown);

/* In a child: a token of its own (the parent's description is shared),
 * then the lock of entry 0; a byte on `ready` once it holds it. */
static void child_take_and_wait(int ready)
{
    vt_unmap(&vt);
    if (vt_map(mem_fd, vt_data_off(NPAGES * PAGE_SZ), NPAGES * PAGE_SZ, &vt) != 0)
        _exit(3);
    vt_lock(&vt, &vt.ent[0]);
    if (write(ready, "x", 1) != 1)
        _exit(4);
    for (;;)
        pause();
}

/* Waits until child pid has died, leaving it an unreaped zombie. */
static void wait_zombie(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0, "waitid: %s",
                 strerror(errno));
    cr_assert_eq(kill(pid, 0), 0, "the child is a zombie: kill(pid, 0) still succeeds");
}

Test(section_lock, a_zombie_holders_lock_is_taken_over)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        child_take_and_wait(p[1]);
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1);
    uint32_t held = __atomic_load_n(&vt.ent[0].lock, __ATOMIC_ACQUIRE);
    cr_assert(held != 0 && held != vt.token, "the child holds the lock with its own token");
    cr_assert_eq(vt_trylock(&vt, &vt.ent[0]), EBUSY, "a live holder keeps its lock");
    kill(pid, SIGKILL);
    wait_zombie(pid);
    /* a pid test would find the zombie alive and wait for ever */
    cr_assert_eq(vt_trylock(&vt, &vt.ent[0]), 0, "the dead holder's lock is taken over");
    cr_assert_eq(vt.ent[0].lock, vt.token);
    vt_unlock(&vt.ent[0]);
    waitpid(pid, NULL, 0);
    close(p[0]);
    close(p[1]);
}

Test(section_lock, takeover_punches_a_page_left_half_read_in)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        child_take_and_wait(p[1]);
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1);
    /* as a holder killed while reading page 0 in from its slot leaves it:
     * state OUT, part of the page written to the memory */
    vt.ent[0].state = VT_OUT;
    char junk[100];
    memset(junk, 0x5a, sizeof junk);
    off_t at = (off_t)vt_data_off(NPAGES * PAGE_SZ);
    cr_assert_eq(pwrite(mem_fd, junk, sizeof junk, at), (ssize_t)sizeof junk);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cr_assert_eq(vt_trylock(&vt, &vt.ent[0]), 0);
    char back[100];
    cr_assert_eq(pread(mem_fd, back, sizeof back, at), (ssize_t)sizeof back);
    char zeros[100] = {0};
    cr_assert_eq(memcmp(back, zeros, sizeof back), 0,
                 "the half-written memory copy of an OUT page is punched out");
    cr_assert_eq(vt.ent[0].state, VT_OUT, "the slot stays the page");
    vt_unlock(&vt.ent[0]);
    close(p[0]);
    close(p[1]);
}

/* Runs fn in a grandchild that is pid 1 of a new PID namespace; its exit
 * status, or -1 (with a reason printed) where namespaces are not allowed. */
static int in_new_pidns(int (*fn)(void))
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWPID) != 0)
            _exit(100);
        pid_t g = fork();
        if (g < 0)
            _exit(101);
        if (g == 0)
            _exit(fn());
        int st;
        if (waitpid(g, &st, 0) != g)
            _exit(102);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 103);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st));
    if (WEXITSTATUS(st) == 100) {
        printf("section_lock: skipped: unshare(CLONE_NEWPID) not permitted\n");
        return -1;
    }
    return WEXITSTATUS(st);
}

/* In another PID namespace: 0 if this process's live lock is left alone. */
static int try_from_other_ns(void)
{
    if (getpid() != 1)
        return 10;
    vt_unmap(&vt);
    if (vt_map(mem_fd, vt_data_off(NPAGES * PAGE_SZ), NPAGES * PAGE_SZ, &vt) != 0)
        return 11;
    /* the holder's pid means nothing here (kill(pid, 0) finds no such
     * process): only its token tells it is alive */
    return vt_trylock(&vt, &vt.ent[1]) == EBUSY ? 0 : 12;
}

Test(section_lock, a_live_holder_in_another_pid_namespace_keeps_its_lock)
{
    vt_lock(&vt, &vt.ent[1]);
    int r = in_new_pidns(try_from_other_ns);
    vt_unlock(&vt.ent[1]);
    if (r < 0)
        cr_skip_test("unshare(CLONE_NEWPID) not permitted");
    cr_assert_eq(r, 0, "the lock was taken from its live holder (code %d)", r);
}

Test(section_lock, a_dead_holder_in_another_pid_namespace_is_seen_dead)
{
    int p[2], q[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(pipe(q), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(p[0]);
        close(q[0]);
        if (unshare(CLONE_NEWPID) != 0)
            _exit(100);
        pid_t g = fork();
        if (g == 0)
            child_take_and_wait(p[1]); /* pid 1 of the new namespace */
        close(p[1]);
        if (g < 0 || write(q[1], &g, sizeof g) != sizeof g)
            _exit(101);
        waitpid(g, NULL, 0);
        _exit(0);
    }
    close(p[1]);
    close(q[1]);
    pid_t g;
    char c;
    if (read(q[0], &g, sizeof g) != sizeof g) {
        waitpid(pid, NULL, 0);
        printf("section_lock: skipped: unshare(CLONE_NEWPID) not permitted\n");
        cr_skip_test("unshare(CLONE_NEWPID) not permitted");
    }
    cr_assert_eq(read(p[0], &c, 1), 1);
    /* its lock word under a pid lock would be 1: this namespace's init,
     * alive for ever */
    cr_assert_eq(vt_trylock(&vt, &vt.ent[0]), EBUSY);
    cr_assert_eq(kill(g, SIGKILL), 0);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
    cr_assert_eq(vt_trylock(&vt, &vt.ent[0]), 0, "the dead holder's lock is taken over");
    vt_unlock(&vt.ent[0]);
    close(p[0]);
    close(q[0]);
}

Test(section_lock, a_forked_child_has_a_token_of_its_own)
{
    uint32_t parent = vt.token;
    vt_fork_prepare();
    pid_t pid = fork();
    if (pid == 0) {
        vt_fork_child();
        uint32_t mine = vt.token;
        _exit(mine != 0 && mine != parent ? 0 : 1);
    }
    vt_fork_parent();
    cr_assert_geq(pid, 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child kept its parent's token");
}

Test(section_lock, a_file_put_at_the_slot_path_is_not_removed)
{
    char path[600];
    int fd;
    setenv("TMPDIR", "/tmp", 1);
    cr_assert_eq(vslot_create_named(path, sizeof path, &fd), 0);
    uint64_t id = os_file_id(fd);
    /* the same user's file replaces it, with the same name and mode (the
     * section's descriptor still open, as a live section's is) */
    cr_assert_eq(unlink(path), 0);
    int other = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
    cr_assert_geq(other, 0);
    cr_assert_eq(write(other, "mine", 4), 4);
    close(other);
    vslot_remove(path, id);
    close(fd);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "a file libvmem did not make was removed");
    unlink(path);
    /* and its own file is removed */
    cr_assert_eq(vslot_create_named(path, sizeof path, &fd), 0);
    id = os_file_id(fd);
    close(fd);
    vslot_remove(path, id);
    cr_assert_neq(stat(path, &st), 0, "the slot file libvmem made stays");
}

/* ---- a page another process holds stops no other fault -------------------- */

static volatile uint8_t *held_view;
static volatile pid_t reader_tid;
static volatile int reader_done;

static void *read_page0(void *arg)
{
    (void)arg;
    reader_tid = (pid_t)syscall(SYS_gettid);
    (void)held_view[0];
    __atomic_store_n(&reader_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* 1 once thread tid waits in a userfaultfd fault. */
static int in_userfault(pid_t tid)
{
    char path[64], what[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (!fgets(what, sizeof what, f))
        what[0] = 0;
    fclose(f);
    return strstr(what, "userfault") != NULL;
}

Test(section_lock_view, a_held_page_stops_no_other_fault_of_the_process)
{
    const char *mode = getenv("VMEM_FAULT_MODE");
    if (mode && strcmp(mode, "kernel") == 0)
        cr_skip_test("fault mode kernel: views stay the kernel's (no userfaultfd)");
    int ufd, e = uffd_minor_open(&ufd);
    if (e)
        cr_skip_test("no minor faults on shared memory: %s", strerror(e));
    close(ufd);
    const char *name = unique_name("held");
    char obj[160];
    snprintf(obj, sizeof obj, "/dev/shm/libvmem.%u.%s", (unsigned)getuid(),
             strchr(name, '\\') + 1);
    HANDLE s = make_section(INVALID_HANDLE_VALUE, PAGE_READWRITE, 16 * PG, name);
    held_view = map_view(s, FILE_MAP_WRITE, 0, 0);
    int up[2], down[2];
    cr_assert_eq(pipe(up), 0);
    cr_assert_eq(pipe(down), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* another process holding page 0's entry lock */
        struct vtable t;
        uint64_t off, size;
        char c;
        int fd = open(obj, O_RDWR);
        if (fd < 0 || vt_probe(fd, &off, &size, NULL, 0, NULL) != 0 ||
            vt_map(fd, off, size, &t) != 0)
            _exit(1);
        vt_lock(&t, &t.ent[0]);
        if (write(up[1], "x", 1) != 1 || read(down[0], &c, 1) != 1)
            _exit(2);
        vt_unlock(&t.ent[0]);
        _exit(0);
    }
    char c;
    cr_assert_eq(read(up[0], &c, 1), 1);
    pthread_t th;
    cr_assert_eq(start_thread(&th, read_page0, NULL), 0);
    while (!reader_tid || !in_userfault(reader_tid))
        sched_yield();
    /* page 0's fault is with the view thread, which cannot have it: page
     * 1's fault is served all the same */
    cr_assert_eq(held_view[PG], 0);
    held_view[PG] = 7;
    cr_assert_eq(__atomic_load_n(&reader_done, __ATOMIC_ACQUIRE), 0,
                 "page 0 was served while another process held it");
    cr_assert_eq(write(down[1], "x", 1), 1);
    cr_assert_eq(pthread_join(th, NULL), 0);
    cr_assert_eq(reader_done, 1);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
    cr_assert_eq(held_view[PG], 7);
    assert_ok(UnmapViewOfFile((void *)held_view));
    assert_ok(CloseHandle(s));
}
