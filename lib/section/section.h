/*
 * section/section.h -- sections (Windows' file-mapping objects): the memory
 * behind them (a file, an unnamed memory file, or a named shared-memory
 * object: section/names.h), their size and protection, and their lifetime:
 * a section lives while a handle or a view refers to it.
 *
 * Locks: section_lock (section.c) guards the counts and the list of named
 * sections of this process; it is never held with as_lock nor while
 * touching caller memory.  handle_lock (section/handle.c) may be held when
 * taking it, never the reverse.
 */
#ifndef VMEM_SECTION_H
#define VMEM_SECTION_H

#include "section/names.h"
#include "section/vtable.h"

#include <stddef.h>
#include <stdint.h>

struct section {
    int fd;               /* what views map: the file (a descriptor of our
                             own), a memfd, or the named object */
    uint64_t size;        /* bytes; page-rounded for page-file sections */
    uint64_t data_off;    /* where the data starts in fd: after a page-file
                             section's page-state table (vtable.h), else 0 */
    int slot_fd;          /* a page-file section's slot file (vslot.h), -1 */
    struct vtable vt;     /* its table mapped, when views are paged
                             (writable page-file sections with a slot
                             file; vt.hdr NULL otherwise) */
    uint32_t protect;     /* PAGE_* base protection it was created with */
    int reserve;          /* SEC_RESERVE: views start reserved */
    int file_backed;      /* a file's section (views can be flushed) */
    int no_exec;          /* a file's section whose file handle had no
                             execute right: no execute views */
    unsigned handles;     /* handles of this process (section_lock) */
    unsigned refs;        /* handles + views (section_lock) */
    int hold;             /* the named object's name-holding descriptor, -1 */
    uint8_t *committed;   /* SEC_RESERVE: a bit per page committed in one of
                             this process's views (as_lock exclusive) */
    struct section *next; /* in the list of named sections */
    struct section *fnext; /* in the list of file sections */
    uint64_t file_id;     /* a file section's file (os_file_id) */
    char obj[NAMES_MAX];  /* the named object's name, "" when unnamed */
};

/* What CreateFileMapping asks for. */
struct section_req {
    int file_fd;          /* -1: the page file */
    int file_read, file_write, file_exec; /* the file handle's access */
    uint64_t size;        /* 0: the file's size */
    uint32_t protect;     /* PAGE_* base */
    int reserve;          /* SEC_RESERVE */
    const char *name;     /* NULL: unnamed */
};

/* Win32-level failures, beyond errno values. */
#define SECTION_E_SIZE_ZERO 1001 /* an empty file and size 0: ERROR_FILE_INVALID */
#define SECTION_E_TOO_BIG   1002 /* larger than a file it may not grow */
#define SECTION_E_SLOT_CHANGED 1003 /* a named section's slot file is not the one
                                       it was made with: ERROR_FILE_INVALID */

/* Makes (or, by name, finds) a section with one handle counted: 0 and
 * *existed = 0 or 1, or an errno value (EACCES: the file handle's access
 * does not allow the protection; EINVAL) or SECTION_E_*. */
int section_create(const struct section_req *req, struct section **out, int *existed);

/* The named section `name` with one more handle counted; ENOENT if none. */
int section_open(const char *name, struct section **out);

/* One more view (section_view_ref) or handle (section_handle_ref) of s. */
void section_view_ref(struct section *s);
void section_handle_ref(struct section *s);

/* One fewer view or handle: the last handle lets go of the name, the last
 * reference frees the section and closes its memory. */
void section_view_put(struct section *s);
void section_handle_put(struct section *s);

/* 1 if s's only reference in this process is one view (no handle): its
 * unmap frees the section here. */
int section_last_ref(struct section *s);

/* 1 if this process has a view of the file whose os_file_id is id (a
 * truncation would destroy the view's data). */
int section_file_mapped(uint64_t id);

/* At exit (registered with the first name) and vmem_shutdown: lets go of
 * every name this process holds, as closing its last handles would (the
 * name goes with its last user); handles and views stay usable, unnamed.
 * No lock of libvmem held. */
void section_release_names(void);

/* fork: section_lock held across it (taken after handle_lock). */
void section_fork_prepare(void);
void section_fork_parent(void);
void section_fork_child(void);

#endif
