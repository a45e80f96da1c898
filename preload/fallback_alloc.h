/*
 * fallback_alloc.h -- memory libvmem does not manage: served before the
 * managed heap exists (the dynamic loader's and libc's first mallocs, our
 * own start-up), to libvmem's own threads, and if libvmem cannot start.
 * Small objects come from a span heap over 4 GiB of MAP_NORESERVE
 * anonymous memory mapped with a raw system call at the first call; large
 * ones are plain mappings of their own.  Needs nothing initialised.
 */
#ifndef PRELOAD_FALLBACK_ALLOC_H
#define PRELOAD_FALLBACK_ALLOC_H

#include <stddef.h>

void *fallback_malloc(size_t size);
void *fallback_memalign(size_t align, size_t size); /* align: power of two */
void fallback_free(void *p);
/* 1 if p is a fallback block; *usable gets its usable size. */
int fallback_owns(const void *p, size_t *usable);

void fallback_lock_all(void);   /* fork */
void fallback_unlock_all(void);

#endif
