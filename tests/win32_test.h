/*
 * win32_test.h -- helpers the Win32 API tests share.
 */
#ifndef VMEM_WIN32_TEST_H
#define VMEM_WIN32_TEST_H

#include <criterion/criterion.h>
#include <memoryapi.h>
#include <string.h>

#define PG   ((size_t)4096)
#define GRAN ((size_t)65536)

/* VirtualQuery of p, which must succeed; the buffer starts as garbage so a
 * field left unset shows. */
static inline MEMORY_BASIC_INFORMATION query(const void *p)
{
    MEMORY_BASIC_INFORMATION m;
    memset(&m, 0xCC, sizeof m);
    cr_assert_eq(VirtualQuery(p, &m, sizeof m), sizeof m, "VirtualQuery(%p): error %u", p,
                 (unsigned)GetLastError());
    return m;
}

/* The run at p has exactly this base, size, state and protection. */
static inline void assert_run(const char *p, size_t size, DWORD state, DWORD protect)
{
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.BaseAddress, (void *)p);
    cr_assert_eq(m.State, state, "%p: State %#x, want %#x", (void *)p, (unsigned)m.State,
                 (unsigned)state);
    cr_assert_eq(m.RegionSize, size, "%p: RegionSize %#zx, want %#zx", (void *)p,
                 m.RegionSize, size);
    cr_assert_eq(m.Protect, protect, "%p: Protect %#x, want %#x", (void *)p,
                 (unsigned)m.Protect, (unsigned)protect);
}

/* Releases the reservation at p, which must succeed. */
static inline void release(void *p)
{
    cr_assert(VirtualFree(p, 0, MEM_RELEASE), "release %p: error %u", p,
              (unsigned)GetLastError());
}

#endif
