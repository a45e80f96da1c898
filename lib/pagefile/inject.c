/*
 * pagefile/inject.c -- error injection for tests: failing I/Os, a failing
 * submission, and a device that lies about writes.
 */
#include "pagefile/pagefile.h"
#include "pagefile/file.h"
#include "pagefile/inject.h"
#include "core/internal_alloc.h"
#include "core/vmem_internal.h"
#include "os/file.h"

#include <string.h>

/* Injected errors count each thread's I/Os: a thread's retry then meets
 * the same pattern whatever the other threads do. */
static unsigned inject_every;
static VMEM_TLS unsigned inject_count;
static int inject_err;
static unsigned lie_every, lie_count;
static int lie_kind;
static int inject_submit;

void pagefile_inject_errors(unsigned every, int err)
{
    __atomic_store_n(&inject_err, err, __ATOMIC_RELAXED);
    inject_count = 0;
    __atomic_store_n(&inject_every, every, __ATOMIC_RELAXED);
}

int pf_inject_io(void)
{
    unsigned every = __atomic_load_n(&inject_every, __ATOMIC_RELAXED);
    if (!every)
        return 0;
    return ++inject_count % every == 0 ? inject_err : 0;
}

void pagefile_inject_submit_error(int err)
{
    __atomic_store_n(&inject_submit, err, __ATOMIC_RELAXED);
}

int pf_inject_submit(size_t inflight_before)
{
    if (inflight_before && __atomic_load_n(&inject_submit, __ATOMIC_RELAXED))
        return __atomic_exchange_n(&inject_submit, 0, __ATOMIC_RELAXED);
    return 0;
}

void pagefile_inject_lies(unsigned every, int kind)
{
    __atomic_store_n(&lie_kind, kind, __ATOMIC_RELAXED);
    __atomic_store_n(&lie_count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&lie_every, every, __ATOMIC_RELAXED);
}

static int lie_now(void)
{
    unsigned every = __atomic_load_n(&lie_every, __ATOMIC_RELAXED);
    if (!every)
        return 0;
    return __atomic_add_fetch(&lie_count, 1, __ATOMIC_RELAXED) % every == 0 ? lie_kind : 0;
}

void pf_lie_before(struct pf_lie *l, uint32_t slot, size_t bytes)
{
    l->kind = lie_now();
    l->old = NULL;
    if (l->kind == PF_LIE_DROP && (l->old = ialloc_pages(bytes)) != NULL &&
        os_file_read_full(pf_file_fd(), l->old, bytes, (off_t)(slot - 1) * PAGE_SZ) != 0)
        memset(l->old, 0, bytes); /* past the end: reads as zeros */
}

void pf_lie_after(struct pf_lie *l, uint32_t slot, size_t bytes, int result)
{
    off_t off = (off_t)(slot - 1) * PAGE_SZ;
    int fd = pf_file_fd();
    if (l->kind && !result) {
        /* acknowledged; now the device loses or mangles it */
        if (l->kind == PF_LIE_DROP && l->old) {
            (void)os_file_write_full(fd, l->old, bytes, off);
        } else if (l->kind == PF_LIE_FLIP) {
            uint8_t *pg = ialloc_pages(PAGE_SZ);
            if (pg && os_file_read_full(fd, pg, PAGE_SZ, off) == 0) {
                pg[PAGE_SZ / 3] ^= 0x10;
                (void)os_file_write_full(fd, pg, PAGE_SZ, off);
            }
            ifree_pages(pg, PAGE_SZ);
        }
    }
    ifree_pages(l->old, bytes);
    l->old = NULL;
}
