/*
 * parse.c -- the grammar of option values: numbers and sizes
 * (vmem_parse_uint, vmem_parse_size).  The VMEM_* variables, the vmem tool
 * and the benchmarks all read their values here, so "64M" means one thing
 * everywhere (docs/options.md).
 *
 * Pure computation on the caller's string: no runtime, no system call.
 * The benchmarks that must not link libvmem (raw baselines) compile this
 * file on its own.
 */
#include "core/vmem_internal.h"
#include <vmem.h>

#include <errno.h>

/* Decimal digits only: no sign, no space, no 0x (so "010" is ten, never
 * eight).  *end gets the first character after them. */
static int parse_digits(const char *s, const char **end, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return EINVAL;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return ERANGE;
        v = v * 10 + d;
    }
    *end = s;
    *out = v;
    return 0;
}

VMEM_API int vmem_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *end;
    uint64_t v;
    int err = parse_digits(s, &end, &v);
    if (err)
        return err;
    if (*end)
        return EINVAL;
    if (v < min || v > max)
        return ERANGE;
    *out = v;
    return 0;
}

VMEM_API int vmem_parse_size(const char *s, uint64_t *out)
{
    const char *end;
    uint64_t v;
    int err = parse_digits(s, &end, &v);
    if (err)
        return err;
    unsigned shift = 0;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return EINVAL;
    }
    if (shift) {
        end++;
        /* "64MB" and "64MiB" read as 64M: every unit is binary */
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'b' || *end == 'B')
            end++;
        else if (end[-1] == 'i' || end[-1] == 'I')
            return EINVAL; /* "64Mi" */
    }
    if (*end)
        return EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return ERANGE;
    *out = v << shift;
    return 0;
}
