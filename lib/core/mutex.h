/*
 * mutex.h -- taking and releasing the library's mutexes with the result
 * checked: a lock failure (a library bug, or a corrupted mutex) is reported
 * and aborts, never ignored.  docs/architecture.md ("Locks") has every lock
 * and their order.
 */
#ifndef VMEM_MUTEX_H
#define VMEM_MUTEX_H

#include "core/vmem_internal.h"

#include <pthread.h>

/* Reports that the mutex `name` could not be taken or released (`what`)
 * and aborts.  Async-signal-safe. */
void mutex_fail(const char *name, const char *what, int err) __attribute__((noreturn, cold));

/* The name comes first: it is the lock's name in that message. */
static inline void mutex_take(const char *name, pthread_mutex_t *m)
{
    int e = pthread_mutex_lock(m);
    if (unlikely(e))
        mutex_fail(name, "take", e);
}

static inline void mutex_give(const char *name, pthread_mutex_t *m)
{
    int e = pthread_mutex_unlock(m);
    if (unlikely(e))
        mutex_fail(name, "release", e);
}

#endif
