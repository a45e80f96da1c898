/*
 * pagefile/file.c -- the page file itself: creating it, its identity,
 * size and blocks on disk; opening and closing the page file as a whole.
 *
 * The file is an unlinked O_TMPFILE (mode 0600) in $TMPDIR or /var/tmp by
 * default, or in the directory VMEM_PAGEFILE names, so no other user can
 * read the process's memory and nothing is left behind; or, for a path
 * that does not exist, in that path's directory, the name never taken.
 * An existing non-directory path is refused and never touched.  The
 * descriptor is checked before each I/O (pf_file_checked), and the I/O
 * itself goes to the file each thread's ring registered (io.c).  It is
 * opened with O_DIRECT where the file system accepts it (checked with a
 * probe write), so paged-out memory does not also sit in the page cache.
 *
 * Opening and closing publish or retire the file, the slot bitmap
 * (slots.c) and the checksums (io.c) together under slot_lock.
 */
#include "pagefile/pagefile.h"
#include "pagefile/crc32c.h"
#include "pagefile/file.h"
#include "pagefile/hold.h"
#include "pagefile/io.h"
#include "pagefile/slots.h"
#include "core/internal_alloc.h"
#include "core/vmem_internal.h"
#include "os/fd.h"
#include "os/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEFAULT ((uint64_t)64 << 30)

static int pf_fd = -1;
static uint64_t pf_id;              /* the file's device and inode at open */
static int pf_direct;
static unsigned generation;         /* bumped per open and close */

int pf_file_fd(void)
{
    return pf_fd;
}

unsigned pf_file_generation(void)
{
    return __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
}

