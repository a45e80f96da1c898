/*
 * sys.h -- this library's memory system calls, made directly (never through
 * the wrappers it exports), and the mark of libvmem's own threads.
 */
#ifndef PRELOAD_SYS_H
#define PRELOAD_SYS_H

#include <stdint.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

void *preload_sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int preload_sys_munmap(void *addr, size_t len);
void *preload_sys_mremap(void *old, size_t old_len, size_t new_len, int flags, ...);
int preload_sys_madvise(void *addr, size_t len, int advice);
int preload_sys_mprotect(void *addr, size_t len, int prot);

/* The thread creator of libvmem (os_thread_set_creator, installed by the
 * constructor before libvmem starts): pthread_create, and the new thread is
 * marked internal, so its mallocs and mmaps are never managed memory (a
 * fault thread must never fault). */
int preload_internal_thread_create(pthread_t *t, const pthread_attr_t *attr,
                                   void *(*fn)(void *), void *arg);

/* Nonzero in a thread libvmem started (fault threads, the trimmer). */
/* libc's text: its own allocations are served by the fallback heap
 * (malloc_api.c); set by preload_start before the managed heap. */
extern uintptr_t preload_libc_lo, preload_libc_hi;

extern __thread int preload_in_internal_thread __attribute__((tls_model("initial-exec")));

#endif
