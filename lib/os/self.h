/*
 * os/self.h -- this process's /proc/self files kept open (mem, pagemap),
 * each checked before every use.
 *
 * The application may close any descriptor and reuse its number for a file
 * of its own, which must never be read as our memory (nor closed by us):
 * each use first compares the file's identity with the one seen at open,
 * and reopens on a mismatch.  A file that cannot be opened (a process that
 * changed its user ids is not dumpable, and its /proc/self files are
 * root's) is not tried again until closed.
 */
#ifndef VMEM_OS_SELF_H
#define VMEM_OS_SELF_H

#include <stdint.h>

struct os_self_file {
    const char *what; /* "mem" or "pagemap" */
    int fd;           /* -1: not open; -2: could not be opened */
    uint64_t id;      /* vm_file_id at open */
};
#define OS_SELF_FILE(what) { what, -1, 0 }

/* The one thread that uses f (callers serialise): its descriptor, opened
 * or reopened if need be, or -1 if it cannot be had. */
int os_self_fd(struct os_self_file *f);

/* Closes f if the descriptor is still ours; the next os_self_fd tries to
 * open it again.  Also in a forked child (the parent's files are not the
 * child's memory). */
void os_self_close(struct os_self_file *f);

#endif
