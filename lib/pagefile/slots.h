/*
 * pagefile/slots.h -- slot_lock and the slot bitmap, for the layer's other
 * files (slots.c allocates and frees slots).
 */
#ifndef VMEM_PAGEFILE_SLOTS_H
#define VMEM_PAGEFILE_SLOTS_H

#include <stddef.h>
#include <stdint.h>

/* slot_lock: a leaf lock, never held across I/O.  A failure to take or
 * release it is reported and aborts. */
void pf_slot_lock(void);
void pf_slot_unlock(void);

/* A bitmap for cap slots, all free (NULL if out of memory); the one not
 * installed is given back with pf_slots_unmake. */
uint64_t *pf_slots_make(uint64_t cap);
void pf_slots_unmake(uint64_t *bm, uint64_t cap);

/* Under slot_lock: the bitmap of a newly opened file, none in use; and at
 * close, nothing. */
void pf_slots_install_locked(uint64_t *bm, uint64_t cap);
void pf_slots_reset_locked(void);

#endif
