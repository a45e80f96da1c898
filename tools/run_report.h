/* run_report.h -- `vmem run --report`: collecting the counters of every
 * process of the tree (run_report.c). */
#ifndef VMEM_RUN_REPORT_H
#define VMEM_RUN_REPORT_H

#include <sys/resource.h>
#include <sys/types.h>
#include <vmemstat.h>

/* Before CMD starts: this process becomes the child subreaper of the tree
 * (it learns how orphaned descendants end) and the collector its libvmem
 * processes leave their areas to (VMEM_RUN_COLLECTOR).  0, or -1 with a
 * message printed. */
int run_report_prepare(void);

/* CMD (pid) has ended with status and been reaped: records that, then waits
 * for every other descendant.  0, or -1 with a message printed. */
int run_report_wait_rest(pid_t pid, int status);

/* Prints every process's block and the summary to stderr, or appended to
 * file, in format f; then removes the areas collected. */
void run_report_print(const char *file, enum vmem_report_format f);

#endif
