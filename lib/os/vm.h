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

/* Any thread: maps `len` bytes of inaccessible, unbacked address space
 * (PROT_NONE, MAP_NORESERVE).  With `fixed`, exactly at `hint` or EEXIST;
 * otherwise aligned to `align` anywhere. */
int vm_reserve(uintptr_t hint, size_t len, size_t align, int fixed, uintptr_t *out);

/* Any thread (reads /proc/self/maps, allocates nothing): the highest free
 * gap of `len` bytes aligned to `align` below the top of user space, or
 * ENOMEM. */
int vm_find_top_gap(size_t len, size_t align, uintptr_t *out);

/* Any thread, async-signal-safe, none of these touches the memory itself
 * (vm_populate faults it in: never under as_lock on registered memory,
 * but for present pages userfaultfd does not write-protect, whose write
 * faults are the kernel's alone): */
int vm_unmap(uintptr_t addr, size_t len);
/* Any thread: [addr, addr+len), mapped or not, becomes reserved space as
 * vm_reserve's at once (MAP_FIXED): what was mapped there, its page-table
 * entries and its userfaultfd registration go in the same step. */
int vm_reserve_over(uintptr_t addr, size_t len);
/* Any thread: a forked child gets no mapping there (on) or a copy (off):
 * MADV_DONTFORK / MADV_DOFORK. */
int vm_dontfork(uintptr_t addr, size_t len, int on);
int vm_protect(uintptr_t addr, size_t len, int prot);   /* PROT_* */
int vm_discard(uintptr_t addr, size_t len);             /* MADV_DONTNEED */
int vm_lazy_free(uintptr_t addr, size_t len);           /* MADV_FREE */
/* Any thread: drops the pages at addrs[0 .. n) (one page each, ascending
 * or not, n <= VM_DISCARD_MAX) as MADV_DONTNEED does, with one
 * process_madvise call where the kernel takes it for the calling process
 * (Linux 6.13; from 6.16 that is one TLB shoot-down for them all, where a
 * madvise per page interrupts every CPU running the process once per
 * page), else one madvise per page.  *done: how many were
 * dropped, a prefix; 0 when all were, else the errno of the first that was
 * not. */
#define VM_DISCARD_MAX 64
int vm_discard_pages(const uintptr_t *addrs, size_t n, size_t *done);
int vm_populate(uintptr_t addr, size_t len, int write); /* MADV_POPULATE_* */
int vm_lock_on_fault(uintptr_t addr, size_t len);       /* mlock2 ONFAULT */
int vm_unlock(uintptr_t addr, size_t len);

/* Any thread: `len` bytes (rounded up to pages) of zeroed, readable and
 * writable private memory (MAP_NORESERVE), the library's own; *out set on
 * success.  Freed with vm_unmap. */
int vm_alloc(size_t len, void **out);

/* Any thread: `len` bytes of private read-only memory that reads as zeros
 * (the kernel's shared zero page behind every page: no RAM); *out set on
 * success.  Freed with vm_unmap. */
int vm_alloc_zeros(size_t len, const void **out);

/* Any thread: the first len bytes of file fd mapped shared (read-write if
 * writable), the library's own (the statistics area, os/statfile.c); *out
 * set on success.  Freed with vm_unmap. */
int vm_map_file(int fd, size_t len, int writable, void **out);

/* Reading pages whatever their protection, and their kernel page-table
 * entries.  Both take a descriptor opened once (O_CLOEXEC) by
 * vm_self_open("mem") or vm_self_open("pagemap").  Any thread: */
int vm_self_open(const char *what, int *fd);
/* Any thread, async-signal-safe: closes a descriptor of vm_self_open. */
void vm_self_close(int fd);
/* Any thread, async-signal-safe: the identity (device and inode) of the
 * file open at fd, 0 if none: a descriptor kept open is checked with it
 * before each use, since the application may close any number and reuse it
 * for a file of its own. */
uint64_t vm_file_id(int fd);

/* Any thread (as_lock held or not): reads [addr, addr+len) of this
 * process through /proc/self/mem (FOLL_FORCE: a PROT_NONE page reads too).
 * Precondition: the range is registered with userfaultfd, so a page that is
 * not there is not faulted in (nothing would serve it while the caller
 * holds as_lock): the read stops before it, EIO.  *done receives the bytes
 * read. */
int vm_read_forced(int memfd, uintptr_t addr, void *buf, size_t len, size_t *done);

/* Any thread: the /proc/self/pagemap entries of npages pages from addr
 * (bits below). */
int vm_pagemap(int pmfd, uintptr_t addr, size_t npages, uint64_t *out);

/* vec[i] = 1 where page i of [addr, addr + npages pages) is mapped:
 * present, or swapped out by the kernel (which mincore does not count), by
 * /proc/self/pagemap; an errno if that cannot be read (a process that is
 * not dumpable: EACCES; no descriptor left: EMFILE). */
int vm_mapped(uintptr_t addr, size_t npages, unsigned char *vec);

/* 1 if nothing is mapped at the page at addr (neither present nor swapped
 * out), 0 if something is or it cannot tell.  mincore first: one system
 * call when the page is there; /proc/self/pagemap only when it is not. */
int vm_page_unmapped(uintptr_t addr);
#define VM_PM_PRESENT   (1ull << 63)
#define VM_PM_SWAPPED   (1ull << 62)
#define VM_PM_UFFD_WP   (1ull << 57) /* write-protected by userfaultfd */
#define VM_PM_EXCLUSIVE (1ull << 56) /* mapped by this process only */

/* Any thread: whether each of npages pages from addr is in memory
 * (mincore: bit 0 of vec[i]); for anonymous memory, whether the page is
 * there at all.  Touches none of them. */
int vm_resident(uintptr_t addr, size_t npages, unsigned char *vec);

/* One line of /proc/self/maps. */
struct vm_mapping {
    uintptr_t start, end;
    int prot;        /* PROT_* */
    int file_backed; /* has a file (or [vdso]-like special) behind it */
};

/* Any thread (reads /proc/self/maps, allocates nothing): finds the mapping
 * containing addr (returns 0), or sets *next_start to the start of the
 * first mapping above it (0 if none) and returns ENOENT. */
int vm_find_mapping(uintptr_t addr, struct vm_mapping *m, uintptr_t *next_start);

/* Top of user address space reported to applications. */
#define VM_USER_MAX ((uintptr_t)0x7FFFFFFEFFFFull)

/* Any thread: the kernel's page size. */
long vm_page_size(void);

#endif
