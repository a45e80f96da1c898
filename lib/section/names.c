/*
 * section/names.c -- named page-file sections across processes: the object
 * behind each name, who holds it, and stale names (section/names.h).
 *
 * What the creator made is kept in the object's permission bits, so an
 * opener in another process sees it without a header inside the memory:
 * owner write = PAGE_READWRITE (else read-only), owner execute = an
 * execute form (PAGE_EXECUTE_WRITECOPY included), the sticky bit =
 * SEC_RESERVE.  A copy-on-write section reads back as its read-only form:
 * Windows' rules treat the two alike (the views and protections they allow
 * are the same).  The object starts with the section's page-state table
 * (section/vtable.h), whose header holds the data's size and the path of
 * the section's slot file (section/vslot.h); the slot file is made with
 * the object and removed with it.
 */
#include "section/names.h"
#include "section/section.h"
#include "section/vslot.h"
#include "section/vtable.h"
#include "os/file.h"
#include "os/fileopen.h"
#include "os/procinfo.h"
#include "os/shm.h"
#include "os/time.h"
#include "core/prot.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MODE_W       0200u
#define MODE_X       0100u
#define MODE_RESERVE 01000u

#define EXEC_FORMS (WPROT_EXECUTE | WPROT_EXECUTE_READ | WPROT_EXECUTE_READWRITE | \
                    WPROT_EXECUTE_WRITECOPY)

int names_object(const char *win, char *out, size_t cap)
{
    /* Windows' two namespaces are one here (no sessions). */
    if (strncmp(win, "Local\\", 6) == 0)
        win += 6;
    else if (strncmp(win, "Global\\", 7) == 0)
        win += 7;
    if (!*win || strchr(win, '\\'))
        return EINVAL;
    int n = snprintf(out, cap, "/libvmem.%u.", os_uid());
    if (n < 0 || (size_t)n >= cap)
        return ENAMETOOLONG;
    size_t at = (size_t)n;
    for (const unsigned char *c = (const unsigned char *)win; *c; c++) {
        int plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
        if (at + (plain ? 1 : 3) >= cap)
            return ENAMETOOLONG;
        if (plain) {
            out[at++] = (char)*c;
        } else {
            /* '%' escapes everything else, '/' included (names are case
             * sensitive, as on Windows, so no folding) */
            static const char hex[] = "0123456789ABCDEF";
            out[at++] = '%';
            out[at++] = hex[*c >> 4];
            out[at++] = hex[*c & 15];
        }
    }
    out[at] = 0;
    return 0;
}

/* How long a create, open or release waits for the registry lock before
 * failing with ETIMEDOUT: a holder stopped (SIGSTOP, a debugger) must not
 * hang every other process (docs/sections.md). */
#define REGISTRY_WAIT_NS (3ull * 1000000000ull)

/* An object found at one of our names is used only if it is ours: a
 * regular file of this user without group or other access.  A symlink
 * (ELOOP: shm_open does not follow one) is refused the same way.  Objects
 * of other users are never removed: they are not ours to remove. */
static int own_open(const char *name, int create, int *fd)
{
    int err = os_shm_open(name, create, fd);
    if (err == ELOOP)
        return EACCES;
    if (err)
        return err;
    if ((err = os_shm_check_own(*fd)) != 0) {
        os_file_close(*fd);
        return err;
    }
    return 0;
}

/* The registry lock: an exclusive flock held for one create, open or
 * release, taken without blocking and retried for REGISTRY_WAIT_NS.  Its
 * name has a '!', which no escaped section name has (names_object), so no
 * section can collide with it.  *fd receives the descriptor to pass to
 * registry_unlock.  Called with no lock of libvmem held (it naps). */
