/*
 * size_class.h -- the small-object size classes: 16-byte steps up to 128,
 * then four classes per power of two up to 64 KiB (at most 25% waste).
 * Every power of two from 16 to 65536 is a class size, which aligned
 * allocation relies on.
 */
#ifndef PRELOAD_SIZE_CLASS_H
#define PRELOAD_SIZE_CLASS_H

#include <stddef.h>

#define SC_COUNT    44
#define SC_MAX_SIZE ((size_t)65536)

/* The class for size (1..SC_MAX_SIZE; 0 counts as 1). */
static inline unsigned sc_of(size_t size)
{
    if (size <= 128)
        return size ? (unsigned)((size + 15) / 16 - 1) : 0;
    unsigned e = 63u - (unsigned)__builtin_clzl(size - 1); /* 2^e < size <= 2^(e+1) */
    size_t base = (size_t)1 << e, step = base / 4;
    return 8 + (e - 7) * 4 + (unsigned)((size - 1 - base) / step);
}

static inline size_t sc_size(unsigned c)
{
    if (c < 8)
        return (size_t)(c + 1) * 16;
    unsigned k = c - 8, e = 7 + k / 4;
    size_t base = (size_t)1 << e;
    return base + (base / 4) * (k % 4 + 1);
}

/* Objects of one class are carved from spans of this many bytes (a
 * multiple of the 64 KiB chunk), at least eight objects each. */
static inline size_t sc_span_bytes(unsigned c)
{
    size_t s = sc_size(c) * 8;
    return s <= 65536 ? 65536 : (s + 65535) & ~(size_t)65535;
}

#endif
