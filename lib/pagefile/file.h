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

/* A private duplicate of the descriptor into *out (close it with
 * os_fd_close), checked to be the page file: 0; EBADF if the number names
 * another file or no page file is open; EMFILE if no descriptor is left
 * (the caller may then use the checked number, pf_file_checked).  The
 * application may flip the page file's number between its file and the
 * page file at any moment (dup2): a check of the number followed by a use
 * of it can hit its file; a duplicate it does not know stays the file it
 * was checked to be.  Async-signal-safe. */
int pf_file_dup(int *out);

/* The descriptor as opened, unchecked (-1 if none): for a request whose
 * descriptor was checked just before. */
int pf_file_fd(void);

/* Bumped by every open and close: threads' rings, and frees that dropped
 * slot_lock, notice that the file changed. */
unsigned pf_file_generation(void);

#endif
