/*
 * os/mapview.h -- mapping a file (or memory file) over reserved address
 * space, and writing a shared file mapping's modified pages back.
 *
 * Rules shared by every function: addresses and lengths are page-aligned;
 * the return is 0 or a positive errno value.
 */
#ifndef VMEM_OS_MAPVIEW_H
#define VMEM_OS_MAPVIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Any thread: maps len bytes of the file at fd from offset off exactly at
 * addr, replacing what is there (the caller's own reservation), with
 * PROT_* prot; MAP_PRIVATE (copy-on-write) when `private`, else
 * MAP_SHARED.  Touches none of the pages. */
int os_map_file_at(uintptr_t addr, size_t len, int prot, int fd, off_t off, int private);

/* Any thread, never under as_lock (it waits for the disk): msync(MS_SYNC)
 * of [addr, addr+len): once it returns the modified pages are in the file. */
int os_map_sync(uintptr_t addr, size_t len);

#endif
