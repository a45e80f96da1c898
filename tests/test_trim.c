/*
 * test_trim.c -- what the working-set manager may trim, and how: pages the
 * application cannot read (PAGE_NOACCESS, PAGE_GUARD), MEM_RESET pages the
 * kernel has reclaimed, pages pinned by a device (io_uring fixed buffers),
 * and moves the kernel reports failed after moving.  Each scenario runs in
 * a forked child with a fresh runtime, so a trimmer that kills the process shows as a failure here (and one that
 * deadlocks as the test's timeout).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <memoryapi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vmem.h>

#include "paging/start.h"
#include "paging/trim.h"
#include "core/pte.h"
#include "core/region.h"
#include "core/runtime.h"
#include "os/uffd.h"

#include "helpers.h"

#define CAP MIB                  /* the working-set cap of every scenario */

/* In the child: paging under CAP, or a skip with the reason. */
static void child_paging(void)
{
    struct vmem_config c;
    CHILD_CHECK(vmem_get_config(&c) == 0, "vmem_get_config");
    if (c.fault_mode == VMEM_FAULT_KERNEL) {
        child_say("fault mode kernel: paging needs userfaultfd");
        _exit(CHILD_SKIP);
    }
    int e = vmem_set_max_resident(CAP);
    if (e == ENOTSUP && c.trim == VMEM_TRIM_MOVE) {
        child_say("VMEM_TRIM=move: this kernel has no UFFDIO_MOVE");
        _exit(CHILD_SKIP);
    }
    CHILD_CHECK(e == 0, "cannot start paging: %s", strerror(e));
}

/* In the child: paging under CAP, and n pages written with generation 1. */
static uint8_t *paging_with_pages(size_t n)
{
    child_paging();
    uint8_t *p = VirtualAlloc(NULL, n * PG, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc: error %u", (unsigned)GetLastError());
    for (size_t i = 0; i < n; i++)
        fill_page(p, i, 1);
    return p;
}

/* Writes four times CAP elsewhere, twice: everything older is trimmed. */
static void pressure(void)
{
    size_t n = 4 * CAP / PG;
    uint8_t *q = VirtualAlloc(NULL, n * PG, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    CHILD_CHECK(q != NULL, "VirtualAlloc 4 MiB: error %u", (unsigned)GetLastError());
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < n; i++)
            q[i * PG + (size_t)round] = (uint8_t)(i + 1);
    CHILD_CHECK(VirtualFree(q, 0, MEM_RELEASE), "release");
}

/* Pages of [p, p + n pages) out of the working set. */
static size_t count_trimmed(const uint8_t *p, size_t n)
{
    size_t out = 0;
    as_lock_shared();
    struct region *r = region_find((uintptr_t)p);
    size_t first = region_page(r, (uintptr_t)p);
    for (size_t i = 0; i < n; i++) {
        const struct pte *e = pte_get(&r->ptes, first + i);
        out += e && e->state != PTE_RESIDENT;
    }
    as_unlock();
    return out;
}

/* ---- pages the application cannot read --------------------------------- */

#define NPROT 64

/* Without access to /proc/self/mem (see unprivileged below) the trimmer
 * cannot read what the application cannot: those pages stay resident. */
static int proc_mem_denied;

/* In the child, before the runtime starts: the user nobody, whose process
 * is no longer dumpable, so its /proc/self files are root's. */
static void drop_privileges(void)
{
    if (getuid() == 0) {
        CHILD_CHECK(setgid(65534) == 0 && setuid(65534) == 0, "cannot become nobody");
    }
    setenv("VMEM_PAGEFILE", "/var/tmp", 1);
    int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        child_say("/proc/self/mem is still readable without privileges: nothing to test");
        _exit(CHILD_SKIP);
    }
    proc_mem_denied = 1;
}

/* 64 dirty pages: 0-31 PAGE_NOACCESS, 32-47 PAGE_READWRITE|PAGE_GUARD,
 * 48-63 PAGE_READONLY.  The trimmer must take them without reading through
 * their protection (its thread blocks signals: a fault there is fatal), and
 * they come back with their contents and protection. */
