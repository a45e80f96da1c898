/*
 * os/statfile.h -- the files of the statistics directory (api/publish.c,
 * api/statarea.c): creating and mapping a process's area shared, listing
 * the directory, renaming and removing, and the futex by which a reader
 * wakes the process's publisher thread.
 *
 * Returns are 0 or a positive errno value, except where a comment says
 * otherwise.
 */
#ifndef VMEM_OS_STATFILE_H
#define VMEM_OS_STATFILE_H

#include <stddef.h>
#include <stdint.h>

/* Any thread: creates dir/name (never an existing file, never through a
 * symbolic link) with the permission bits mode, size bytes of zeros with
 * every block allocated (ENOSPC, and no file, where there is no room), and
 * maps it shared read-write at *map. */
int os_statfile_create(const char *dir, const char *name, unsigned mode, size_t size,
                       void **map);

/* Any thread: maps the existing regular file dir/name (never through a
 * symbolic link) if it has exactly min bytes: shared read-write if
 * writable, else a private copy of its bytes (a later truncation cannot
 * fault); *map, *len, its owner in *uid.  EPROTO if its size differs or it is not a
 * regular file; ENOENT if it shrank while copied. */
int os_statfile_map(const char *dir, const char *name, int writable, size_t min, void **map,
                    size_t *len, uint32_t *uid);

/* Any thread: unmaps what os_statfile_create or os_statfile_map mapped. */
void os_statfile_unmap(void *map, size_t len);

/* Any thread: removes dir/name. */
int os_statfile_unlink(const char *dir, const char *name);

/* Any thread: renames dir/from to dir/to, never replacing a file. */
int os_statfile_rename(const char *dir, const char *from, const char *to);

/* Any thread: calls fn(name, arg) for each entry of dir whose name starts
 * with prefix. */
int os_statfile_list(const char *dir, const char *prefix, void (*fn)(const char *name, void *arg),
                     void *arg);

/* Any thread: sleeps while *word == val, at most timeout_ms (0: no limit),
 * until os_futex_wake on the same word of the same file, in any process;
 * returns early on a signal. */
void os_futex_wait(uint32_t *word, uint32_t val, unsigned timeout_ms);

/* Any thread: wakes every thread in os_futex_wait on word. */
void os_futex_wake(uint32_t *word);

#endif
