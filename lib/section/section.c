/*
 * section/section.c -- sections: making one over a file or the page file,
 * finding a named one, counting its handles and views, and freeing it
 * (section/section.h).
 */
#include "section/section.h"
#include "section/names.h"
#include "section/vpage.h"
#include "section/vslot.h"
#include "core/internal_alloc.h"
#include "core/mutex.h"
#include "core/prot.h"
#include "core/vmem_internal.h"
#include "os/process.h"
#include "os/file.h"
#include "os/fileopen.h"
#include "os/shm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The counts of every section and the list of named ones. */
static pthread_mutex_t section_lock = PTHREAD_MUTEX_INITIALIZER;
static struct section *named;
static struct section *files; /* file sections, for section_file_mapped */

static void lock(void) { mutex_take("section_lock", &section_lock); }
static void unlock(void) { mutex_give("section_lock", &section_lock); }

/* The first name registers section_release_names to run at exit, as
 * Windows closes a process's handles when it ends. */
static int exit_hook;

static void release_names_at_exit(int status, void *arg)
{
    (void)status;
    (void)arg;
    section_release_names();
}

static void add_named(struct section *s)
{
    s->next = named;
    named = s;
    if (!exit_hook)
        exit_hook = os_on_exit(release_names_at_exit, NULL) == 0;
}

static struct section *find_named(const char *obj)
{
    for (struct section *s = named; s; s = s->next)
        if (strcmp(s->obj, obj) == 0)
            return s;
    return NULL;
}

static void unlink_named(struct section *s)
{
    for (struct section **pp = &named; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            return;
        }
}

static struct section *section_new(void)
{
    struct section *s = ialloc_pages(sizeof(*s));
    if (!s)
        return NULL;
    s->fd = -1;
    s->hold = -1;
    s->slot_fd = -1;
    s->handles = 1;
    s->refs = 1;
    return s;
}

/* SEC_RESERVE: the bitmap of pages committed (section.h). */
static size_t bitmap_bytes(const struct section *s)
{
    return (size_t)((s->size / 4096 + 7) / 8);
}

static int make_bitmap(struct section *s)
{
    if (!s->reserve)
        return 0;
    s->committed = ialloc_pages(bitmap_bytes(s));
    return s->committed ? 0 : ENOMEM;
}

static void section_free(struct section *s)
{
    if (s->committed)
        ifree_pages(s->committed, bitmap_bytes(s));
    vt_unmap(&s->vt);
    if (s->slot_fd >= 0)
        os_file_close(s->slot_fd);
    if (s->fd >= 0)
        os_file_close(s->fd);
    ifree_pages(s, sizeof(*s));
}

/* A page-file section's table is mapped when its views can be paged:
 * writable (a read-only one stays zeros) and with a slot file.  Without
 * it the views are the kernel's, as a file's. */
static int map_table(struct section *s)
{
    if (s->slot_fd < 0 || !prot_is_writable(s->protect))
        return 0;
    return vt_map(s->fd, s->data_off, s->size, &s->vt);
}

/* An unnamed page-file section's memory: the table, then the data. */
static int unnamed_memory(struct section *s)
{
    int err = os_memfd("libvmem-section", &s->fd);
    if (err)
        return err;
    s->data_off = vt_data_off(s->size);
    if ((err = os_file_truncate(s->fd, (off_t)(s->data_off + s->size))) != 0 ||
        (err = vt_format(s->fd, s->size, "", 0)) != 0)
        return err;
    if (vslot_create_unnamed(&s->slot_fd) != 0)
        s->slot_fd = -1; /* no page-file directory: never paged */
    return 0;
}

/* A file's section: the rules of CreateFileMapping for its size and the
 * file handle's access.  No lock held. */
