/*
 * runtime.c -- the process-wide state of libvmem (runtime.h): the
 * configuration and fault source in force, and whether the runtime is
 * running.  Starting and stopping it is api/init.c's.
 */
#include "core/runtime.h"

struct vmem_runtime vmem_rt = { .uffd = -1 };

static int rt_state; /* RT_*, atomic */

int runtime_state(void)
{
    return __atomic_load_n(&rt_state, __ATOMIC_ACQUIRE);
}

void runtime_set_state(int st)
{
    __atomic_store_n(&rt_state, st, __ATOMIC_RELEASE);
}

int runtime_ready(void)
{
    return runtime_state() == RT_READY;
}
