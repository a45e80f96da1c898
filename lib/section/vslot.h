/*
 * section/vslot.h -- a page-file section's slot file: the file its pages
 * go to when no process maps them (slot = page index, a sparse file of the
 * section's size), in libvmem's page-file directory (VMEM_PAGEFILE, else
 * $TMPDIR, else /var/tmp).  An unnamed section's is unlinked from the
 * start (its descriptor goes to forked children with the memfd); a named
 * section's has a unique name "libvmem-section.XXXXXX" (mode 0600) that
 * the section's table records, so other processes open it; it is removed
 * with the section's name.
 *
 * Its I/O is the page-file layer's (pagefile_fd_io: this thread's
 * io_uring ring), page-sized and page-aligned, through the page cache:
 * with O_DIRECT every dirty view page cost a device write, and paging
 * views took 2-4 times as long (bench/RESULTS.md, "Slot I/O").
 *
 * Every call: any thread, no lock of libvmem needed; 0 or an errno value.
 */
#ifndef VMEM_SECTION_VSLOT_H
#define VMEM_SECTION_VSLOT_H

#include <stddef.h>
#include <stdint.h>

/* An unlinked slot file for an unnamed section. */
int vslot_create_unnamed(int *fd);

/* A named section's slot file; its path into path (cap bytes). */
int vslot_create_named(char *path, size_t cap, int *fd);

/* Opens the slot file a named section's table records; EACCES if it is
 * not a file libvmem made (name, owner, mode); with id (the os_file_id
 * the table recorded; 0: any), SECTION_E_SLOT_CHANGED if the file at the
 * path is not that one (removed; another file, or a symbolic link, put
 * there). */
int vslot_open(const char *path, uint64_t id, int *fd);

/* Removes a named section's slot file, only if it is the one libvmem made
 * for the section: a name of ours, owned, mode 0600, and the file whose
 * os_file_id the section's table recorded (id; 0: none recorded, nothing
 * is removed). */
void vslot_remove(const char *path, uint64_t id);

#endif
