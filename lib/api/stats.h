/*
 * stats.h -- the statistics the API reports (vmem_get_stats and
 * vmem_print_stats are declared in <vmem.h>).
 */
#ifndef VMEM_API_STATS_H
#define VMEM_API_STATS_H

/* on_exit handler: with VMEM_REPORT, prints this process's block (unless a
 * `vmem run` collects it) on the stderr the library was loaded with
 * (core/log.h), or appends it to VMEM_REPORT's file; then marks the
 * published area (publish.c). */
void stats_at_exit(int status, void *arg);

#endif
