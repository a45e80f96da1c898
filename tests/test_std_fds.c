/*
 * test_std_fds.c -- a program that starts with descriptors 0, 1 and 2
 * closed: none of libvmem's descriptors (userfaultfd, eventfds, /proc/self
 * files, the page file, io_uring rings, the statistics file) may take those
 * numbers, or a thread reading its stdin would read libvmem's fault events.
 */
#include <memoryapi.h>
#include <vmem.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>

#include <stdatomic.h>

static atomic_int reader_done;
static atomic_long reader_bytes, reader_ebadf;

static void *read_stdin(void *arg)
{
    (void)arg;
    char buf[4096];
    while (!reader_done) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n > 0)
            reader_bytes += n;
        else if (n < 0 && errno == EBADF)
            reader_ebadf++;
        sched_yield();
    }
    return NULL;
}

static void check_std_closed(const char *when)
{
    for (int fd = 0; fd < 3; fd++)
        CHILD_CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "%s: descriptor %d is open (%s)", when,
                    fd, fd == 0 ? "stdin" : fd == 1 ? "stdout" : "stderr");
}

static void closed_scenario(void)
{
    for (int fd = 0; fd < 3; fd++)
        close(fd);
    struct vmem_config c;
    CHILD_CHECK(vmem_get_config(&c) == 0, "vmem_get_config");
    int paging = 0;
    if (c.fault_mode != VMEM_FAULT_KERNEL) {
        int e = vmem_set_max_resident(MIB);
        CHILD_CHECK(e == 0 || e == ENOTSUP, "vmem_set_max_resident: %s", strerror(e));
        paging = e == 0;
    }
    check_std_closed("after start-up");
    pthread_t t;
    CHILD_CHECK(pthread_create(&t, NULL, read_stdin, NULL) == 0, "pthread_create");
    size_t pages = 2048; /* 8 MiB under a 1 MiB cap */
    uint8_t *p = VirtualAlloc(NULL, pages * PG, MEM_COMMIT, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc");
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < pages; i++)
            p[i * PG + (i % 64) * 8] = (uint8_t)(i * 3 + round);
        for (size_t i = 0; i < pages; i++)
            CHILD_CHECK(p[i * PG + (i % 64) * 8] == (uint8_t)(i * 3 + round), "page %zu round %d", i,
                        round);
    }
    /* At least one read must run after the paging, with every descriptor of
     * libvmem open: wait for the reader's count to move (on a loaded machine
     * the reader may not have run at all yet). */
    long seen = reader_ebadf + reader_bytes;
    while (reader_ebadf + reader_bytes == seen)
        sched_yield();
    reader_done = 1;
    CHILD_CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    check_std_closed("after paging");
    CHILD_CHECK(reader_bytes == 0, "read(0) returned %ld bytes of libvmem's", (long)reader_bytes);
    CHILD_CHECK(reader_ebadf > 0, "read(0) never failed with EBADF");
    if (paging) {
        struct vmem_stats s;
        CHILD_CHECK(vmem_get_stats(&s) == 0, "vmem_get_stats");
        CHILD_CHECK(s.pages_read > 0, "nothing was paged in");
    }
}

Test(std_fds, closed_at_start)
{
    run_child(closed_scenario);
}
