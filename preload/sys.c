/*
 * sys.c -- raw memory system calls and internal-thread creation.
 *
 * glibc's mmap() is itself a thin wrapper; calling syscall() here keeps
 * these usable before dlsym works and avoids resolving to our own exports.
 * (libvmem's own memory calls are raw too, in its os/vm.c.)
 */
#include "sys.h"
#include "fallback_alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread int preload_in_internal_thread __attribute__((tls_model("initial-exec")));

void *preload_sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    return r == -1 ? MAP_FAILED : (void *)r;
}

int preload_sys_munmap(void *addr, size_t len)
{
    return (int)syscall(SYS_munmap, addr, len);
}

void *preload_sys_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *new_addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    long r = syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
    return r == -1 ? MAP_FAILED : (void *)r;
}

int preload_sys_madvise(void *addr, size_t len, int advice)
{
    return (int)syscall(SYS_madvise, addr, len, advice);
}

int preload_sys_mprotect(void *addr, size_t len, int prot)
{
    return (int)syscall(SYS_mprotect, addr, len, prot);
}

struct thread_start {
    void *(*fn)(void *);
    void *arg;
};

static void *internal_thread_main(void *p)
{
    struct thread_start s = *(struct thread_start *)p;
    fallback_free(p);
    preload_in_internal_thread = 1;
    return s.fn(s.arg);
}

int preload_internal_thread_create(pthread_t *t, const pthread_attr_t *attr,
                                   void *(*fn)(void *), void *arg)
{
    struct thread_start *s = fallback_malloc(sizeof(*s));
    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    int err = pthread_create(t, attr, internal_thread_main, s);
    if (err)
        fallback_free(s);
    return err;
}
