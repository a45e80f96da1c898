/*
 * os/mapview.c -- mmap of a file at a fixed address and msync.  Like
 * os/vm.c, the mapping is a raw system call (the preload library exports
 * an mmap of its own), through libc only under a sanitizer (whose shadow
 * memory must see it).
 */
#include "os/mapview.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

int os_map_file_at(uintptr_t addr, size_t len, int prot, int fd, off_t off, int private)
{
    int flags = MAP_FIXED | (private ? MAP_PRIVATE : MAP_SHARED);
    void *p;
    if (SANITIZED) {
        p = mmap((void *)addr, len, prot, flags, fd, off);
    } else {
        long r = syscall(SYS_mmap, (void *)addr, len, prot, flags, fd, off);
        p = r == -1 ? MAP_FAILED : (void *)r;
    }
    if (p == MAP_FAILED)
        return errno;
    return 0;
}

int os_map_sync(uintptr_t addr, size_t len)
{
    return msync((void *)addr, len, MS_SYNC) < 0 ? errno : 0;
}
