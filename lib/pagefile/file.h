/*
 * pagefile/file.h -- the page file's descriptor, for the layer's other
 * files (file.c opens and closes it).
 */
#ifndef VMEM_PAGEFILE_FILE_H
#define VMEM_PAGEFILE_FILE_H

/* The descriptor, checked before each I/O: an application may close any
 * descriptor and reuse the number for a file of its own, which must never
 * be written (nor read as pages).  -1 then (I/O fails with EBADF), or when
 * no page file is open.  Async-signal-safe. */
int pf_file_checked(void);

/* The descriptor as opened, unchecked (-1 if none): for a request whose
 * descriptor was checked just before. */
int pf_file_fd(void);

/* Bumped by every open and close: threads' rings, and frees that dropped
 * slot_lock, notice that the file changed. */
unsigned pf_file_generation(void);

#endif