static int file_section(const struct section_req *req, struct section *s)
{
    int writable = prot_is_writable(req->protect);
    int exec = (req->protect & (WPROT_EXECUTE_READ | WPROT_EXECUTE_READWRITE |
                                WPROT_EXECUTE_WRITECOPY)) != 0;
    /* Windows: an execute section needs GENERIC_EXECUTE on the file */
    if (!req->file_read || (writable && !req->file_write) || (exec && !req->file_exec))
        return EACCES;
    uint64_t fsize;
    int err = os_file_size(req->file_fd, &fsize);
    if (err)
        return err;
    uint64_t size = req->size ? req->size : fsize;
    if (size == 0)
        return SECTION_E_SIZE_ZERO;
    if (size > fsize) {
        /* a larger section grows a file it may write, as on Windows */
        if (!writable)
            return SECTION_E_TOO_BIG;
        /* with its blocks: a sparse growth would meet a full file system
         * only at a write through a view (SIGBUS).  A failure leaves the
         * file's size as it was. */
        if (size > (uint64_t)INT64_MAX)
            return EFBIG;
        if ((err = os_file_reserve(req->file_fd, (off_t)fsize, (off_t)(size - fsize))) != 0) {
            uint64_t now;
            if (os_file_size(req->file_fd, &now) == 0 && now > fsize)
                os_file_truncate(req->file_fd, (off_t)fsize); /* only what it grew */
            return err;
        }
    }
    if ((err = os_file_dup(req->file_fd, &s->fd)) != 0)
        return err;
    s->size = size;
    s->file_backed = 1;
    s->no_exec = !req->file_exec;
    s->file_id = os_file_id(s->fd);
    return 0;
}

int section_create(const struct section_req *req, struct section **out, int *existed)
{
    *existed = 0;
    char obj[NAMES_MAX] = "";
    int err;
    if (req->name && (err = names_object(req->name, obj, sizeof obj)) != 0)
        return err;
    if (obj[0]) {
        /* an existing name is returned as it is: nothing of the request
         * (a file to grow) is done for it */
        lock();
        struct section *old = find_named(obj);
        if (old) {
            old->handles++;
            old->refs++;
        }
        unlock();
        if (old) {
            *out = old;
            *existed = 1;
            return 0;
        }
    }
    struct section *s = section_new();
    if (!s)
        return ENOMEM;
    s->protect = req->protect;
    if (req->file_fd >= 0) {
        /* a named file section is named within this process only
         * (docs/sections.md) */
        if ((err = file_section(req, s)) != 0)
            goto fail;
    } else {
        if (req->size > UINT64_MAX - 4095) { /* would round to 0 */
            err = SECTION_E_TOO_BIG;
            goto fail;
        }
        s->size = (req->size + 4095) & ~(uint64_t)4095;
        s->reserve = req->reserve;
    }

    /* the object is made or opened with no lock held: the registry lock
     * across processes may take a while (names.c) */
    if (req->file_fd < 0) {
        if (obj[0]) {
            struct names_info info = { .size = s->size, .protect = s->protect,
                                       .reserve = s->reserve };
            err = names_create(obj, &info, existed, &s->fd, &s->hold);
            if (!err && *existed) {
                s->size = info.size;
                s->protect = info.protect;
                s->reserve = info.reserve;
            }
            if (!err) {
                s->data_off = info.data_off;
                s->slot_fd = info.slot_fd;
            }
        } else {
            err = unnamed_memory(s);
        }
        if (!err)
            err = map_table(s);
        if (err) {
            if (s->hold >= 0)
                names_release(obj, s->hold);
            s->hold = -1;
            goto fail;
        }
    }

    lock();
    struct section *old = obj[0] ? find_named(obj) : NULL;
    if (old) {
        /* another thread named it meanwhile: its section is the one */
        old->handles++;
        old->refs++;
        unlock();
        if (s->hold >= 0)
            names_release(obj, s->hold);
        s->hold = -1;
        section_free(s);
        *out = old;
        *existed = 1;
        return 0;
    }
    if ((err = make_bitmap(s)) != 0) {
        unlock();
        if (s->hold >= 0)
            names_release(obj, s->hold);
        s->hold = -1;
        goto fail;
    }
    if (obj[0]) {
        memcpy(s->obj, obj, sizeof obj);
        add_named(s);
    }
    if (s->file_backed) {
        s->fnext = files;
        files = s;
    }
    unlock();
    *out = s;
    return 0;
fail:
    section_free(s);
    return err;
}

