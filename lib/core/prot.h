/*
 * prot.h -- Win32 page protections: validation and mapping to mprotect's.
 */
#ifndef VMEM_PROT_H
#define VMEM_PROT_H

#include <stdint.h>

#define WPROT_NOACCESS          0x01u
#define WPROT_READONLY          0x02u
#define WPROT_READWRITE         0x04u
#define WPROT_WRITECOPY         0x08u
#define WPROT_EXECUTE           0x10u
#define WPROT_EXECUTE_READ      0x20u
#define WPROT_EXECUTE_READWRITE 0x40u
#define WPROT_EXECUTE_WRITECOPY 0x80u
#define WPROT_GUARD             0x100u
#define WPROT_NOCACHE           0x200u
#define WPROT_WRITECOMBINE      0x400u
#define WPROT_TARGETS_INVALID   0x40000000u

/* Returns the protection to store (CFG target bits dropped: Linux has no
 * CFG), or 0 if `p` is not a valid protection for private memory. */
uint32_t prot_check(uint32_t p);

/* PROT_* for mprotect; a PAGE_GUARD page is PROT_NONE until touched; the
 * copy-on-write forms (views only) are read-write on a private mapping. */
int prot_to_posix(uint32_t p);

/* Win32 protection of a foreign mapping's PROT_* bits. */
uint32_t prot_from_posix(int prot);

static inline int prot_is_writable(uint32_t p)
{
    return (p & (WPROT_READWRITE | WPROT_EXECUTE_READWRITE)) != 0;
}

#endif
