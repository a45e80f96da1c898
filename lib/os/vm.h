/*
 * os/vm.h -- the kernel's address-space calls: mmap, mprotect, madvise,
 * mlock, and reading /proc/self/maps.
 *
 * Rules shared by every function: addresses and lengths are page-aligned;
 * the return is 0 or a positive errno value.
 */
#ifndef VMEM_OS_VM_H
#define VMEM_OS_VM_H

#include <stddef.h>
#include <stdint.h>

/* Maps `len` bytes of inaccessible, unbacked address space (PROT_NONE,
 * MAP_NORESERVE).  With `fixed`, exactly at `hint` or EEXIST; otherwise
 * aligned to `align` anywhere. */
int vm_reserve(uintptr_t hint, size_t len, size_t align, int fixed, uintptr_t *out);

/* The highest free gap of `len` bytes aligned to `align` below the top of
 * user space, or ENOMEM. */
int vm_find_top_gap(size_t len, size_t align, uintptr_t *out);

int vm_unmap(uintptr_t addr, size_t len);
int vm_protect(uintptr_t addr, size_t len, int prot);   /* PROT_* */
/* Opens /proc/self/mem for writing, for vm_write_hidden: the descriptor
 * speaks for this process's memory (after a fork, the parent's: the child
 * opens its own).  Async-signal-safe. */
int vm_mem_open(int *fd, uint64_t *id);
/* Writes len bytes at addr through that descriptor (id from vm_mem_open:
 * EBADF if the number now names another file), which the page's protection
 * does not stop (a PROT_NONE page gets its content before it is opened).
 * Async-signal-safe; addr need not be aligned. */
int vm_write_hidden(int fd, uint64_t id, uintptr_t addr, const void *src, size_t len);
int vm_discard(uintptr_t addr, size_t len);             /* MADV_DONTNEED */
int vm_lazy_free(uintptr_t addr, size_t len);           /* MADV_FREE */
int vm_populate(uintptr_t addr, size_t len, int write); /* MADV_POPULATE_* */
int vm_lock_on_fault(uintptr_t addr, size_t len);       /* mlock2 ONFAULT */
int vm_unlock(uintptr_t addr, size_t len);

/* One line of /proc/self/maps. */
struct vm_mapping {
    uintptr_t start, end;
    int prot;        /* PROT_* */
    int file_backed; /* has a file (or [vdso]-like special) behind it */
};

/* Finds the mapping containing addr (returns 0), or sets *next_start to the
 * start of the first mapping above it (0 if none) and returns ENOENT. */
int vm_find_mapping(uintptr_t addr, struct vm_mapping *m, uintptr_t *next_start);

/* Top of user address space reported to applications. */
#define VM_USER_MAX ((uintptr_t)0x7FFFFFFEFFFFull)

#endif
