/*
 * core/log.h -- where the library writes to stderr (log.c): a duplicate of
 * fd 2 taken when the library is loaded, so that a program that closes its
 * fd 2, and gives the number to a file of its own, never has library lines
 * written into that file.  vmem_log (core/vmem_internal.h) writes there.
 */
#ifndef VMEM_CORE_LOG_H
#define VMEM_CORE_LOG_H

/* Any thread, async-signal-safe: the duplicate of the stderr the process
 * had when the library was loaded, or -1 when there is none (fd 2 was
 * closed then) or its number now names another file (the program closed
 * it and opened something else there). */
int log_stderr_fd(void);

#endif
