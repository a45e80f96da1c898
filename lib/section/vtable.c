/*
 * section/vtable.c -- the page-state table shared by the processes of a
 * page-file section (section/vtable.h): its layout, header, mapping, and
 * the entries' lock words and the processes' tokens.
 */
#include "section/vtable.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"
#include "core/vmem_internal.h"
#include "os/file.h"
#include "os/filelock.h"
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

#define VT_VERSION 2

static pthread_mutex_t vtable_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vtable *tables; /* vtable_lock */
static int getlk_warned;

int vt_format(int fd, uint64_t data_size, const char *slot_path, uint64_t slot_id)
{
    struct vt_header *h = ialloc_pages(PAGE_SZ);
    if (!h)
        return ENOMEM;
    h->magic = VT_MAGIC;
    h->version = VT_VERSION;
    h->slot_id = slot_id;
    h->data_off = vt_data_off(data_size);
    h->data_size = data_size;
    if (slot_path)
        strncpy(h->slot_path, slot_path, VT_PATH_MAX - 1);
    int err = os_file_write_full(fd, h, PAGE_SZ, 0);
    ifree_pages(h, PAGE_SZ);
    return err;
}

int vt_probe(int fd, uint64_t *data_off, uint64_t *data_size, char *path, size_t path_cap,
             uint64_t *slot_id)
{
    struct vt_header *h = ialloc_pages(PAGE_SZ);
    if (!h)
        return ENOMEM;
    int err = os_file_read_full(fd, h, PAGE_SZ, 0);
    if (!err && (h->magic != VT_MAGIC || h->version != VT_VERSION ||
                 h->data_off != vt_data_off(h->data_size)))
        err = EINVAL;
    if (!err) {
        *data_off = h->data_off;
        *data_size = h->data_size;
        if (slot_id)
            *slot_id = h->slot_id;
        if (path && path_cap) {
            h->slot_path[VT_PATH_MAX - 1] = 0;
            strncpy(path, h->slot_path, path_cap - 1);
            path[path_cap - 1] = 0;
        }
    }
    ifree_pages(h, PAGE_SZ);
    return err == EIO ? EINVAL : err; /* shorter than a header: not ours */
}

/* A token for this process: a description of its own of the memory at
 * t->fd, with a byte locked on it, tried from the header's ring counter. */
static int take_token(struct vtable *t)
{
    int fd, err = os_filelock_reopen(t->fd, &fd);
    if (err)
        return err;
    uint32_t at = __atomic_fetch_add(&t->hdr->next_token, 1, __ATOMIC_RELAXED) % VT_TOKENS;
    for (unsigned tries = 0; tries < 4096; tries++, at = (at + 1) % VT_TOKENS) {
        err = os_filelock_take(fd, VT_TOKEN_BASE + at);
        if (err != EAGAIN)
            break;
    }
    if (err) {
        os_file_close(fd);
        return err == EAGAIN ? EMFILE : err;
    }
    t->tok_fd = fd;
    t->token = at + 1;
    return 0;
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
    t->fd = fd;
    t->data_off = data_off;
    t->tok_fd = -1;
    if ((err = take_token(t)) != 0) {
        vm_unmap((uintptr_t)p, t->map_len);
        t->hdr = NULL;
        t->ent = NULL;
        return err;
    }
    mutex_take("vtable_lock", &vtable_lock);
    t->next = tables;
    tables = t;
    mutex_give("vtable_lock", &vtable_lock);
    return 0;
}

void vt_unmap(struct vtable *t)
{
    if (!t->hdr)
        return;
    mutex_take("vtable_lock", &vtable_lock);
    for (struct vtable **pp = &tables; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    mutex_give("vtable_lock", &vtable_lock);
    vm_unmap((uintptr_t)t->hdr, t->map_len);
    t->hdr = NULL;
    t->ent = NULL;
    /* the token goes last: no lock word of ours is left in the table */
    if (t->tok_fd >= 0)
        os_file_close(t->tok_fd);
    t->tok_fd = -1;
}

/* 1 if the process whose token is tok (a lock word) is alive. */
static int token_alive(const struct vtable *t, uint32_t tok)
{
    int held = os_filelock_held(t->tok_fd, VT_TOKEN_BASE + tok - 1);
    if (held < 0) {
        /* cannot tell: wait on it as if alive, rather than take a lock
         * a live process may hold */
        if (!__atomic_exchange_n(&getlk_warned, 1, __ATOMIC_RELAXED))
            vmem_log("section: cannot test a page lock holder's token: %s", strerror(-held));
        return 1;
    }
    return held;
}

/* e's lock, taken over from a dead holder: what it may have left half done
 * put in order.  Its steps (vpage.c) store a page's state only once the
 * data is where the state says, except a page coming in from its slot
 * (state OUT until the memory has the whole page): its memory copy goes,
 * and the slot, checked by its crc at the next fault, is the page. */
static void repair(struct vtable *t, struct vt_entry *e)
{
    if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != VT_OUT)
        return;
    uint64_t pg = (uint64_t)(e - t->ent);
    os_file_punch(t->fd, (off_t)(t->data_off + pg * PAGE_SZ), PAGE_SZ);
}

int vt_trylock(struct vtable *t, struct vt_entry *e)
{
    for (unsigned spins = 0; spins < 4096; spins++) {
        uint32_t cur = 0;
        if (__atomic_compare_exchange_n(&e->lock, &cur, t->token, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return 0;
        if (spins < 64) {
            __builtin_ia32_pause();
            continue;
        }
        /* held long: by a process that died holding it?  (cur == our own
         * token: a dead process's before the ring came round, since this
         * process takes entry locks one at a time under vpage_lock) */
        if ((spins & 63) == 0 && (cur == t->token || !token_alive(t, cur)) &&
            __atomic_compare_exchange_n(&e->lock, &cur, t->token, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            repair(t, e);
            return 0;
        }
        os_yield();
    }
    return EBUSY;
}

int vt_trylock_now(struct vtable *t, struct vt_entry *e)
{
    uint32_t cur = 0;
    return __atomic_compare_exchange_n(&e->lock, &cur, t->token, 0, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED) ? 0 : EBUSY;
}

void vt_lock(struct vtable *t, struct vt_entry *e)
{
    while (vt_trylock(t, e) != 0)
        os_yield();
}

void vt_unlock(struct vt_entry *e)
{
    __atomic_store_n(&e->lock, 0, __ATOMIC_RELEASE);
}

void vt_fork_prepare(void) { mutex_take("vtable_lock", &vtable_lock); }
void vt_fork_parent(void) { mutex_give("vtable_lock", &vtable_lock); }

void vt_fork_child(void)
{
    for (struct vtable *t = tables; t; t = t->next) {
        int inherited = t->tok_fd;
        if (take_token(t) != 0) {
            /* the parent's token then: this child's locks look alive
             * while either lives (never taken from a live holder) */
            vmem_log("section: a forked child could not take a token of its own; a page lock "
                     "it holds when it dies waits for its parent's end");
            continue;
        }
        os_file_close(inherited); /* the parent's description: its token */
    }
    mutex_give("vtable_lock", &vtable_lock);
}
