/*
 * readahead.h -- asynchronous readahead: paged-out pages read ahead of a
 * sequential stream of faults, several windows in flight at once, by a
 * thread of its own (thread mode; VMEM_READAHEAD).
 */
#ifndef VMEM_READAHEAD_H
#define VMEM_READAHEAD_H

#include "core/region.h"

#include <stddef.h>

/* Starts the readahead thread (fault_thread_start: thread mode, with
 * VMEM_READAHEAD > 0).  0 or errno. */
int readahead_start(void);
/* Stops it, once its reads in flight are done (before regions go). */
void readahead_stop(void);
/* In a forked child: the thread does not exist there. */
void readahead_forget(void);

/* A fault at page idx of r brought in [idx, end), or waits for a page
 * readahead is reading (end == idx).  Caller holds as_lock (either mode);
 * takes only readahead's own lock and, when the fault continues a stream,
 * wakes the thread.  Nothing without the thread. */
void readahead_note(const struct region *r, size_t idx, size_t end);

#endif
