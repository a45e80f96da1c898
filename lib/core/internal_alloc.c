/*
 * internal_alloc.c -- mmap-backed allocation for the library's bookkeeping.
 *
 * 4 KiB blocks are carved from 1 MiB chunks and recycled through a free
 * list, so a commit that needs thousands of page-table leaves costs a few
 * mmap calls, not thousands.  Chunks are never returned to the kernel.
 *
 * Lock: block_lock guards the free list and the current chunk; it is a leaf
 * lock (nothing is called while holding it).
 */
#include "core/internal_alloc.h"
#include "core/vmem_internal.h"
#include "os/vm.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

void *ialloc_pages(size_t bytes)
{
    uintptr_t p;
    return vm_map_anon(round_up(bytes, PAGE_SZ), PROT_READ | PROT_WRITE, 1, &p) ? NULL
                                                                                : (void *)p;
}

void ifree_pages(void *p, size_t bytes)
{
    if (p)
        vm_unmap((uintptr_t)p, round_up(bytes, PAGE_SZ));
}

#define BLOCK_SZ  4096u
#define CHUNK_SZ  (1u << 20)

struct free_block { struct free_block *next; };

static pthread_mutex_t block_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *ialloc_fork_lock(void) { return &block_lock; }
static struct free_block *free_list;
static char *chunk_next, *chunk_end;

void *ialloc_block(void)
{
    void *p = NULL;
    pthread_mutex_lock(&block_lock);
    if (free_list) {
        p = free_list;
        free_list = free_list->next;
    } else {
        if (chunk_next == chunk_end) {
            char *c = ialloc_pages(CHUNK_SZ);
            if (c) {
                chunk_next = c;
                chunk_end = c + CHUNK_SZ;
            }
        }
        if (chunk_next != chunk_end) {
            p = chunk_next;
            chunk_next += BLOCK_SZ;
            pthread_mutex_unlock(&block_lock);
            return p; /* fresh from mmap: already zero */
        }
    }
    pthread_mutex_unlock(&block_lock);
    if (p)
        memset(p, 0, BLOCK_SZ);
    return p;
}

void ifree_block(void *p)
{
    if (!p)
        return;
    struct free_block *b = p;
    pthread_mutex_lock(&block_lock);
    b->next = free_list;
    free_list = b;
    pthread_mutex_unlock(&block_lock);
}
