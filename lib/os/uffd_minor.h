/*
 * os/uffd_minor.h -- userfaultfd on shared memory (the views of page-file
 * sections): a descriptor agreeing on UFFD_FEATURE_MINOR_SHMEM, ranges
 * registered for missing and minor faults, UFFDIO_CONTINUE, and reading
 * events that say which of the two a fault is.  The copy, zero-page,
 * poison, wake and unregister ioctls of os/uffd.h work on its descriptor.
 *
 * Rules shared by every function: addresses and lengths are page-aligned;
 * the return is 0 or a positive errno value unless said otherwise; any
 * thread may call it; none reads or writes the pages it names.
 */
#ifndef VMEM_OS_UFFD_MINOR_H
#define VMEM_OS_UFFD_MINOR_H

#include <stddef.h>
#include <stdint.h>

struct uffd_minor_event {
    uintptr_t addr;
    int write;  /* the access was a write */
    int minor;  /* the page is in the shared memory, only not mapped here */
};

/* Opens a descriptor (non-blocking, close-on-exec) for shared-memory
 * faults; ENOTSUP when the kernel lacks UFFD_FEATURE_MINOR_SHMEM. */
int uffd_minor_open(int *fd);

/* Registers [addr, addr+len) (a MAP_SHARED mapping of shared memory) for
 * missing and minor faults. */
int uffd_minor_register(int fd, uintptr_t addr, size_t len);

/* Maps the pages already in the shared memory at [addr, addr+len)
 * (UFFDIO_CONTINUE) and wakes the threads waiting on them.  EEXIST: a page
 * is mapped already; ENOENT or EFAULT: a page is not in the memory. */
int uffd_continue(int fd, uintptr_t addr, size_t len);

/* As UFFDIO_CONTINUE, UFFDIO_COPY and UFFDIO_ZEROPAGE, waking no thread
 * (their _MODE_DONTWAKE): the caller records what it installed first,
 * then wakes the range (uffd_wake).  EEXIST: a page is there already. */
int uffd_continue_nowake(int fd, uintptr_t addr, size_t len);
int uffd_copy_nowake(int fd, uintptr_t dst, const void *src, size_t len);
int uffd_zeropage_nowake(int fd, uintptr_t dst, size_t len);

/* Reads up to `max` pending fault events without blocking: the number read
 * (0 when none is pending) or -errno. */
int uffd_minor_read(int fd, struct uffd_minor_event *ev, int max);

#endif