static int registry_lock(int *fd)
{
    char name[64];
    snprintf(name, sizeof name, "/libvmem.%u!registry", os_uid());
    int err = own_open(name, 1, fd);
    if (err == EEXIST)
        err = own_open(name, 0, fd);
    if (err)
        return err;
    uint64_t until = os_now_ns() + REGISTRY_WAIT_NS, nap = 100000;
    while ((err = os_flock(*fd, OS_LOCK_EX | OS_LOCK_NB)) == EWOULDBLOCK) {
        if (os_now_ns() >= until) {
            err = ETIMEDOUT;
            break;
        }
        os_nap_ns(nap);
        if (nap < 10000000)
            nap *= 2;
    }
    if (err) {
        os_file_close(*fd);
        return err;
    }
    return 0;
}

static void registry_unlock(int fd)
{
    os_file_close(fd); /* closing the only descriptor drops the lock */
}

/* 1 if no process holds the object open at fd: an exclusive lock on a
 * descriptor of our own would conflict with any holder's shared one. */
static int unheld(int fd)
{
    if (os_flock(fd, OS_LOCK_EX | OS_LOCK_NB) != 0)
        return 0;
    os_flock(fd, OS_LOCK_UN);
    return 1;
}

static int read_info(int fd, struct names_info *info)
{
    unsigned mode;
    int err = vt_probe(fd, &info->data_off, &info->size, info->slot_path,
                       sizeof info->slot_path, &info->slot_id);
    if (!err)
        err = os_file_mode(fd, &mode);
    if (err)
        return err;
    int w = (mode & MODE_W) != 0, x = (mode & MODE_X) != 0;
    info->protect = x ? (w ? WPROT_EXECUTE_READWRITE : WPROT_EXECUTE_READ)
                      : (w ? WPROT_READWRITE : WPROT_READONLY);
    info->reserve = (mode & MODE_RESERVE) != 0;
    return 0;
}

/* A second descriptor of obj, holding it with a shared lock. */
static int take_hold(const char *obj, int data, int *hold)
{
    int err = own_open(obj, 0, hold);
    if (err)
        return err;
    if (os_file_id(*hold) != os_file_id(data)) /* replaced meanwhile */
        err = EAGAIN;
    if (err || (err = os_flock(*hold, OS_LOCK_SH | OS_LOCK_NB)) != 0) {
        os_file_close(*hold);
        return err;
    }
    return 0;
}

/* Removes the name obj, whose object is open at fd; its slot file's path
 * and identity into gone ("" if none) and gone_id, for vslot_remove once the registry lock is let
 * go (a file system's unlink may wait on its journal). */
static void remove_object(const char *obj, int fd, char *gone, uint64_t *gone_id)
{
    uint64_t off, size;
    if (vt_probe(fd, &off, &size, gone, VT_PATH_MAX, gone_id) != 0)
        gone[0] = 0;
    os_shm_unlink(obj);
}

/* Opens obj if it exists and is held; removes it if stale (its slot file's
 * path and identity into gone, gone_id).  ENOENT when there is none (any
 * more). */
static int open_held(const char *obj, struct names_info *info, int *data, int *hold, char *gone,
                     uint64_t *gone_id)
{
    int err = own_open(obj, 0, data);
    if (err)
        return err;
    if (unheld(*data)) {
        /* left by a process that ended without letting go (killed) */
        remove_object(obj, *data, gone, gone_id);
        os_file_close(*data);
        return ENOENT;
    }
    info->slot_fd = -1;
    if ((err = read_info(*data, info)) != 0 || (err = take_hold(obj, *data, hold)) != 0) {
        os_file_close(*data);
        return err;
    }
    return 0;
}

/* The slot file of a section open_held opened, opened once the registry
 * lock is let go (its file system may be slow, or stalled: other
 * processes' creates and opens do not wait for it); the hold keeps the
 * name, so the slot file stays.  On a failure the section is let go. */
static int open_slot(struct names_info *info, int *data, int *hold)
{
    if (!info->slot_path[0])
        return 0;
    int err = vslot_open(info->slot_path, info->slot_id, &info->slot_fd);
    if (err == SECTION_E_SLOT_CHANGED)
        vmem_log("the slot file %s of a named section is missing or is not the file the "
                 "section was made with (removed or replaced): the section is not opened",
                 info->slot_path);
    if (err) {
        info->slot_fd = -1;
        os_file_close(*hold);
        os_file_close(*data);
    }
    return err;
}

