/*
 * vmem_internal.h -- what every file of the library shares: page geometry,
 * the export macro, and small helpers.
 */
#ifndef VMEM_INTERNAL_H
#define VMEM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define VMEM_API __attribute__((visibility("default")))

#define PAGE_SHIFT 12
#define PAGE_SZ    ((size_t)1 << PAGE_SHIFT)
#define GRAN_SZ    ((size_t)65536)

static inline uintptr_t round_down(uintptr_t x, size_t a) { return x & ~(uintptr_t)(a - 1); }
static inline uintptr_t round_up(uintptr_t x, size_t a) { return (x + a - 1) & ~(uintptr_t)(a - 1); }
static inline int is_aligned(uintptr_t x, size_t a) { return (x & (a - 1)) == 0; }

#define VMEM_UNUSED __attribute__((unused))

/* The library's thread-local variables use the initial-exec model: reached
 * at a fixed offset, never through __tls_get_addr, which may allocate with
 * malloc on a thread's first access -- and under LD_PRELOAD malloc is
 * libvmem's, so that access must never come while as_lock is held. */
#define VMEM_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Prints "libvmem: <message>" to stderr with one write(2): safe anywhere. */
void vmem_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
