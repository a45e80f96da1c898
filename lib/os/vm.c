/*
 * os/vm.c -- thin wrappers over mmap/mprotect/madvise/mlock, and a parser of
 * /proc/self/maps that allocates nothing (it may run where the heap is the
 * managed one).
 *
 * The memory calls are raw system calls, never libc's mmap & co.: the
 * preload library, which links libvmem, exports mmap, munmap, mremap,
 * madvise and mprotect of its own, and libvmem's calls must reach the
 * kernel, not those.
 */
#include "os/vm.h"
#include "os/fd.h"
#include "os/page.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif

#define RESERVE_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

/* Under a sanitizer, mappings and unmappings go through libc's mmap and
 * munmap instead, which the sanitizer intercepts to keep its shadow memory
 * true: an address unmapped behind its back and mapped again (by liburing,
 * for a ring) would carry the old mapping's accesses and show races that
 * are not there.  The preload library is not used under sanitizers. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (SANITIZED)
        return mmap(addr, len, prot, flags, fd, off);
    long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    return r == -1 ? MAP_FAILED : (void *)r;
}

static int raw_munmap(void *addr, size_t len)
{
    if (SANITIZED)
        return munmap(addr, len);
    return (int)syscall(SYS_munmap, addr, len);
}

static int raw_mprotect(void *addr, size_t len, int prot)
{
    return (int)syscall(SYS_mprotect, addr, len, prot);
}

static int raw_madvise(void *addr, size_t len, int advice)
{
    return (int)syscall(SYS_madvise, addr, len, advice);
}

int vm_reserve(uintptr_t hint, size_t len, size_t align, int fixed, uintptr_t *out)
{
    if (fixed) {
        void *p = raw_mmap((void *)hint, len, PROT_NONE, RESERVE_FLAGS | MAP_FIXED_NOREPLACE,
                           -1, 0);
        if (p == MAP_FAILED)
            return errno;
        if ((uintptr_t)p != hint) { /* kernels before 4.17 treat it as a hint */
            raw_munmap(p, len);
            return EEXIST;
        }
        *out = hint;
        return 0;
    }
    /* Over-map by the alignment and trim both ends. */
    size_t span = len + align - PAGE_SZ;
    if (span < len)
        return ENOMEM;
    void *p = raw_mmap(NULL, span, PROT_NONE, RESERVE_FLAGS, -1, 0);
    if (p == MAP_FAILED)
        return errno;
    uintptr_t start = (uintptr_t)p, base = round_up(start, align);
    if (base > start)
        raw_munmap(p, base - start);
    if (base + len < start + span)
        raw_munmap((void *)(base + len), start + span - (base + len));
    *out = base;
    return 0;
}

/* Reads /proc/self/maps a chunk at a time, line by line, calling fn on each
 * mapping until it returns nonzero. */
static int for_each_mapping(int (*fn)(const struct vm_mapping *, void *), void *arg)
{
    int fd = os_fd_above_std(open("/proc/self/maps", O_RDONLY | O_CLOEXEC));
    if (fd < 0)
        return errno;
    char buf[8192];
    size_t have = 0;
    int stop = 0;
    while (!stop) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = 0;
        char *line = buf, *nl;
        while (!stop && (nl = memchr(line, '\n', have - (size_t)(line - buf))) != NULL) {
            *nl = 0;
            struct vm_mapping m = {0};
            char *p = line;
            m.start = strtoull(p, &p, 16);
            m.end = strtoull(p + 1, &p, 16);
            p++;
            m.prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) |
                     (p[2] == 'x' ? PROT_EXEC : 0);
            /* fields: perms offset dev inode path */
            for (int f = 0; f < 4 && *p; f++) {
                while (*p && *p != ' ') p++;
                while (*p == ' ') p++;
            }
            m.file_backed = (*p == '/');
            stop = fn(&m, arg);
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
    }
    close(fd);
    return 0;
}

struct find_ctx { uintptr_t addr, next; struct vm_mapping *out; int found; };

static int find_cb(const struct vm_mapping *m, void *arg)
{
    struct find_ctx *c = arg;
    if (c->addr >= m->start && c->addr < m->end) {
        *c->out = *m;
        c->found = 1;
        return 1;
    }
    if (m->start > c->addr) {
        c->next = m->start;
        return 1;
    }
    return 0;
}

int vm_find_mapping(uintptr_t addr, struct vm_mapping *m, uintptr_t *next_start)
{
    struct find_ctx c = { .addr = addr, .next = 0, .out = m, .found = 0 };
    int err = for_each_mapping(find_cb, &c);
    if (err)
        return err;
    if (c.found)
        return 0;
    *next_start = c.next;
    return ENOENT;
}

