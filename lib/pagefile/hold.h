/*
 * pagefile/hold.h -- runs freed while the file is held, for slots.c and
 * file.c (hold.c keeps them).
 */
#ifndef VMEM_PAGEFILE_HOLD_H
#define VMEM_PAGEFILE_HOLD_H

#include <stddef.h>
#include <stdint.h>

/* Under slot_lock, while held: sets [first, first+n) aside, to be freed
 * when the hold ends (if the list cannot grow, the run simply stays
 * allocated). */
void pf_hold_set_aside_locked(uint32_t first, size_t n);

/* Under slot_lock, at close: neither held nor borrowed, nothing set aside. */
void pf_hold_reset_locked(void);

#endif
