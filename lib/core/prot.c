/*
 * prot.c -- Win32 protection rules, per Microsoft's "Memory Protection
 * Constants": exactly one base protection; PAGE_GUARD, PAGE_NOCACHE and
 * PAGE_WRITECOMBINE exclude each other and PAGE_NOACCESS; the copy-on-write
 * protections are for mapped views, not VirtualAlloc memory.
 */
#include "core/prot.h"

#include <sys/mman.h>

#define BASE_MASK 0xFFu
#define MOD_MASK  (WPROT_GUARD | WPROT_NOCACHE | WPROT_WRITECOMBINE)

uint32_t prot_check(uint32_t p)
{
    p &= ~WPROT_TARGETS_INVALID;
    uint32_t base = p & BASE_MASK, mods = p & MOD_MASK;
    if (p & ~(BASE_MASK | MOD_MASK))
        return 0;
    if (base == 0 || (base & (base - 1)) != 0)
        return 0; /* none, or more than one */
    if (base == WPROT_WRITECOPY || base == WPROT_EXECUTE_WRITECOPY)
        return 0;
    if (mods & (mods - 1))
        return 0; /* two modifiers */
    if (mods && base == WPROT_NOACCESS)
        return 0;
    return p;
}

int prot_to_posix(uint32_t p)
{
    if (p & WPROT_GUARD)
        return PROT_NONE;
    switch (p & BASE_MASK) {
    case WPROT_READONLY:          return PROT_READ;
    case WPROT_READWRITE:         return PROT_READ | PROT_WRITE;
    case WPROT_EXECUTE:           return PROT_EXEC;
    case WPROT_EXECUTE_READ:      return PROT_READ | PROT_EXEC;
    case WPROT_EXECUTE_READWRITE: return PROT_READ | PROT_WRITE | PROT_EXEC;
    /* only views have these: their private mapping makes writes copies */
    case WPROT_WRITECOPY:         return PROT_READ | PROT_WRITE;
    case WPROT_EXECUTE_WRITECOPY: return PROT_READ | PROT_WRITE | PROT_EXEC;
    default:                      return PROT_NONE;
    }
}

uint32_t prot_from_posix(int prot)
{
    int r = prot & PROT_READ, w = prot & PROT_WRITE, x = prot & PROT_EXEC;
    if (x)
        return w ? WPROT_EXECUTE_READWRITE : r ? WPROT_EXECUTE_READ : WPROT_EXECUTE;
    if (w)
        return WPROT_READWRITE;
    return r ? WPROT_READONLY : WPROT_NOACCESS;
}
