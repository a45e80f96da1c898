/*
 * cap_warning.h -- the warning for a cap the machine cannot back.
 */
#ifndef VMEM_CAP_WARNING_H
#define VMEM_CAP_WARNING_H

#include <stdint.h>

/* Logs one line, the first time only, if a cap of `cap_pages` is above the machine's memory
 * (MemTotal) or the process's cgroup limit, whichever is lower: such a cap
 * never makes the library trim before the system runs short.  Not a
 * refusal.  Not in a signal handler (it reads files). */
void cap_warn_if_unbacked(uint64_t cap_pages);

#endif