struct gap_ctx { size_t len, align; uintptr_t prev_end, best; int done; };

/* Top of the range MEM_TOP_DOWN searches: the last granule below the
 * reported user maximum. */
#define TOP_LIMIT (VM_USER_MAX + 1 - GRAN_SZ)

/* Remembers the highest fitting gap below `limit`; maps come in ascending
 * order, so the last fit seen is the highest. */
static void consider_gap(struct gap_ctx *c, uintptr_t limit)
{
    uintptr_t lo = round_up(c->prev_end + PAGE_SZ, c->align); /* guard page */
    if (limit > lo + PAGE_SZ && limit - lo - PAGE_SZ >= c->len)
        c->best = round_down(limit - PAGE_SZ - c->len, c->align);
}

static int gap_cb(const struct vm_mapping *m, void *arg)
{
    struct gap_ctx *c = arg;
    consider_gap(c, m->start < TOP_LIMIT ? m->start : TOP_LIMIT);
    if (m->start >= TOP_LIMIT) {
        c->done = 1;
        return 1;
    }
    c->prev_end = m->end;
    return 0;
}

int vm_find_top_gap(size_t len, size_t align, uintptr_t *out)
{
    struct gap_ctx c = { .len = len, .align = align, .prev_end = GRAN_SZ, .best = 0, .done = 0 };
    int err = for_each_mapping(gap_cb, &c);
    if (err)
        return err;
    if (!c.done)
        consider_gap(&c, TOP_LIMIT);
    if (!c.best)
        return ENOMEM;
    *out = c.best;
    return 0;
}

