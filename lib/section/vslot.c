/*
 * section/vslot.c -- making, opening and removing sections' slot files
 * (section/vslot.h).
 */
#include "section/vslot.h"
#include "section/section.h"
#include "section/vtable.h"
#include "core/runtime.h"
#include "core/vmem_internal.h"
#include "os/file.h"
#include "os/shm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_BASE "libvmem-section."

/* The page-file directory: VMEM_PAGEFILE if a directory, the directory of
 * the path it names otherwise; else $TMPDIR, else /var/tmp. */
static void slot_dir_given(char *out, size_t cap)
{
    const char *p = vmem_rt.cfg.pagefile;
    int is_dir = 0;
    if (p[0] && os_file_kind(p, &is_dir) == 0 && is_dir) {
        snprintf(out, cap, "%s", p);
        return;
    }
    if (p[0]) {
        const char *slash = strrchr(p, '/');
        if (!slash)
            snprintf(out, cap, ".");
        else if (slash == p)
            snprintf(out, cap, "/");
        else
            snprintf(out, cap, "%.*s", (int)(slash - p), p);
        return;
    }
    const char *t = getenv("TMPDIR");
    snprintf(out, cap, "%s", t && t[0] ? t : "/var/tmp");
}

/* The slot files' directory, absolute: a named section's table records
 * its slot file for processes with other working directories, and for its
 * removal after a chdir (VMEM_PAGEFILE is made absolute at start,
 * api/init.c; a relative TMPDIR is made so here).  Left as given if the
 * working directory cannot be told. */
static void slot_dir(char *out, size_t cap)
{
    char given[512], abs[512];
    slot_dir_given(given, sizeof given);
    if (given[0] != '/' && os_file_absolute(given, abs, sizeof abs) == 0)
        snprintf(out, cap, "%s", abs);
    else
        snprintf(out, cap, "%s", given);
}

int vslot_create_unnamed(int *fd)
{
    char dir[512], tmpl[600];
    slot_dir(dir, sizeof dir);
    int err = os_file_open_tmpfile(dir, fd);
    if (err != EOPNOTSUPP && err != EISDIR && err != EINVAL)
        return err;
    /* no O_TMPFILE on this file system: a unique name, removed at once */
    if ((size_t)snprintf(tmpl, sizeof tmpl, "%s/" SLOT_BASE "XXXXXX", dir) >= sizeof tmpl)
        return ENAMETOOLONG;
    if ((err = os_file_make_unique(tmpl, fd)) != 0)
        return err;
    os_file_unlink(tmpl);
    return 0;
}

int vslot_create_named(char *path, size_t cap, int *fd)
{
    char dir[512];
    slot_dir(dir, sizeof dir);
    if ((size_t)snprintf(path, cap, "%s/" SLOT_BASE "XXXXXX", dir) >= cap)
        return ENAMETOOLONG;
    return os_file_make_unique(path, fd);
}

/* 1 if path's last component is one of our names. */
static int our_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    return strncmp(b, SLOT_BASE, sizeof SLOT_BASE - 1) == 0 &&
           strlen(b) == sizeof SLOT_BASE - 1 + 6;
}

int vslot_open(const char *path, uint64_t id, int *fd)
{
    if (!our_name(path))
        return EACCES;
    int err = os_file_open_rw(path, fd);
    if (!err) {
        if ((err = os_shm_check_own(*fd)) == 0 && id && os_file_id(*fd) != id)
            err = SECTION_E_SLOT_CHANGED;
        if (err)
            os_file_close(*fd);
    }
    /* a section's slot file gone from its path, or something else there (a
     * symbolic link, another user's file): the file it was made with is not
     * there */
    if (id && (err == ENOENT || err == ELOOP || err == EACCES || err == EPERM))
        err = SECTION_E_SLOT_CHANGED;
    return err;
}

/* 1 if path is a regular file of this user, mode 0600, whose os_file_id
 * is id. */
static int is_ours(const char *path, uint64_t id)
{
    int fd, ours = 0;
    if (os_file_open_rw(path, &fd) == 0) {
        ours = os_shm_check_own(fd) == 0 && os_file_id(fd) == id;
        os_file_close(fd);
    }
    return ours;
}

void vslot_remove(const char *path, uint64_t id)
{
    /* Another file of the same user put at the path (the section's own
     * unlinked or replaced meanwhile) is not ours to remove, even one
     * swapped in between a check and an unlink: what is at the path is
     * moved aside first (atomically, to a name of its own), checked there,
     * and removed only if it is the section's; anything else is put back. */
    char aside[VT_PATH_MAX + 8];
    if (!path[0] || !id || !our_name(path) ||
        (size_t)snprintf(aside, sizeof aside, "%s.gone", path) >= sizeof aside)
        return;
    /* one left aside by a process killed between the move and the unlink */
    if (is_ours(aside, id))
        os_file_unlink(aside);
    int e = os_file_rename_noreplace(path, aside);
    if (e == EINVAL || e == ENOSYS || e == EOPNOTSUPP) {
        /* a file system without RENAME_NOREPLACE (NFS, CIFS, many FUSE
         * ones): checked, then removed (a swap in between is not seen) */
        if (is_ours(path, id))
            os_file_unlink(path);
        return;
    }
    if (e)
        return; /* gone already, or another process removing it */
    if (is_ours(aside, id))
        os_file_unlink(aside);
    else if ((e = os_file_rename_noreplace(aside, path)) != 0 && e != ENOENT)
        vmem_log("a file put at a section's slot-file path %s was moved to %s (something "
                 "else took the path meanwhile)", path, aside);
}
