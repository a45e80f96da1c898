/*
 * preload_start.c -- start-up of libvmem-preload.so.
 *
 * The constructor starts libvmem from the environment (VMEM_*), reserves
 * the managed heap and from then on the application's mallocs and
 * anonymous mmaps are managed.  Until then (and in libvmem's own threads)
 * memory comes from the fallback allocator.
 *
 * fork: our fork handlers are registered after libvmem's, so they run
 * first in the parent (prepare handlers run in reverse order): every heap
 * lock is taken before libvmem takes its address-space lock.  A thread
 * holding a heap lock may be waiting for that lock (a commit) or for a
 * fault, which needs it shared; taking ours first lets it finish.
 */
#include "fallback_alloc.h"
#include "managed_heap.h"
#include "ranges.h"

#include <vmem.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void fork_prepare(void)
{
    span_heap_lock_all(&managed_heap);
    fallback_lock_all();
    ranges_lock();
}

static void fork_release(void)
{
    ranges_unlock();
    fallback_unlock_all();
    span_heap_unlock_all(&managed_heap);
}

static void say(const char *what, int err)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "libvmem-preload: %s: %s\n", what, strerror(err));
    if (n > 0 && write(2, buf, (size_t)n) < 0)
        return;
}

__attribute__((constructor)) static void preload_start(void)
{
    int err = vmem_init(NULL);
    if (err && err != EALREADY) {
        /* A malformed VMEM_* value (named on stderr by libvmem): running
         * unmanaged would silently ignore the cap the user asked for. */
        say("libvmem did not start", err);
        _exit(127);
    }
    if ((err = managed_heap_start()) != 0) {
        say("cannot reserve the managed heap", err);
        _exit(127);
    }
    pthread_atfork(fork_prepare, fork_release, fork_release);
}
