/*
 * pagefile/inject.h -- the errors tests inject, as io.c meets them
 * (inject.c keeps the settings).
 */
#ifndef VMEM_PAGEFILE_INJECT_H
#define VMEM_PAGEFILE_INJECT_H

#include <stddef.h>
#include <stdint.h>

/* Before each I/O request: the error it fails with instead of running (0:
 * it runs).  Counts per thread. */
int pf_inject_io(void);

/* Before each submission (inflight_before: requests already in flight):
 * the error it fails with instead (0: it is made). */
int pf_inject_submit(size_t inflight_before);

/* A write entry's lie, if any: pf_lie_before before the write (it keeps
 * what the slots held, for a drop), pf_lie_after once the write completed
 * with `result` (an acknowledged write is then undone or mangled on disk;
 * what pf_lie_before kept is released either way). */
struct pf_lie {
    int kind;   /* 0, PF_LIE_FLIP or PF_LIE_DROP */
    void *old;  /* the slots' content before the write (drop) */
};
void pf_lie_before(struct pf_lie *l, uint32_t slot, size_t bytes);
void pf_lie_after(struct pf_lie *l, uint32_t slot, size_t bytes, int result);

#endif
