/*
 * A trimmed page whose MADV_DONTNEED fails stays mapped: here the
 * application mlock()s part of its memory itself (not VirtualLock), so the
 * kernel refuses to discard those pages (EINVAL on a VM_LOCKED range).
 * The trimmer must notice and keep them resident; before, they were
 * recorded as paged out while still mapped, and the next write to one of
 * them faulted forever ("page-in failed (File exists)").
 *
 * Runs in a forked child, which starts a runtime of its own under the cap
 * (a page that faults forever shows as the test's timeout).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vmem.h>

#include "helpers.h"

#define PAGES  1024 /* 4 MiB under a 1 MiB cap */
#define LOCKED 64   /* the first 256 KiB mlock()ed by the application */

enum { OK, ALLOC_FAILED, MLOCK_FAILED, BAD_DATA, NOT_PAGED };

static int child(void)
{
    setenv("VMEM_MAX_RESIDENT", "1M", 1);
    uint64_t *m = VirtualAlloc(NULL, (size_t)PAGES * 4096, MEM_COMMIT | MEM_RESERVE,
                               PAGE_READWRITE);
    if (!m)
        return ALLOC_FAILED;
    for (size_t p = 0; p < PAGES; p++)
        m[p * 512] = p + 1;
    /* the raw system call: sanitizer runtimes make mlock() a no-op */
    if (syscall(SYS_mlock, m, (size_t)LOCKED * 4096) != 0) {
        fprintf(stderr, "mlock: %s\n", strerror(errno));
        return MLOCK_FAILED;
    }
    for (uint64_t gen = 2; gen <= 4; gen++) {
        for (size_t p = 0; p < PAGES; p++)
            m[p * 512 + gen] = p * gen;
        for (size_t p = 0; p < PAGES; p++)
            if (m[p * 512] != p + 1 || m[p * 512 + gen] != p * gen)
                return BAD_DATA;
    }
    struct vmem_stats s;
    if (vmem_get_stats(&s) || !s.trimmed_pages)
        return NOT_PAGED;
    return OK;
}

Test(discard_fails, locked_by_the_application_stays_resident)
{
    const char *mode = getenv("VMEM_FAULT_MODE");
    if (mode && !strcmp(mode, "kernel"))
        cr_skip_test("fault mode kernel: no paging");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child());
    int st = child_status(pid);
    cr_assert(st < 128, "the child died of signal %d", st - 128);
    if (st == MLOCK_FAILED) /* signal mode: populating raises SIGBUS */
        cr_skip_test("mlock() of userfaultfd-managed memory fails in this fault mode");
    cr_assert_eq(st, OK, "child exit %d (see enum)", st);
}