int section_open(const char *name, struct section **out)
{
    char obj[NAMES_MAX];
    int err = names_object(name, obj, sizeof obj);
    if (err)
        return err == EINVAL ? ENOENT : err;
    lock();
    struct section *s = find_named(obj);
    if (s) {
        s->handles++;
        s->refs++;
        unlock();
        *out = s;
        return 0;
    }
    unlock();
    if (!(s = section_new()))
        return ENOMEM;
    struct names_info info;
    if ((err = names_open(obj, &info, &s->fd, &s->hold)) != 0) {
        section_free(s);
        return err;
    }
    s->size = info.size;
    s->protect = info.protect;
    s->reserve = info.reserve;
    s->data_off = info.data_off;
    s->slot_fd = info.slot_fd;
    if ((err = map_table(s)) != 0) {
        names_release(obj, s->hold);
        s->hold = -1;
        section_free(s);
        return err;
    }
    lock();
    struct section *old = find_named(obj);
    if (old || (err = make_bitmap(s)) != 0) {
        if (old) {
            old->handles++;
            old->refs++;
        }
        unlock();
        names_release(obj, s->hold);
        s->hold = -1;
        section_free(s);
        *out = old;
        return err;
    }
    memcpy(s->obj, obj, sizeof obj);
    add_named(s);
    unlock();
    *out = s;
    return 0;
}

void section_view_ref(struct section *s)
{
    lock();
    s->refs++;
    unlock();
}

void section_handle_ref(struct section *s)
{
    lock();
    s->handles++;
    s->refs++;
    unlock();
}

/* Drops one reference (and one handle if `handle`); the last handle lets
 * go of the name, the last reference frees s. */
static void put(struct section *s, int handle)
{
    char obj[NAMES_MAX] = "";
    int hold = -1;
    lock();
    if (handle && --s->handles == 0 && s->obj[0]) {
        /* Windows drops a name with its last handle, views or not */
        unlink_named(s);
        memcpy(obj, s->obj, sizeof obj);
        hold = s->hold;
        s->hold = -1;
        s->obj[0] = 0;
    }
    int last = --s->refs == 0;
    if (last && s->file_backed)
        for (struct section **pp = &files; *pp; pp = &(*pp)->fnext)
            if (*pp == s) {
                *pp = s->fnext;
                break;
            }
    unlock();
    if (hold >= 0)
        names_release(obj, hold); /* no lock held: it may wait (names.c) */
    if (last)
        section_free(s);
}

int section_last_ref(struct section *s)
{
    lock();
    int last = s->refs == 1 && s->handles == 0;
    unlock();
    return last;
}

int section_file_mapped(uint64_t id)
{
    int mapped = 0;
    lock();
    for (struct section *s = files; s && !mapped; s = s->fnext)
        mapped = s->file_id == id && s->refs > s->handles; /* views */
    unlock();
    return mapped;
}

void section_release_names(void)
{
    for (;;) {
        char obj[NAMES_MAX];
        lock();
        struct section *s = named;
        if (s) {
            named = s->next;
            memcpy(obj, s->obj, sizeof obj);
            int hold = s->hold;
            s->hold = -1;
            s->obj[0] = 0;
            unlock();
            if (hold >= 0)
                names_release(obj, hold);
            continue;
        }
        unlock();
        return;
    }
}

void section_view_put(struct section *s) { put(s, 0); }
void section_handle_put(struct section *s) { put(s, 1); }

void section_fork_prepare(void)
{
    lock();
    vpage_fork_prepare();
}
void section_fork_parent(void)
{
    vpage_fork_parent();
    unlock();
}
void section_fork_child(void)
{
    vpage_fork_child();
    unlock();
}
