/*
 * section/handle.h -- the handle table: the HANDLE values libvmem gives out
 * for files (CreateFileA) and sections (CreateFileMappingA,
 * OpenFileMappingA).  A handle is a small tagged index: ((generation << 16
 * | slot) << 2) with a 32-bit generation, never NULL nor
 * INVALID_HANDLE_VALUE, and a closed one is refused even after its slot is
 * reused (the generation differs; a slot is not reused past its last
 * generation, so no value is given out twice).
 *
 * handle_lock (handle.c) guards the table; it is held only for the table's
 * own work and a section's reference count (it may take section_lock,
 * never the reverse), never with as_lock.
 */
#ifndef VMEM_SECTION_HANDLE_H
#define VMEM_SECTION_HANDLE_H

#include <stdint.h>

struct section;

enum handle_kind { HANDLE_FREE = 0, HANDLE_FILE = 1, HANDLE_SECTION = 2 };

struct handle_obj {
    enum handle_kind kind;
    uint32_t access;      /* files: GENERIC_*; sections: SECTION_* / FILE_MAP_* */
    int fd;               /* HANDLE_FILE */
    struct section *sec;  /* HANDLE_SECTION */
};

/* Adds obj to the table: 0 and *value, or EMFILE when it is full
 * (ENOMEM: no memory for it). */
int handle_add(const struct handle_obj *obj, uintptr_t *value);

/* The object of handle `value` into *obj; a section's gets one more view
 * reference (section_view_ref), which the caller drops.  EBADF if the
 * handle is not open or of another kind (kind HANDLE_FREE: any). */
int handle_get(uintptr_t value, enum handle_kind kind, struct handle_obj *obj);

/* Removes handle `value` from the table, its object into *obj (the caller
 * closes the file or drops the section's handle); EBADF if not open. */
int handle_remove(uintptr_t value, struct handle_obj *obj);

/* fork: handle_lock held across it (taken first of the section locks). */
void handle_fork_prepare(void);
void handle_fork_parent(void);
void handle_fork_child(void);

#endif