int vm_alloc(size_t len, void **out)
{
    void *p = raw_mmap(NULL, round_up(len, PAGE_SZ), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return errno;
    *out = p;
    return 0;
}

int vm_alloc_zeros(size_t len, const void **out)
{
    void *p = raw_mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return errno;
    *out = p;
    return 0;
}

int vm_map_file(int fd, size_t len, int writable, void **out)
{
    void *p = raw_mmap(NULL, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return errno;
    *out = p;
    return 0;
}

int vm_unmap(uintptr_t addr, size_t len)
{
    return raw_munmap((void *)addr, len) < 0 ? errno : 0;
}

int vm_protect(uintptr_t addr, size_t len, int prot)
{
    return raw_mprotect((void *)addr, len, prot) < 0 ? errno : 0;
}

int vm_discard(uintptr_t addr, size_t len)
{
    return raw_madvise((void *)addr, len, MADV_DONTNEED) < 0 ? errno : 0;
}

/* process_madvise(MADV_DONTNEED) on the calling process: 0 not tried yet,
 * 1 works, -1 refused (before Linux 6.13 it takes only advice that loses
 * nothing, such as MADV_COLD) */
static int vector_discard;

/* One process_madvise call for the iovecs; the bytes dropped, or -1 with
 * errno.  A pidfd is opened for each call: one kept open would name the
 * parent in a forked child, and the application may close any number. */
static long discard_vector(const struct iovec *iov, size_t n)
{
    int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (pidfd < 0)
        return -1;
    long r = syscall(SYS_process_madvise, pidfd, iov, n, MADV_DONTNEED, 0);
    int e = errno;
    os_fd_close(pidfd);
    errno = e;
    return r;
}

int vm_discard_pages(const uintptr_t *addrs, size_t n, size_t *done)
{
    struct iovec iov[VM_DISCARD_MAX];
    size_t niov = 0, k = 0, pages = 0;
    *done = 0;
    if (n > VM_DISCARD_MAX)
        n = VM_DISCARD_MAX;
    /* one range per page, neighbours too: MADV_DONTNEED drops a range
     * mapping by mapping, so a range that fails part-way (an mlock()ed page
     * has a mapping of its own) may have dropped its first pages, and the
     * count would not say which */
    for (size_t i = 0; i < n; i++)
        iov[niov++] = (struct iovec){ (void *)addrs[i], PAGE_SZ };
    int state = __atomic_load_n(&vector_discard, __ATOMIC_RELAXED);
    long r = -1;
    if (state >= 0 && (r = discard_vector(iov, niov)) >= 0) {
        if (!state)
            __atomic_store_n(&vector_discard, 1, __ATOMIC_RELAXED);
        /* it stops at the first page it cannot advise: the pages before
         * were dropped, the rest are tried one by one below to learn which
         * fails and why */
        size_t bytes = (size_t)r;
        while (k < niov && bytes >= iov[k].iov_len) {
            bytes -= iov[k].iov_len;
            pages += iov[k++].iov_len / PAGE_SZ;
        }
    }
    for (; k < niov; k++) {
        if (raw_madvise(iov[k].iov_base, iov[k].iov_len, MADV_DONTNEED) < 0) {
            *done = pages;
            return errno;
        }
        pages += iov[k].iov_len / PAGE_SZ;
    }
    /* refused by process_madvise, done by madvise: a kernel without it
     * for this advice (before 6.13: EINVAL) */
    if (r < 0 && !state)
        __atomic_store_n(&vector_discard, -1, __ATOMIC_RELAXED);
    *done = pages;
    return 0;
}

int vm_reserve_over(uintptr_t addr, size_t len)
{
    void *p = raw_mmap((void *)addr, len, PROT_NONE, RESERVE_FLAGS | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? errno : 0;
}

int vm_dontfork(uintptr_t addr, size_t len, int on)
{
    return raw_madvise((void *)addr, len, on ? MADV_DONTFORK : MADV_DOFORK) < 0 ? errno : 0;
}

int vm_lazy_free(uintptr_t addr, size_t len)
{
    return raw_madvise((void *)addr, len, MADV_FREE) < 0 ? errno : 0;
}

int vm_self_open(const char *what, int *fd)
{
    char path[32] = "/proc/self/";
    strncat(path, what, sizeof(path) - strlen(path) - 1);
    int f = os_fd_above_std(open(path, O_RDONLY | O_CLOEXEC));
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

void vm_self_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

uint64_t vm_file_id(int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return 0;
    return ((uint64_t)st.st_dev << 40) ^ (uint64_t)st.st_ino ^ ((uint64_t)1 << 63);
}

int vm_read_forced(int memfd, uintptr_t addr, void *buf, size_t len, size_t *done)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(memfd, (char *)buf + got, len - got, (off_t)(addr + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *done = got;
            return n < 0 ? errno : EIO;
        }
        got += (size_t)n;
    }
    *done = got;
    return 0;
}

int vm_pagemap(int pmfd, uintptr_t addr, size_t npages, uint64_t *out)
{
    size_t want = npages * sizeof(uint64_t), got = 0;
    off_t at = (off_t)((addr / PAGE_SZ) * sizeof(uint64_t));
    while (got < want) {
        ssize_t n = pread(pmfd, (char *)out + got, want - got, at + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        got += (size_t)n;
    }
    return 0;
}

int vm_resident(uintptr_t addr, size_t npages, unsigned char *vec)
{
    return syscall(SYS_mincore, addr, npages * PAGE_SZ, vec) < 0 ? errno : 0;
}

int vm_mapped(uintptr_t addr, size_t npages, unsigned char *vec)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    uint64_t e[64];
    int err = 0;
    for (size_t done = 0; !err && done < npages;) {
        size_t n = npages - done < 64 ? npages - done : 64;
        err = vm_pagemap(fd, addr + done * PAGE_SZ, n, e);
        for (size_t i = 0; !err && i < n; i++)
            vec[done + i] = (e[i] & (VM_PM_PRESENT | VM_PM_SWAPPED)) != 0;
        done += n;
    }
    close(fd);
    return err;
}

int vm_page_unmapped(uintptr_t addr)
{
    unsigned char in = 0;
    if (syscall(SYS_mincore, addr, PAGE_SZ, &in) < 0 || (in & 1))
        return 0;
    /* mincore also says 0 for a page the kernel swapped out: pagemap tells;
     * without it (a process that is not dumpable) nobody can tell */
    return vm_mapped(addr, 1, &in) == 0 && !in;
}

int vm_populate(uintptr_t addr, size_t len, int write)
{
    int adv = write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
    return raw_madvise((void *)addr, len, adv) < 0 ? errno : 0;
}

/* Raw system calls: sanitizer runtimes turn mlock/munlock into no-ops,
 * and a range still locked would make MADV_DONTNEED fail. */
int vm_lock_on_fault(uintptr_t addr, size_t len)
{
    return syscall(SYS_mlock2, addr, len, MLOCK_ONFAULT) < 0 ? errno : 0;
}

int vm_unlock(uintptr_t addr, size_t len)
{
    return syscall(SYS_munlock, addr, len) < 0 ? errno : 0;
}

long vm_page_size(void)
{
    return sysconf(_SC_PAGESIZE);
}
