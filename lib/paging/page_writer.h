/*
 * page_writer.h -- the modified page writer: saves dirty standby frames to
 * the page file ahead of need, on a thread of its own.
 */
#ifndef VMEM_PAGE_WRITER_H
#define VMEM_PAGE_WRITER_H

#include <stddef.h>

/* 0 or errno. */
int page_writer_start(void);
void page_writer_stop(void);
/* In a forked child: the thread was the parent's. */
void page_writer_leave_in_child(void);

/* Asks for a pass (async-signal-safe). */
void page_writer_kick(void);

/* 1 while a pass is under way or asked for: frames it is saving will be
 * clean soon.  0 when it is idle. */
int page_writer_busy(void);
/* 1 if its last pass found dirty frames and could save none (page file
 * full, or failing). */
int page_writer_stuck(void);
/* Passes completed (progress for those waiting on it). */
unsigned long page_writer_passes(void);

/* 1 while writes to the page file fail (a full file system, an I/O error):
 * from a failed write until a write to a fresh slot succeeds.  Not set by
 * a page file merely at its limit. */
int page_writer_failing(void);

/* The page writer's thread: may a page be written to a fresh slot now?
 * 0 for a while after writes failed (page_writer.c), so a full file
 * system is not written to at every pass. */
int page_writer_fresh_ok(void);

/* The page writer's thread: after writes, once the failed writes' slots
 * are given back, how many failed and how many went to fresh slots. */
void page_writer_fresh_outcome(size_t failed, size_t fresh_written);

#endif
