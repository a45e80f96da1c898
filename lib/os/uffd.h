/*
 * os/uffd.h -- the userfaultfd primitives.  Nothing else in the library
 * knows an ioctl number.
 *
 * Rules shared by every function: `fd` is a descriptor from uffd_open;
 * addresses and lengths are page-aligned; the return is 0 or a positive
 * errno value, except where a comment says otherwise.  Each may be called
 * from any thread, and is async-signal-safe (system calls only); none reads
 * or writes the pages it names.
 */
#ifndef VMEM_OS_UFFD_H
#define VMEM_OS_UFFD_H

#include <stddef.h>
#include <stdint.h>

/* Features found at start-up (bits below). */
#define UFFD_HAVE_WP          0x01u /* write-protect on anonymous memory */
#define UFFD_HAVE_SIGBUS      0x02u /* faults raise SIGBUS instead of events */
#define UFFD_HAVE_WP_ASYNC    0x04u /* kernel resolves WP faults itself (6.7+) */
#define UFFD_HAVE_MOVE        0x08u /* UFFDIO_MOVE (6.8+) */
#define UFFD_HAVE_POISON      0x10u /* UFFDIO_POISON (6.6+) */
#define UFFD_HAVE_KERNEL_MODE 0x20u /* faults from system calls are delivered */

struct uffd_event {
    uintptr_t addr;
    int write;  /* the access was a write */
    int wp;     /* a write-protect fault (the page is present) */
};

/* Opens a userfaultfd (non-blocking, close-on-exec) and agrees on
 * features: `want_sigbus` asks for UFFD_FEATURE_SIGBUS.  Falls back to
 * user-mode-only faults when the process may not take kernel-mode ones.  On
 * success *fd and *have are set. */
int uffd_open(int want_sigbus, int *fd, unsigned *have);

/* Closes a descriptor of uffd_open: its registrations end with it. */
void uffd_close(int fd);

/* Registers [addr, addr+len) for missing-page faults, and write-protect
 * faults when `wp`. */
int uffd_register(int fd, uintptr_t addr, size_t len, int wp);

/* Ends the registration of [addr, addr+len) (registered with this fd). */
int uffd_unregister(int fd, uintptr_t addr, size_t len);

/* Installs copies of `src` at [dst, dst+len).  *done receives the bytes
 * installed even on failure (EEXIST: a page was already there). `wp` maps
 * them write-protected. */
int uffd_copy(int fd, uintptr_t dst, const void *src, size_t len, int wp,
              size_t *done);

/* Moves the pages of [src, src+len) to [dst, dst+len), which must be empty
 * and registered (UFFDIO_MOVE, UFFD_HAVE_MOVE).  *done as for uffd_copy,
 * counted from the two ranges after a failure (the kernel's count was seen
 * wrong); EBUSY: a page is shared (after fork) or pinned. */
int uffd_move(int fd, uintptr_t dst, uintptr_t src, size_t len, size_t *done);

/* Test hook: the next n calls of uffd_move that move pages answer as Linux
 * 6.18 was seen to, EEXIST with nothing moved (0: off). */
void uffd_test_move_misreport(long n);

/* Maps the shared zero page at [dst, dst+len); *done as for uffd_copy. */
int uffd_zeropage(int fd, uintptr_t dst, size_t len, size_t *done);

/* Marks the empty pages of [dst, dst+len) poisoned (UFFDIO_POISON,
 * UFFD_HAVE_POISON): each access raises SIGBUS with BUS_MCEERR_AR until the
 * pages are zapped (MADV_DONTNEED, munmap).  EEXIST: a page is present. */
int uffd_poison(int fd, uintptr_t dst, size_t len);

/* Write-protects (wp=1) or un-protects (wp=0) present pages; un-protecting
 * wakes the threads waiting on them. */
int uffd_writeprotect(int fd, uintptr_t addr, size_t len, int wp);

/* Wakes threads waiting on faults in [addr, addr+len) so they retry. */
int uffd_wake(int fd, uintptr_t addr, size_t len);

/* Reads up to `max` pending fault events without blocking.  Returns the
 * number read (0 when none is pending) or -errno. */
int uffd_read_events(int fd, struct uffd_event *ev, int max);

#endif