int pf_file_checked(void)
{
    int fd = pf_fd;
    if (fd >= 0 && os_file_id(fd) == pf_id)
        return fd;
    static int told;
    if (fd >= 0 && !__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
        vmem_log("the page file's descriptor (%d) was closed or replaced by the application: "
                 "no more page-file I/O", fd);
    return -1;
}

int pf_file_dup(int *out)
{
    int fd = pf_fd, d;
    if (fd < 0)
        return EBADF;
    int e = os_fd_dup_high(fd, 3, &d);
    if (e)
        return e == EBADF ? EBADF : EMFILE;
    if (os_file_id(d) == pf_id) {
        *out = d;
        return 0;
    }
    os_fd_close(d);
    (void)pf_file_checked(); /* says it, once */
    return EBADF;
}

/* ---- creating the file ---------------------------------------------------- */

static int probe_direct(int fd)
{
    void *buf = ialloc_pages(PAGE_SZ);
    if (!buf)
        return 0;
    size_t wrote = 0, got = 0;
    int ok = os_file_write_at(fd, buf, PAGE_SZ, 0, &wrote) == 0 && wrote == PAGE_SZ &&
             os_file_read_at(fd, buf, PAGE_SZ, 0, &got) == 0 && got == PAGE_SZ;
    ifree_pages(buf, PAGE_SZ);
    if (os_file_truncate(fd, 0))
        return 0;
    return ok;
}

/* Opens an unlinked file in dir: O_TMPFILE, else mkstemp + unlink.  The
 * descriptor, or -1 with errno set. */
static int open_in_dir(const char *dir)
{
    int fd = -1;
    int e = os_file_open_tmpfile(dir, &fd);
    if (!e)
        return fd;
    if (e != EOPNOTSUPP && e != EISDIR && e != EINVAL) {
        errno = e;
        return -1;
    }
    char tmpl[320];
    snprintf(tmpl, sizeof(tmpl), "%s/libvmem-pagefile-XXXXXX", dir);
    e = os_file_make_unique(tmpl, &fd);
    if (e) {
        errno = e;
        return -1;
    }
    (void)os_file_unlink(tmpl); /* ours: mkstemp created it */
    return fd;
}

/* A path that does not exist yet: the file is made in its directory
 * without ever taking the name (so processes given the same path never
 * meet, and nothing is left behind after any exit; the descriptor keeps
 * the file, forked children inherit it). */
static int open_new_path(const char *path)
{
    char dir[320];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if (strlen(path) >= sizeof(dir) - 32) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open_in_dir(dir);
}

/* Opens the page file: in a directory (where == NULL: $TMPDIR, else
 * /var/tmp), or at a new path.  *what and *shown say which, for messages. */
static int open_file(const char *where, const char **what, const char **shown)
{
    if (!where) {
        /* the default is a directory, never a path to create */
        where = getenv("TMPDIR");
        if (!where || !*where)
            where = "/var/tmp";
        *what = "in";
        *shown = where;
        return open_in_dir(where);
    }
    *shown = where;
    int is_dir = 0;
    if (os_file_kind(where, &is_dir) == 0) {
        if (is_dir) {
            *what = "in";
            return open_in_dir(where);
        }
        *what = "at";
        errno = EEXIST; /* never taken over, truncated or removed */
        return -1;
    }
    *what = "at";
    return open_new_path(where);
}

/* Turns O_DIRECT on where the file system accepts it for our I/O: 1, 0 if
 * not, -1 (errno set) if the descriptor cannot be put back as it was. */
static int try_direct(int fd)
{
    if (os_file_set_direct(fd, 1))
        return 0;
    if (probe_direct(fd))
        return 1;
    int e = os_file_set_direct(fd, 0);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

/* ---- opening and closing -------------------------------------------------- */

int pagefile_open(const char *where, uint64_t max_bytes, char *err, size_t errlen)
{
    pf_io_prepare(); /* here, not in a fault */
    if (pf_fd >= 0) {
        snprintf(err, errlen, "the page file is already open");
        return EALREADY;
    }
    crc32c_init();
    const char *what, *shown;
    int fd = open_file(where, &what, &shown);
    if (fd < 0) {
        int e = errno;
        if (e == EEXIST)
            snprintf(err, errlen, "cannot create the page file at %s: it exists and is not "
                     "a directory (name a directory, or a path that does not exist yet); "
                     "left untouched", shown);
        else
            snprintf(err, errlen, "cannot create the page file %s %s: %s", what, shown,
                     strerror(e));
        return e;
    }
    int direct = try_direct(fd);
    if (direct < 0) {
        int e = errno;
        (void)os_file_close(fd);
        snprintf(err, errlen, "cannot use the page file %s %s: %s", what, shown, strerror(e));
        return e;
    }
    int from_fs = !max_bytes; /* no limit given: the file system's free space */
    if (!max_bytes) {
        if (os_file_fs_free(fd, &max_bytes))
            max_bytes = MAX_DEFAULT;
        if (max_bytes > MAX_DEFAULT)
            max_bytes = MAX_DEFAULT;
    }
    if (max_bytes > PAGEFILE_MAX_BYTES) {
        (void)os_file_close(fd);
        snprintf(err, errlen, "page file limit of %llu bytes is above 8 TiB (slots are "
                 "numbered in 31 bits)", (unsigned long long)max_bytes);
        return EINVAL;
    }
    uint64_t cap = max_bytes / PAGE_SZ;
    if (cap > PAGEFILE_MAX_BYTES / PAGE_SZ - 1)
        cap = PAGEFILE_MAX_BYTES / PAGE_SZ - 1;
    if (cap < 16 && from_fs) {
        /* a full file system, not a limit anyone set */
        (void)os_file_close(fd);
        snprintf(err, errlen, "the page file's limit, taken from the free space of the file "
                 "system holding it (%s %s) as VMEM_PAGEFILE_MAX is not set, is %llu bytes, "
                 "below its minimum of 16 pages (64 KiB): free some space there, name another "
                 "place with VMEM_PAGEFILE, or set the limit with VMEM_PAGEFILE_MAX (a file "
                 "system that reports no free space at all, as ramfs, needs it)", what, shown,
                 (unsigned long long)max_bytes);
        return ENOSPC;
    }
    if (cap < 16) {
        (void)os_file_close(fd);
        snprintf(err, errlen, "page file limit of %llu bytes (VMEM_PAGEFILE_MAX) is below 16 "
                 "pages (64 KiB)", (unsigned long long)max_bytes);
        return EINVAL;
    }
    uint64_t *bm = pf_slots_make(cap);
    if (!bm) {
        (void)os_file_close(fd);
        snprintf(err, errlen, "no memory for the page-file bitmap");
        return ENOMEM;
    }
    uint32_t *sm = pf_sums_make(cap);
    if (!sm) {
        pf_slots_unmake(bm, cap);
        (void)os_file_close(fd);
        snprintf(err, errlen, "no address space for the page-file checksums");
        return ENOMEM;
    }
    pf_slot_lock();
    pf_fd = fd;
    pf_id = os_file_id(fd);
    pf_sums_install_locked(sm, cap);
    pf_direct = direct;
    pf_slots_install_locked(bm, cap);
    __atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
    pf_slot_unlock();
    return 0;
}

void pagefile_close(void)
{
    pf_io_drop_ring();
    pf_slot_lock();
    /* Not emptied: a forked child may still read its pages from it.  Other
     * threads' rings hold the file too (their fixed file, io.c) until
     * they next do I/O or exit. */
    if (pf_fd >= 0 && os_file_id(pf_fd) == pf_id)
        (void)os_file_close(pf_fd); /* not a number the application reused */
    pf_hold_reset_locked();
    pf_fd = -1;
    pf_slots_reset_locked();
    pf_sums_reset_locked();
    __atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
    pf_slot_unlock();
}

int pagefile_is_direct(void) { return pf_direct; }

uint64_t pagefile_disk_bytes(void)
{
    uint64_t bytes = 0;
    return pf_fd >= 0 && os_file_disk_bytes(pf_fd, &bytes) == 0 ? bytes : 0;
}
