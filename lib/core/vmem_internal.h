/*
 * vmem_internal.h -- what every file of the library above lib/os/ shares:
 * page geometry (os/page.h), the export macro, small helpers, and the log
 * line (core/log.c).
 */
#ifndef VMEM_INTERNAL_H
#define VMEM_INTERNAL_H

#include "os/page.h"

#include <stddef.h>
#include <stdint.h>

#define VMEM_API __attribute__((visibility("default")))

#define VMEM_UNUSED __attribute__((unused))

/* The library's thread-local variables use the initial-exec model: reached
 * at a fixed offset, never through __tls_get_addr, which may allocate with
 * malloc on a thread's first access -- and under LD_PRELOAD malloc is
 * libvmem's, so that access must never come while as_lock is held. */
#define VMEM_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Prints "libvmem: <message>" with one write(2) to the stderr the library
 * was loaded with (core/log.h): safe anywhere. */
void vmem_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
