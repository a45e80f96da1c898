/* stat_show.h -- samples of a running process's published counters and
 * the one-line form `vmem stat PID INTERVAL` and `vmem top` print
 * (stat_show.c). */
#ifndef VMEM_STAT_SHOW_H
#define VMEM_STAT_SHOW_H

#include <stdint.h>
#include <stdio.h>
#include <vmemstat.h>

struct stat_sample {
    struct vmem_proc_report r;
    uint64_t t_ns;   /* CLOCK_MONOTONIC when taken */
    uint64_t start;  /* the process's start time: a later process of the same pid differs */
    int fresh;       /* the process answered the refresh (standby, page file are current) */
};

/* Takes a sample of the area file name in dir (asking the process to
 * refresh, waiting at most timeout_ms).  0 or an errno value. */
int stat_sample_name(const char *dir, const char *name, unsigned timeout_ms,
                     struct stat_sample *s);

/* The header and a line of rates: prev (or NULL: no rates yet) to cur. */
void stat_header(FILE *f);
void stat_line(FILE *f, const struct stat_sample *prev, const struct stat_sample *cur);

/* Seconds or a number with a fraction ("0.5"): milliseconds in *ms, at
 * least 10.  0, or -1 if s is no such number. */
int stat_parse_interval(const char *s, unsigned *ms);

/* Sleeps ms milliseconds. */
void stat_nap(unsigned ms);

/* The message for a failed open of pid's area (cmd: "stat", "map"); the
 * exit status to return (cmd_stat.c). */
int stat_open_error(const char *cmd, long pid, int err);

/* Asks the process of area dir/name (ours, mapped read-write) to refresh
 * its figures: vmem_statarea_request's result, ESRCH if it has ended,
 * an open error (EACCES: another user's), or ENOENT if its file shrank
 * under the mapping (SIGBUS caught). */
int stat_request(const char *dir, const char *name, unsigned timeout_ms);

#endif
