/*
 * page_writer.h -- the modified page writer: saves dirty standby frames to
 * the page file ahead of need, on a thread of its own.
 */
#ifndef VMEM_PAGE_WRITER_H
#define VMEM_PAGE_WRITER_H

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

#endif
