/*
 * stats.h -- the statistics the API reports (vmem_get_stats and
 * vmem_print_stats are declared in <vmem.h>).
 */
#ifndef VMEM_API_STATS_H
#define VMEM_API_STATS_H

/* atexit handler with VMEM_REPORT: prints the counters on stderr, or
 * appends them, headed by the process id, to VMEM_REPORT_FILE. */
void stats_report_at_exit(void);

#endif
