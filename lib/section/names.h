/*
 * section/names.h -- the names of page-file sections, shared between
 * processes.  A named section's memory is a POSIX shared-memory object
 * "/libvmem.<uid>.<name>" (the Win32 name with "Local\" or "Global\"
 * dropped, escaped).  Each process holding a handle to it keeps a shared
 * flock on a descriptor of its own; the name is removed when the last one
 * lets go, and one left by a process that died (its lock gone with it) is
 * found stale and replaced by the next create or open.  A registry lock
 * (an exclusive flock on "/libvmem.<uid>!registry", taken without
 * blocking and retried for a bounded time: ETIMEDOUT) makes each create,
 * open and release atomic across processes.  Only objects of this user
 * without group or other access are used; another user's object, or a
 * symlink, at one of our names is refused with EACCES and left alone.
 * docs/sections.md has the design and its limits.
 *
 * Every call: any thread; returns 0 or a positive errno value.
 * names_object is pure; the others run with no lock of libvmem held
 * (they may nap while the registry lock is taken elsewhere).
 */
#ifndef VMEM_SECTION_NAMES_H
#define VMEM_SECTION_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Room for an object name: "/libvmem.<uid>." plus an escaped name. */
#define NAMES_MAX 256

/* The object name of the Win32 name `win` into out; EINVAL for an empty
 * name or one with a backslash after the prefix, ENAMETOOLONG if too
 * long. */
int names_object(const char *win, char *out, size_t cap);

/* What a name holds, as its creator made it. */
struct names_info {
    uint64_t size;      /* bytes of data */
    uint64_t data_off;  /* where the data starts in the object (after the
                           page-state table: section/vtable.h) */
    int slot_fd;        /* out: the section's slot file, or -1 */
    char slot_path[512];
    uint64_t slot_id;   /* the slot file's os_file_id, as the table records it */
    uint32_t protect;   /* PAGE_READONLY, PAGE_READWRITE, or an execute form */
    int reserve;        /* SEC_RESERVE */
};

/* Creates the object `obj` of info->size bytes, or opens it if it exists
 * and is in use (*existed = 1, *info set to what it holds).  *data: the
 * descriptor to map; *hold: the descriptor that holds the name (close it
 * with names_release).  info->slot_fd receives the slot file's descriptor
 * (section/vslot.h), -1 if the section has none. */
int names_create(const char *obj, struct names_info *info, int *existed, int *data, int *hold);

/* Opens an existing object in use; ENOENT if none (or only a stale one,
 * which it removes). */
int names_open(const char *obj, struct names_info *info, int *data, int *hold);

/* This process's last handle to obj is closed: lets go of the name, and
 * removes it if no other process holds it.  Closes hold. */
void names_release(const char *obj, int hold);

#endif
