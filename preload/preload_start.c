/*
 * preload_start.c -- start-up of libvmem-preload.so.
 *
 * The constructor has libvmem start its threads through
 * preload_internal_thread_create, starts libvmem from the environment
 * (VMEM_*), reserves the managed heap and from then on the application's
 * mallocs and anonymous mmaps are managed.  Until then (and in libvmem's
 * own threads) memory comes from the fallback allocator.
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
#include "sys.h"

#include "os/thread.h"

#include <vmem.h>

#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A heap grows in order, so demand-zero faults install this many pages at
 * once unless VMEM_ZERO_CLUSTER says otherwise: 256 pages made python3's
 * overhead without pressure 7-9% against 25-29% at the library's default
 * of 16 (bench/RESULTS.md).  Pages installed ahead and never written are
 * zero, and trimming drops them without I/O. */
#define HEAP_ZERO_CLUSTER 256

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

/* The status of a process whose libvmem cannot start: 125, what `vmem run`
 * returns for a failure of its own machinery (docs/vmem.md) -- not 127,
 * which says the program was not found. */
#define START_FAILED 125

/* Says why, then ends the process with START_FAILED. */
static _Noreturn void fail(const char *what, const char *why)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "libvmem-preload: %s%s%s; exiting with status %d\n",
                     what, why ? ": " : "", why ? why : "", START_FAILED);
    if (n > 0 && write(2, buf, (size_t)n) < 0)
        _exit(START_FAILED);
    _exit(START_FAILED);
}

/* Finds the executable segment of the object holding ((uintptr_t *)data)[0]
 * and puts its bounds in [1] and [2]. */
static int find_text(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t *want = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (want[0] >= lo && want[0] < hi) {
            want[1] = lo;
            want[2] = hi;
            return 1;
        }
    }
    return 0;
}

/* libc's text, where its own calls to malloc come from (malloc_api.c). */
static void find_libc(void)
{
    uintptr_t want[3] = { (uintptr_t)&fflush, 0, 0 };
    if (dl_iterate_phdr(find_text, want)) {
        preload_libc_lo = want[1];
        preload_libc_hi = want[2];
    }
}

__attribute__((constructor)) static void preload_start(void)
{
    /* before anything can start libvmem: every thread it starts from now
     * on is marked internal */
    os_thread_set_creator(preload_internal_thread_create);
    struct vmem_config cfg;
    char msg[256];
    int err = vmem_config_from_env(&cfg, msg, sizeof(msg));
    if (err) {
        /* A malformed VMEM_* value: running unmanaged would silently ignore
         * the cap the user asked for. */
        fail(msg, NULL);
    }
    if (!getenv("VMEM_ZERO_CLUSTER"))
        cfg.zero_cluster = HEAP_ZERO_CLUSTER;
    err = vmem_init(&cfg);
    if (err && err != EALREADY) {
        /* A malformed VMEM_* value (named on stderr by libvmem): running
         * unmanaged would silently ignore the cap the user asked for. */
        fail("libvmem did not start", strerror(err));
    }
    find_libc();
    if ((err = managed_heap_start()) != 0)
        fail("cannot reserve the managed heap", strerror(err));
    pthread_atfork(fork_prepare, fork_release, fork_release);
}
