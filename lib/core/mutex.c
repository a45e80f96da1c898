/*
 * mutex.c -- what happens when a mutex of the library fails: a report and
 * an abort (a child or a thread left with a lock in an unknown state would
 * corrupt the library's state silently).
 */
#include "core/mutex.h"
#include "os/process.h"

#include <stdlib.h>
#include <string.h>

void mutex_fail(const char *name, const char *what, int err)
{
    vmem_log("internal error: cannot %s %s (%s); aborting", what, name, strerror(err));
    os_abort();
}
