/*
 * libvmem_renames.h -- forced into every libvmem source compiled into
 * libvmem-preload.so (-include).  The preload library exports mmap, munmap,
 * mremap, madvise, mprotect and the malloc family; libvmem's own calls to
 * the memory functions must reach the kernel, not those wrappers, so they
 * are renamed here to raw system calls (sys.c).  pthread_create is renamed
 * so that threads libvmem starts are marked internal: their mallocs come
 * from memory libvmem does not manage (a fault thread must never fault on
 * managed memory).
 */
#ifndef PRELOAD_LIBVMEM_RENAMES_H
#define PRELOAD_LIBVMEM_RENAMES_H

/* With _FILE_OFFSET_BITS=64 glibc's header binds mmap to the assembler name
 * mmap64, which a macro cannot rename; on x86-64 off_t is 64-bit anyway. */
#undef _FILE_OFFSET_BITS

#define mmap           preload_sys_mmap
#define munmap         preload_sys_munmap
#define mremap         preload_sys_mremap
#define madvise        preload_sys_madvise
#define mprotect       preload_sys_mprotect
#define pthread_create preload_internal_thread_create

#endif