static void protected_pages(void)
{
    uint8_t *p = paging_with_pages(NPROT);
    DWORD old;
    CHILD_CHECK(VirtualProtect(p, 32 * PG, PAGE_NOACCESS, &old), "protect NOACCESS");
    CHILD_CHECK(VirtualProtect(p + 32 * PG, 16 * PG, PAGE_READWRITE | PAGE_GUARD, &old),
                "protect GUARD");
    CHILD_CHECK(VirtualProtect(p + 48 * PG, 16 * PG, PAGE_READONLY, &old), "protect READONLY");
    pressure();
    size_t out = count_trimmed(p, 32);
    if (proc_mem_denied)
        CHILD_CHECK(out == 0, "%zu PAGE_NOACCESS pages trimmed without /proc/self/mem", out);
    else
        CHILD_CHECK(out >= 16, "only %zu of 32 PAGE_NOACCESS pages were trimmed", out);
    out = count_trimmed(p + 32 * PG, 16);
    if (!proc_mem_denied)
        CHILD_CHECK(out >= 8, "only %zu of 16 PAGE_GUARD pages were trimmed", out);
    out = count_trimmed(p + 48 * PG, 16);
    CHILD_CHECK(out >= 8, "only %zu of 16 PAGE_READONLY pages were trimmed", out);

    static const struct { size_t first, n; DWORD prot; } runs[] = {
        { 0, 32, PAGE_NOACCESS },
        { 32, 16, PAGE_READWRITE | PAGE_GUARD },
        { 48, 16, PAGE_READONLY },
    };
    for (size_t k = 0; k < 3; k++) {
        MEMORY_BASIC_INFORMATION m;
        CHILD_CHECK(VirtualQuery(p + runs[k].first * PG, &m, sizeof m) == sizeof m, "query");
        CHILD_CHECK(m.Protect == runs[k].prot && m.RegionSize == runs[k].n * PG,
                    "pages %zu+: Protect %#x size %#zx after trimming, want %#x size %#zx",
                    runs[k].first, (unsigned)m.Protect, m.RegionSize, (unsigned)runs[k].prot,
                    runs[k].n * PG);
    }
    /* read-only pages read back as they are */
    for (size_t i = 48; i < NPROT; i++)
        CHILD_CHECK(page_intact(p, i, 1), "PAGE_READONLY page %zu lost its contents", i);
    CHILD_CHECK(VirtualProtect(p, NPROT * PG, PAGE_READWRITE, &old), "protect RW");
    for (size_t i = 0; i < NPROT; i++)
        CHILD_CHECK(page_intact(p, i, 1), "page %zu lost its contents", i);
}

/* The suite's fault-mode runs stand for the move path where the kernel
 * has UFFDIO_MOVE (tests/meson.build forces only the copy path): the
 * default must trim by move there. */
static void default_path(void)
{
    child_paging();
    struct vmem_config c;
    CHILD_CHECK(vmem_get_config(&c) == 0, "vmem_get_config");
    if (c.trim != VMEM_TRIM_AUTO || !(vmem_rt.uffd_have & UFFD_HAVE_MOVE)) {
        child_say(c.trim != VMEM_TRIM_AUTO ? "VMEM_TRIM is set" : "no UFFDIO_MOVE here");
        _exit(CHILD_SKIP);
    }
    CHILD_CHECK(paging_trims_by_move(), "the default trims by copy with UFFDIO_MOVE there");
}

Test(trim, default_path_is_move_where_the_kernel_has_it)
{
    run_child(default_path);
}

Test(trim, noaccess_and_guard_pages_are_trimmed_and_kept)
{
    run_child(protected_pages);
}

static void protected_pages_unprivileged(void)
{
    drop_privileges();
    protected_pages();
}

Test(trim, noaccess_and_guard_pages_unprivileged)
{
    run_child(protected_pages_unprivileged);
}

/* The application closes the library's /proc/self/mem descriptor and
 * reuses the number for a file of its own (a sparse file reading zeros at
 * every address): the trimmer must notice and never take that file's bytes
 * for page contents. */
