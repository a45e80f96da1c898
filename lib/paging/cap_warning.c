/*
 * cap_warning.c -- the warning for a cap above the memory there is
 * (cap_warning.h), once per process: a program that raises its cap step
 * by step would otherwise repeat it at every step.
 */
#include "paging/cap_warning.h"
#include "os/meminfo.h"
#include "core/vmem_internal.h"

#include <stdio.h>

static int warned; /* atomic: the line was printed */

/* bytes as "1.5 GiB" */
static const char *human(uint64_t bytes, char *buf, size_t len)
{
    static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = (double)bytes;
    unsigned u = 0;
    while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

void cap_warn_if_unbacked(uint64_t cap_pages)
{
    uint64_t total, limit;
    if (os_memory_size(&total, &limit) != 0)
        return; /* nothing to compare with */
    uint64_t cap = cap_pages > UINT64_MAX / PAGE_SZ ? UINT64_MAX : cap_pages * PAGE_SZ;
    int cgroup = limit < total;
    uint64_t have = cgroup ? limit : total;
    if (cap <= have || __atomic_exchange_n(&warned, 1, __ATOMIC_ACQ_REL))
        return;
    char a[32], b[32];
    vmem_log("warning: the working-set cap (%s) is above %s (%s): memory may run out "
             "before the cap makes the library page out",
             human(cap, a, sizeof a),
             cgroup ? "the memory limit of this process's cgroup" : "this machine's memory",
             human(have, b, sizeof b));
}