int names_create(const char *obj, struct names_info *info, int *existed, int *data, int *hold)
{
    /* the slot file first, made and (if not used) removed with no registry
     * lock held; without one (no page-file directory) the section is never
     * paged (section/vpage.h) */
    char made[VT_PATH_MAX] = "", gone[VT_PATH_MAX] = "", stale[VT_PATH_MAX] = "";
    uint64_t made_id = 0, gone_id = 0, stale_id = 0;
    int made_fd = -1;
    if (vslot_create_named(made, sizeof made, &made_fd) != 0)
        made[0] = 0;
    else
        made_id = os_file_id(made_fd);
    int reg, err = registry_lock(&reg);
    if (err) {
        memcpy(gone, made, sizeof gone), gone_id = made_id;
        goto unused;
    }
    err = open_held(obj, info, data, hold, stale, &stale_id);
    if (err != ENOENT) {
        *existed = 1;
        memcpy(gone, made, sizeof gone), gone_id = made_id;
        goto out;
    }
    *existed = 0;
    /* O_EXCL, mode 0600: under the registry lock, a name taken meanwhile
     * is one another user made (own_open refused it above or here) */
    if ((err = own_open(obj, 1, data)) != 0) {
        memcpy(gone, made, sizeof gone), gone_id = made_id;
        goto out;
    }
    unsigned mode = 0400u | (prot_is_writable(info->protect) ? MODE_W : 0) |
                    ((info->protect & EXEC_FORMS) ? MODE_X : 0) |
                    (info->reserve ? MODE_RESERVE : 0);
    memcpy(info->slot_path, made, sizeof info->slot_path);
    info->slot_path[sizeof info->slot_path - 1] = 0;
    info->data_off = vt_data_off(info->size);
    if ((err = os_file_truncate(*data, (off_t)(info->data_off + info->size))) != 0 ||
        (err = vt_format(*data, info->size, made, made_id)) != 0 ||
        (err = os_file_set_mode(*data, mode)) != 0 ||
        (err = take_hold(obj, *data, hold)) != 0) {
        os_shm_unlink(obj);
        os_file_close(*data);
        memcpy(gone, made, sizeof gone), gone_id = made_id;
    } else {
        info->slot_fd = made_fd; /* the section's now */
        made_fd = -1;
    }
out:
    registry_unlock(reg);
    if (*existed && !err)
        err = open_slot(info, data, hold);
unused:
    if (made_fd >= 0)
        os_file_close(made_fd);
    vslot_remove(gone, gone_id);
    vslot_remove(stale, stale_id);
    return err;
}

int names_open(const char *obj, struct names_info *info, int *data, int *hold)
{
    char stale[VT_PATH_MAX] = "";
    uint64_t stale_id = 0;
    int reg, err = registry_lock(&reg);
    if (err)
        return err;
    err = open_held(obj, info, data, hold, stale, &stale_id);
    registry_unlock(reg);
    if (!err)
        err = open_slot(info, data, hold);
    vslot_remove(stale, stale_id);
    return err;
}

void names_release(const char *obj, int hold)
{
    int reg;
    if (registry_lock(&reg) != 0) {
        /* cannot tell whether others hold it: keep the name (the next
         * create or open finds it stale once nobody does) */
        os_file_close(hold);
        return;
    }
    uint64_t id = os_file_id(hold);
    os_file_close(hold);
    int fd;
    char gone[VT_PATH_MAX] = "";
    uint64_t gone_id = 0;
    /* the name may have been removed and made anew by others meanwhile:
     * only the object this process held is removed */
    if (own_open(obj, 0, &fd) == 0) {
        if (os_file_id(fd) == id && unheld(fd))
            remove_object(obj, fd, gone, &gone_id);
        os_file_close(fd);
    }
    registry_unlock(reg);
    vslot_remove(gone, gone_id);
}
