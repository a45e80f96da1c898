/*
 * fault_cost.c -- where a fault's time goes (VMEM_FAULT_COST=1): totals per
 * kind of fault and per part, printed on stderr at exit.  A diagnostic for
 * tuning the fault path; off by default.
 *
 * In thread mode the time a fault spends before a fault thread reads it
 * (the kernel's wake-up of the thread) and after the install (the wake-up
 * of the faulting thread) is not seen here: the program's time per fault
 * less the time in fault_resolve is that hand-off.  A fault a fault thread
 * is finishing when the program exits may be counted in part.  The page-ins
 * of VirtualLock (fault_populate) count in the read, relock and install
 * parts but not as hard faults; a forked child starts from its parent's
 * totals.
 *
 * Locks: none; relaxed atomic adds.
 */
#include "paging/fault_cost.h"
#include "os/process.h"
#include "os/time.h"
#include "core/vmem_internal.h"

#include <stdlib.h>
#include <string.h>

int fault_cost_on;

static uint64_t count[FC_PARTS], ns[FC_PARTS];

uint64_t fault_cost_clock(void)
{
    return os_now_ns();
}

uint64_t fault_cost_since(enum fault_cost_part part, uint64_t t0)
{
    if (!t0)
        return 0;
    uint64_t now = os_now_ns();
    fault_cost_add(part, now - t0);
    return now;
}

void fault_cost_add(enum fault_cost_part part, uint64_t t)
{
    __atomic_fetch_add(&count[part], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&ns[part], t, __ATOMIC_RELAXED);
}

static const char *const names[FC_PARTS] = {
    [FC_HARD] = "hard", [FC_WP] = "write-protect", [FC_ZERO] = "demand-zero",
    [FC_TRANSITION] = "transition", [FC_COMPRESSED] = "compressed", [FC_OTHER] = "other",
    [FC_LOCK_HARD] = "hard: as_lock wait", [FC_LOCK_WP] = "write-protect: as_lock wait",
    [FC_ROOM] = "room (any fault)", [FC_ROOM_HARD] = "hard: room",
    [FC_ROOM_MANAGER] = "room: manager naps", [FC_ROOM_RELEASE] = "room: free standby",
    [FC_ROOM_TRIM] = "room: trim", [FC_ROOM_WRITER] = "room: page-writer naps",
    [FC_ROOM_STALL] = "room: stall naps", [FC_READ] = "hard: read",
    [FC_RELOCK] = "hard: relock", [FC_INSTALL] = "hard: install",
    [FC_LOCK_COMPRESSED] = "compressed: as_lock wait",
    [FC_ROOM_COMPRESSED] = "compressed: room", [FC_DECOMPRESS] = "compressed: decompress",
    [FC_INSTALL_COMPRESSED] = "compressed: install",
    [FC_HOLD_TRIM] = "as_lock held: trim", [FC_HOLD_RELEASE] = "as_lock held: free standby",
    [FC_HOLD_CHOOSE] = "as_lock held: writer choose",
    [FC_HOLD_SETTLE] = "as_lock held: writer settle",
};

static void print_costs(int status, void *arg)
{
    (void)status;
    (void)arg;
    for (int i = 0; i < FC_PARTS; i++) {
        uint64_t c = __atomic_load_n(&count[i], __ATOMIC_RELAXED);
        uint64_t t = __atomic_load_n(&ns[i], __ATOMIC_RELAXED);
        if (c)
            vmem_log("fault cost: %-28s %10llu x %9.2f us = %9.3f s", names[i],
                     (unsigned long long)c, (double)t / (double)c / 1e3, (double)t / 1e9);
    }
}

void fault_cost_start(void)
{
    static int registered;
    const char *v = getenv("VMEM_FAULT_COST");
    if (!v || !strcmp(v, "0"))
        return;
    if (strcmp(v, "1")) {
        vmem_log("VMEM_FAULT_COST=%s: not 0 or 1; fault costs are not kept", v);
        return;
    }
    if (!registered && os_on_exit(print_costs, NULL) != 0) {
        vmem_log("VMEM_FAULT_COST: cannot register the exit report");
        return;
    }
    registered = 1;
    __atomic_store_n(&fault_cost_on, 1, __ATOMIC_RELEASE);
}
