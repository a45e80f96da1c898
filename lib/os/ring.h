/*
 * os/ring.h -- io_uring: a ring, reads and writes queued on it, their
 * submission and their completions.  liburing stays behind this header.
 *
 * A ring is not safe for concurrent use: each is used by one thread at a
 * time (the page file keeps one per thread).  Returns are 0 or a positive
 * errno value unless said otherwise.
 */
#ifndef VMEM_OS_RING_H
#define VMEM_OS_RING_H

#include <stddef.h>
#include <sys/types.h>

/* A ring (liburing's struct io_uring, kept opaque: os/ring.c checks that
 * it fits). */
struct os_ring {
    _Alignas(16) unsigned char opaque[256];
};

/* Any thread: sets up r with `depth` submission entries.  EMFILE, ENOMEM,
 * EPERM ...: no ring (descriptors or locked memory exhausted, io_uring
 * forbidden). */
int os_ring_init(struct os_ring *r, unsigned depth);

/* The ring's thread, with nothing in flight (a request still in flight
 * would go on into memory the caller may reuse): tears r down. */
void os_ring_exit(struct os_ring *r);

/* The ring's thread, with nothing in flight: registers fd as the ring's
 * fixed file 0.  The ring then holds the open file itself: a request queued
 * with os_ring_queue_fixed reaches that file even if the descriptor number
 * is closed or another file is put on it (dup2).  0, or an errno value. */
int os_ring_register_file(struct os_ring *r, int fd);

/* Any thread (the kernel serialises it with the ring's own calls): the
 * ring lets go of its registered files; a request of its in flight keeps
 * its file until it completes, one queued later fails (-EBADF or -ENXIO).
 * 0, or an errno value. */
int os_ring_unregister_files(struct os_ring *r);

/* The ring's thread, with fewer requests queued and unreaped than the
 * depth: queues a read (write 0) or write of len bytes at off on fd,
 * tagged with data.  Nothing reaches the kernel until os_ring_submit. */
void os_ring_queue(struct os_ring *r, int write, int fd, void *buf, unsigned len, off_t off,
                   void *data);

/* As os_ring_queue, on the ring's registered file 0 (os_ring_register_file)
 * instead of a descriptor number. */
void os_ring_queue_fixed(struct os_ring *r, int write, void *buf, unsigned len, off_t off,
                         void *data);

/* The ring's thread: hands the queued requests to the kernel and, with
 * wait, sleeps until at least one completion is there.  EINTR and EAGAIN
 * are returned (nothing is lost: submit again). */
int os_ring_submit(struct os_ring *r, int wait);

/* The ring's thread: the requests queued and not yet taken by the kernel
 * (after a failed submission). */
unsigned os_ring_unsubmitted(struct os_ring *r);

/* The ring's thread: 1 if a completion is waiting (it stays there), else 0. */
int os_ring_has_completion(struct os_ring *r);

/* The ring's thread: takes the next completion: 1 with its tag in *data and
 * its result in *res (bytes moved, or -errno), or 0 if none is waiting. */
int os_ring_reap(struct os_ring *r, void **data, int *res);

/* The ring's thread: takes the next completion as os_ring_reap, sleeping
 * until there is one: 0, or EINTR (nothing taken). */
int os_ring_wait(struct os_ring *r, void **data, int *res);

#endif
