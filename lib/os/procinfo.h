/*
 * os/procinfo.h -- what the statistics area says of a process: its
 * command line, start time and user, and whether a process id is alive.
 *
 * Returns are 0 or a positive errno value, except where a comment says
 * otherwise.
 */
#ifndef VMEM_OS_PROCINFO_H
#define VMEM_OS_PROCINFO_H

#include <stddef.h>
#include <stdint.h>

/* Any thread: this process's command line, arguments separated by spaces
 * (its comm if the command line cannot be read), NUL-terminated in buf. */
void os_self_cmdline(char *buf, size_t len);

/* Any thread: the start time of process pid (field 22 of /proc/PID/stat,
 * in clock ticks since boot); 0 if it cannot be read.  The same across an
 * exec, different for a later process with the same id. */
uint64_t os_proc_start_ticks(long pid);

/* Any thread, async-signal-safe: 1 if process pid exists (any user's). */
int os_proc_alive(long pid);

/* Any thread, async-signal-safe: the real user id. */
uint32_t os_uid(void);

/* Any thread: the real uid of process pid (the first field of the Uid:
 * line of /proc/PID/status), UINT32_MAX if it cannot be read. */
uint32_t os_proc_uid(long pid);

#endif
