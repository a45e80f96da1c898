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

/* 5^d for d <= 19 (5^19 < 2^45). */
static uint64_t pow5(unsigned d)
{
    uint64_t p = 1;
    while (d--)
        p *= 5;
    return p;
}

VMEM_API int vmem_parse_size(const char *s, uint64_t *out)
{
    const char *end;
    uint64_t v;
    int err = parse_digits(s, &end, &v);
    if (err)
        return err;
    /* A fraction ("1.5G"): its digits as an integer, trailing zeros dropped
     * (they change nothing), and their count. */
    uint64_t frac = 0;
    unsigned fdigits = 0;
    if (*end == '.') {
        const char *f = ++end;
        if (*f < '0' || *f > '9')
            return EINVAL; /* "1.", "1.G" */
        const char *last = f;
        for (end = f; *end >= '0' && *end <= '9'; end++)
            if (*end != '0')
                last = end + 1;
        if (last - f > 19)
            return EINVAL; /* finer than any unit's byte */
        for (; f < last; f++, fdigits++)
            frac = frac * 10 + (uint64_t)(*f - '0');
    }
    unsigned shift = 0;
    switch (*end) {
    case 0: break;
    case 'b': case 'B': break; /* bytes: "4096B" */
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return EINVAL;
    }
    if (*end == 'b' || *end == 'B') {
        end++;
    } else if (shift) {
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
    v <<= shift;
    if (fdigits) {
        /* frac / 10^d units = frac * 2^shift / (5^d * 2^d) bytes: a whole
         * number only if 5^d divides frac and the twos cancel. */
        uint64_t p5 = pow5(fdigits);
        if (frac % p5)
            return EINVAL; /* a fraction of a byte */
        frac /= p5;
        if (fdigits > shift) {
            unsigned down = fdigits - shift;
            if (frac & ((1ull << down) - 1))
                return EINVAL;
            frac >>= down;
        } else {
            unsigned up = shift - fdigits;
            if (frac > (UINT64_MAX >> up))
                return ERANGE;
            frac <<= up;
        }
        if (v > UINT64_MAX - frac)
            return ERANGE;
        v += frac;
    }
    *out = v;
    return 0;
}
