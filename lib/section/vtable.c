/*
 * section/vtable.c -- the page-state table shared by the processes of a
 * page-file section (section/vtable.h): its layout, header, mapping, and
 * the entries' lock words.
 */
#include "section/vtable.h"
#include "core/internal_alloc.h"
#include "core/vmem_internal.h"
#include "os/file.h"
#include "os/page.h"
#include "os/process.h"
#include "os/vm.h"

#include <errno.h>
#include <string.h>

uint64_t vt_data_off(uint64_t data_size)
{
    uint64_t npages = (data_size + PAGE_SZ - 1) / PAGE_SZ;
    return PAGE_SZ + round_up(npages * sizeof(struct vt_entry), PAGE_SZ);
}

int vt_format(int fd, uint64_t data_size, const char *slot_path)
{
    struct vt_header *h = ialloc_pages(PAGE_SZ);
    if (!h)
        return ENOMEM;
    h->magic = VT_MAGIC;
    h->version = 1;
    h->data_off = vt_data_off(data_size);
    h->data_size = data_size;
    if (slot_path)
        strncpy(h->slot_path, slot_path, VT_PATH_MAX - 1);
    int err = os_file_write_full(fd, h, PAGE_SZ, 0);
    ifree_pages(h, PAGE_SZ);
    return err;
}

int vt_probe(int fd, uint64_t *data_off, uint64_t *data_size, char *path, size_t path_cap)
{
    struct vt_header *h = ialloc_pages(PAGE_SZ);
    if (!h)
        return ENOMEM;
    int err = os_file_read_full(fd, h, PAGE_SZ, 0);
    if (!err && (h->magic != VT_MAGIC || h->version != 1 ||
                 h->data_off != vt_data_off(h->data_size)))
        err = EINVAL;
    if (!err) {
        *data_off = h->data_off;
        *data_size = h->data_size;
        if (path && path_cap) {
            h->slot_path[VT_PATH_MAX - 1] = 0;
            strncpy(path, h->slot_path, path_cap - 1);
            path[path_cap - 1] = 0;
        }
    }
    ifree_pages(h, PAGE_SZ);
    return err == EIO ? EINVAL : err; /* shorter than a header: not ours */
}

int vt_map(int fd, uint64_t data_off, uint64_t data_size, struct vtable *t)
{
    void *p;
    int err = vm_map_file(fd, (size_t)data_off, 1, &p);
    if (err)
        return err;
    t->hdr = p;
    t->ent = (struct vt_entry *)((char *)p + PAGE_SZ);
    t->npages = (data_size + PAGE_SZ - 1) / PAGE_SZ;
    t->map_len = (size_t)data_off;
    return 0;
}

void vt_unmap(struct vtable *t)
{
    if (t->hdr)
        vm_unmap((uintptr_t)t->hdr, t->map_len);
    t->hdr = NULL;
    t->ent = NULL;
}

void vt_lock(struct vt_entry *e)
{
    uint32_t me = (uint32_t)os_pid();
    for (unsigned spins = 0;; spins++) {
        uint32_t cur = 0;
        if (__atomic_compare_exchange_n(&e->lock, &cur, me, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return;
        if (spins < 64) {
            __builtin_ia32_pause();
            continue;
        }
        /* held long: by a process that died holding it?  Then its step in
         * progress left the entry consistent (vpage.c), and it is ours. */
        if (cur != me && (spins & 63) == 0 && !os_pid_alive((pid_t)cur) &&
            __atomic_compare_exchange_n(&e->lock, &cur, me, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return;
        os_yield();
    }
}

void vt_unlock(struct vt_entry *e)
{
    __atomic_store_n(&e->lock, 0, __ATOMIC_RELEASE);
}
