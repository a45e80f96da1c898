/*
 * publish.h -- the process's published statistics area (publish.c,
 * layout in <vmemstat.h>).
 */
#ifndef VMEM_API_PUBLISH_H
#define VMEM_API_PUBLISH_H

#include "api/config.h"

/* The options read at start-up (publish_start). */
extern struct publish_config publish_cfg;

/* Start-up, init_lock held, before any library thread starts: reads the
 * options (an error is returned with a message in err), removes this
 * user's stale areas, makes the area, moves the counters into it and
 * starts the publisher thread.  Failing to publish is not an error: a line
 * on stderr, and the counters stay private. */
int publish_start(char *err, size_t errlen);

/* vmem_shutdown, init_lock held: stops the publisher thread (the area and
 * its counters stay until exit). */
void publish_stop(void);

/* A start that failed, after every other library thread stopped: the
 * counters back to private memory, the area removed. */
void publish_drop(void);

/* Forked child, no other thread running: an area of its own (no publisher
 * thread: the child's map is not answered); its event counters start from
 * zero, the gauges (working set, commit charge, reserved, regions, the
 * compressed store's pages and bytes) are the parent's, which its copy of
 * the address space has, their peaks start from them. */
void publish_fork_child(void);

/* At exit (on_exit): the last figures, how the process ended; the area is
 * removed unless a `vmem run` collects it.  Nothing in a process other
 * than the area's owner (a raw fork's child, a fork after vmem_shutdown). */
void publish_exit(int status);

/* 1 if a `vmem run` collects this process's area (which then reports it). */
int publish_collected(void);

#endif
