/*
 * wsmanager.h -- the working-set manager thread: keeps the pages in RAM
 * under the cap by trimming (trim.c) and freeing standby frames
 * (release.c), woken by faults short of room.
 */
#ifndef VMEM_WSMANAGER_H
#define VMEM_WSMANAGER_H

/* Wakes the working-set manager thread.  Any thread, async-signal-safe. */
void paging_kick(void);
/* 1 while the thread is working RAM down to the low-water mark (its rounds
 * are making room).  Any thread, async-signal-safe. */
int wsmanager_busy(void);

/* Work of a higher layer the thread runs at every wake-up (at least every
 * 50 ms while paging is on), holding no lock: the fault layer's reaping of
 * forked children.  Registered once, before or while paging runs; kept
 * across paging_stop.  Any thread. */
void paging_set_periodic(void (*fn)(void));

/* ---- for start.c --------------------------------------------------------- */

/* Opens the thread's wake-up (so paging_kick works before it runs).  0 or
 * errno. */
int wsmanager_open(void);
/* Starts the thread (the cap must be in force).  0 or errno. */
int wsmanager_start(void);
/* Stops and joins the thread, if running. */
void wsmanager_stop(void);
/* Closes the wake-up, once the cap is off (no fault kicks any more). */
void wsmanager_close(void);
/* In a forked child: the thread was the parent's. */
void wsmanager_leave_in_child(void);

/* Test hook: while held (1), the thread trims and frees nothing, as if
 * starved, so faults must make their own room (reclaim.c); 0 lets it go
 * again.  Any thread. */
void wsmanager_test_hold(int hold);

#endif