static void descriptor_taken_over(void)
{
    child_paging();
    char link[64], target[256], want[64];
    snprintf(want, sizeof(want), "/proc/%d/mem", (int)getpid());
    int taken = 0;
    for (int fd = 3; fd < 1024; fd++) {
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (strcmp(target, want) != 0)
            continue;
        char path[] = "/dev/shm/vmem-trim-XXXXXX";
        int f = mkstemp(path);
        CHILD_CHECK(f >= 0, "mkstemp: %s", strerror(errno));
        unlink(path);
        CHILD_CHECK(ftruncate(f, (off_t)1 << 47) == 0, "ftruncate: %s", strerror(errno));
        CHILD_CHECK(dup2(f, fd) == fd, "dup2: %s", strerror(errno));
        close(f);
        taken++;
    }
    if (!taken) {
        child_say("the library keeps no /proc/self/mem descriptor open: nothing to take over");
        _exit(CHILD_SKIP);
    }
    uint8_t *p = VirtualAlloc(NULL, NPROT * PG, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc: error %u", (unsigned)GetLastError());
    for (size_t i = 0; i < NPROT; i++)
        fill_page(p, i, 1);
    DWORD old;
    CHILD_CHECK(VirtualProtect(p, NPROT * PG, PAGE_NOACCESS, &old), "protect NOACCESS");
    pressure();
    size_t out = count_trimmed(p, NPROT);
    CHILD_CHECK(out >= NPROT / 2, "only %zu of %d pages were trimmed", out, NPROT);
    CHILD_CHECK(VirtualProtect(p, NPROT * PG, PAGE_READWRITE, &old), "protect RW");
    for (size_t i = 0; i < NPROT; i++)
        CHILD_CHECK(page_intact(p, i, 1), "page %zu lost its contents", i);
}

Test(trim, library_descriptor_taken_over_by_the_application)
{
    run_child(descriptor_taken_over);
}

/* ---- MEM_RESET pages the kernel reclaimed ------------------------------- */

#define NRESET 64

/* The kernel may reclaim MEM_RESET (MADV_FREE) pages at any time; the
 * trimmer then meets holes where it expects resident pages.  MADV_PAGEOUT
 * makes the kernel reclaim them now, by its own reclaim path. */
static void reset_pages_reclaimed(void)
{
    uint8_t *p = paging_with_pages(NRESET);
    CHILD_CHECK(VirtualAlloc(p, NRESET * PG, MEM_RESET, PAGE_READWRITE) == p, "MEM_RESET");
    if (madvise(p, NRESET * PG, MADV_PAGEOUT) != 0) {
        child_say("MADV_PAGEOUT: %s", strerror(errno));
        _exit(CHILD_SKIP);
    }
    unsigned char vec[NRESET];
    CHILD_CHECK(mincore(p, NRESET * PG, vec) == 0, "mincore: %s", strerror(errno));
    size_t gone = 0;
    for (size_t i = 0; i < NRESET; i++)
        gone += !(vec[i] & 1);
    if (gone == 0) {
        child_say("the kernel did not reclaim MEM_RESET pages on MADV_PAGEOUT");
        _exit(CHILD_SKIP);
    }
    pressure();
    /* the pages are still usable: what is written now reads back */
    for (size_t i = 0; i < NRESET; i++)
        fill_page(p, i, 2);
    pressure();
    for (size_t i = 0; i < NRESET; i++)
        CHILD_CHECK(page_intact(p, i, 2), "page %zu written after MEM_RESET lost its contents", i);
}

Test(trim, reclaimed_reset_pages_are_trimmed)
{
    run_child(reset_pages_reclaimed);
}

static void reset_pages_reclaimed_unprivileged(void)
{
    drop_privileges();
    reset_pages_reclaimed();
}

Test(trim, reclaimed_reset_pages_unprivileged)
{
    run_child(reset_pages_reclaimed_unprivileged);
}

/* ---- pinned pages --------------------------------------------------------- */

#define NPIN 16

/* A buffer registered with io_uring (IORING_REGISTER_BUFFERS pins its pages
 * for as long as it is registered) is read into after the trimmer has
 * passed: the data must be in the buffer. */
static void pinned_pages(void)
{
    child_paging();
    if (!paging_trims_by_move()) {
        /* No system call tells a pinned page on the copy path: see README. */
        child_say("trimming by copy cannot tell pinned pages (no UFFDIO_MOVE or "
                  "VMEM_TRIM=copy)");
        _exit(CHILD_SKIP);
    }
    uint8_t *p = VirtualAlloc(NULL, NPIN * PG, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc: error %u", (unsigned)GetLastError());
    for (size_t i = 0; i < NPIN; i++)
        fill_page(p, i, 1);

    /* the file holds generation 2 of every page */
    uint8_t *src = malloc(NPIN * PG);
    CHILD_CHECK(src != NULL, "malloc");
    for (size_t i = 0; i < NPIN; i++)
        fill_page(src, i, 2);
    char path[] = "/tmp/test_trim_XXXXXX";
    int fd = mkstemp(path);
    CHILD_CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
    unlink(path);
    CHILD_CHECK(pwrite(fd, src, NPIN * PG, 0) == (ssize_t)(NPIN * PG), "pwrite");
    free(src);

    struct io_uring ring;
    int e = io_uring_queue_init(4, &ring, 0);
    if (e < 0) {
        child_say("io_uring_queue_init: %s", strerror(-e));
        _exit(CHILD_SKIP);
    }
    struct iovec iov = { .iov_base = p, .iov_len = NPIN * PG };
    e = io_uring_register_buffers(&ring, &iov, 1);
    if (e < 0) {
        child_say("IORING_REGISTER_BUFFERS: %s", strerror(-e));
        _exit(CHILD_SKIP);
    }
    pressure();
    uint64_t moved = 0;
    struct vmem_stats s;
    CHILD_CHECK(vmem_get_stats(&s) == 0, "stats");
    moved = s.trimmed_by_move;
    CHILD_CHECK(moved > 0, "nothing was trimmed by move");

    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read_fixed(sqe, fd, p, NPIN * PG, 0, 0);
    CHILD_CHECK(io_uring_submit(&ring) == 1, "submit");
    struct io_uring_cqe *cqe;
    CHILD_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0, "wait cqe");
    CHILD_CHECK(cqe->res == (int)(NPIN * PG), "READ_FIXED: %d", cqe->res);
    io_uring_cqe_seen(&ring, cqe);
    for (size_t i = 0; i < NPIN; i++)
        CHILD_CHECK(page_intact(p, i, 2), "page %zu of the fixed buffer lost what the read wrote", i);
    io_uring_unregister_buffers(&ring);
    io_uring_queue_exit(&ring);
    close(fd);
    /* unpinned, the buffer is trimmed again, and keeps its data */
    pressure();
    size_t out = count_trimmed(p, NPIN);
    CHILD_CHECK(out > 0, "the buffer stayed resident once unpinned");
    for (size_t i = 0; i < NPIN; i++)
        CHILD_CHECK(page_intact(p, i, 2), "page %zu lost its contents after unpinning", i);
}

Test(trim, pinned_pages_stay_resident)
{
    run_child(pinned_pages);
}

/* ---- pages shared with a forked child ------------------------------------ */

#define NSHARED 64

/* After fork the parent's pages are shared with the child: the move
 * refuses them as it does pinned ones, but pagemap shows them shared, so
 * they are copied, not kept. */
static void shared_pages(void)
{
    uint8_t *p = paging_with_pages(NSHARED);
    int fds[2];
    CHILD_CHECK(pipe(fds) == 0, "pipe");
    pid_t g = fork();
    CHILD_CHECK(g >= 0, "fork: %s", strerror(errno));
    if (g == 0) {
        char c;
        close(fds[1]);
        _exit(read(fds[0], &c, 1) < 0);
    }
    close(fds[0]);
    pressure();
    size_t out = count_trimmed(p, NSHARED);
    CHILD_CHECK(out >= NSHARED / 2, "only %zu of %d shared pages were trimmed", out, NSHARED);
    for (size_t i = 0; i < NSHARED; i++)
        CHILD_CHECK(page_intact(p, i, 1), "shared page %zu lost its contents", i);
    close(fds[1]);
    int status;
    CHILD_CHECK(waitpid(g, &status, 0) == g && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "the forked child failed");
}

Test(trim, pages_shared_with_a_child_are_trimmed)
{
    run_child(shared_pages);
}

/* Once the child is gone (a fork, then exec or exit) the
 * parent's pages are mapped once again, but the kernel still counts them
 * as possibly shared until they are written (not "anon exclusive"): the
 * move refuses them with EBUSY, and pagemap shows them exclusively mapped,
 * as it shows a pinned page.  They must be trimmed, not kept as pinned. */
/* A child forked and ended, then pressure: how many of p's NSHARED pages
 * were trimmed, each checked intact. */
static size_t trimmed_after_an_ended_child(const uint8_t *p)
{
    pid_t g = fork();
    CHILD_CHECK(g >= 0, "fork: %s", strerror(errno));
    if (g == 0)
        _exit(0);
    int status;
    CHILD_CHECK(waitpid(g, &status, 0) == g && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "the forked child failed");
    pressure();
    size_t out = count_trimmed(p, NSHARED);
    for (size_t i = 0; i < NSHARED; i++)
        CHILD_CHECK(page_intact(p, i, 1), "page %zu lost its contents", i);
    return out;
}

static void pages_of_an_ended_child(void)
{
    uint8_t *p = paging_with_pages(NSHARED);
    size_t out = trimmed_after_an_ended_child(p);
    CHILD_CHECK(out >= NSHARED / 2, "only %zu of %d pages once shared with an ended child were "
                "trimmed", out, NSHARED);
}

Test(trim, pages_once_shared_with_an_ended_child_are_trimmed)
{
    run_child(pages_of_an_ended_child);
}

/* The same with pages paged in clean: userfaultfd write-protects them to
 * see their first write (dirty tracking), so the trimmer cannot fault
 * them for write under as_lock to make them this process's alone again. */
static void clean_pages_of_an_ended_child(void)
{
    uint8_t *p = paging_with_pages(NSHARED);
    pressure();
    for (size_t i = 0; i < NSHARED; i++)
        CHILD_CHECK(page_intact(p, i, 1), "page %zu lost its contents", i);
    size_t in = NSHARED - count_trimmed(p, NSHARED);
    CHILD_CHECK(in >= NSHARED / 2, "only %zu of %d pages read back are resident", in, NSHARED);
    size_t out = trimmed_after_an_ended_child(p);
    CHILD_CHECK(out >= NSHARED / 2, "only %zu of %d clean pages once shared with an ended child "
                "were trimmed", out, NSHARED);
    struct vmem_stats s;
    CHILD_CHECK(vmem_get_stats(&s) == 0, "vmem_get_stats");
    CHILD_CHECK(s.cap_overruns == 0, "%llu pages over the cap", (unsigned long long)s.cap_overruns);
}

Test(trim, clean_pages_once_shared_with_an_ended_child_are_trimmed)
{
    run_child(clean_pages_of_an_ended_child);
}

/* ---- a move the kernel reports failed after moving ------------------------ */

#define NMOVED 256

/* Linux 6.18 was seen (under load) to move a page with UFFDIO_MOVE and
 * answer EEXIST with nothing moved.  Taken at its word, the trimmer left
 * the page RESIDENT in its table while the kernel mapped nothing there: the
 * next touch faulted for ever (thread mode) and the contents sat in a
 * frame nobody owned.  The hook makes every move that moves pages report
 * that; no page may be RESIDENT without being mapped, and every byte reads
 * back. */
static void misreported_moves(void)
{
    child_paging();
    if (!paging_trims_by_move()) {
        child_say("the trimmer copies here (VMEM_TRIM=copy, or no UFFDIO_MOVE): no move to "
                  "misreport");
        _exit(CHILD_SKIP);
    }
    uint8_t *p = VirtualAlloc(NULL, NMOVED * PG, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc: error %u", (unsigned)GetLastError());
    for (size_t i = 0; i < NMOVED; i++)
        fill_page(p, i, 3);
    /* the policy's victims trimmed at once: these pages, the only managed
     * memory (other memory would fault for ever on a page lost this way) */
    uffd_test_move_misreport(1000000);
    for (int k = 0; k < NMOVED / TRIM_BATCH; k++)
        trim_working_set(TRIM_BATCH, NULL, 0);
    uffd_test_move_misreport(0);
    /* before any touch: a page the table calls resident is mapped */
    unsigned char vec[NMOVED];
    as_lock_shared();
    int e = mincore(p, NMOVED * PG, vec) ? errno : 0;
    struct region *r = region_find((uintptr_t)p);
    size_t first = region_page(r, (uintptr_t)p), lost = 0, at = 0;
    for (size_t i = 0; !e && i < NMOVED; i++) {
        const struct pte *q = pte_get(&r->ptes, first + i);
        if (q && q->state == PTE_RESIDENT && !(vec[i] & 1) && !lost++)
            at = i;
    }
    as_unlock();
    CHILD_CHECK(e == 0, "mincore: %s", strerror(e));
    CHILD_CHECK(lost == 0, "%zu pages resident in the table are not mapped (first: page %zu)",
                lost, at);
    CHILD_CHECK(count_trimmed(p, NMOVED) > 0, "nothing was trimmed");
    for (size_t i = 0; i < NMOVED; i++)
        CHILD_CHECK(page_intact(p, i, 3), "page %zu lost its contents", i);
}

Test(trim, a_move_reported_failed_that_moved_is_counted)
{
    run_child(misreported_moves);
}
