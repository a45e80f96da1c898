/*
 * os/time.h -- clocks and naps.
 */
#ifndef VMEM_OS_TIME_H
#define VMEM_OS_TIME_H

#include <stdint.h>

/* Any thread, async-signal-safe: CLOCK_MONOTONIC in nanoseconds. */
uint64_t os_now_ns(void);

/* Any thread that holds no lock of libvmem: sleeps about ns nanoseconds
 * (a signal may end it early). */
void os_nap_ns(uint64_t ns);

#endif
