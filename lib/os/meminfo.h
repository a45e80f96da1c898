/*
 * os/meminfo.h -- how much memory the machine, or the process's cgroup,
 * has: to tell a cap that cannot be backed.
 */
#ifndef VMEM_OS_MEMINFO_H
#define VMEM_OS_MEMINFO_H

#include <stdint.h>

/* Any thread, not in a signal handler (it opens files): the machine's
 * memory (MemTotal) in *total and the memory limit of the process's
 * cgroup (v2 memory.max, or v1 memory.limit_in_bytes) in *limit,
 * UINT64_MAX where there is none or it cannot be read.  0, or errno if
 * not even the machine's memory is known. */
int os_memory_size(uint64_t *total, uint64_t *limit);

#endif
