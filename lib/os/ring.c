/*
 * os/ring.c -- thin wrappers over liburing: queue init and exit, reads and
 * writes prepared on submission entries, submission, completions.
 */
#include "os/ring.h"
#include "os/fd.h"

#include <liburing.h>
#include <stdalign.h>

_Static_assert(sizeof(struct io_uring) <= sizeof(((struct os_ring *)0)->opaque),
               "struct os_ring too small for struct io_uring");
_Static_assert(alignof(struct io_uring) <= alignof(struct os_ring),
               "struct os_ring under-aligned for struct io_uring");

static struct io_uring *ur(struct os_ring *r)
{
    return (struct io_uring *)(void *)r->opaque;
}

int os_ring_init(struct os_ring *r, unsigned depth)
{
    struct io_uring *u = ur(r);
    int e = io_uring_queue_init(depth, u, 0);
    if (e < 0)
        return -e;
    /* The ring's rings are mapped: a copy of its descriptor above 2 serves
     * the same; submissions go through enter_ring_fd (not registered). */
    if (u->ring_fd >= 0 && u->ring_fd <= 2) {
        int f = os_fd_above_std(u->ring_fd);
        if (f < 0) {
            e = errno;
            u->ring_fd = u->enter_ring_fd = -1;
            io_uring_queue_exit(u);
            return e;
        }
        u->ring_fd = u->enter_ring_fd = f;
    }
    return 0;
}

void os_ring_exit(struct os_ring *r)
{
    io_uring_queue_exit(ur(r));
}

void os_ring_queue(struct os_ring *r, int write, int fd, void *buf, unsigned len, off_t off,
                   void *data)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ur(r));
    if (write)
        io_uring_prep_write(sqe, fd, buf, len, off);
    else
        io_uring_prep_read(sqe, fd, buf, len, off);
    io_uring_sqe_set_data(sqe, data);
}

int os_ring_register_file(struct os_ring *r, int fd)
{
    int e = io_uring_register_files(ur(r), &fd, 1);
    return e < 0 ? -e : 0;
}

int os_ring_unregister_files(struct os_ring *r)
{
    int e = io_uring_unregister_files(ur(r));
    return e < 0 ? -e : 0;
}

void os_ring_queue_fixed(struct os_ring *r, int write, void *buf, unsigned len, off_t off,
                         void *data)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ur(r));
    if (write)
        io_uring_prep_write(sqe, 0, buf, len, off);
    else
        io_uring_prep_read(sqe, 0, buf, len, off);
    sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data(sqe, data);
}

int os_ring_submit(struct os_ring *r, int wait)
{
    int e = wait ? io_uring_submit_and_wait(ur(r), 1) : io_uring_submit(ur(r));
    return e < 0 ? -e : 0;
}

unsigned os_ring_unsubmitted(struct os_ring *r)
{
    return io_uring_sq_ready(ur(r));
}

int os_ring_has_completion(struct os_ring *r)
{
    struct io_uring_cqe *cqe;
    return io_uring_peek_cqe(ur(r), &cqe) == 0;
}

static void take(struct os_ring *r, struct io_uring_cqe *cqe, void **data, int *res)
{
    *data = io_uring_cqe_get_data(cqe);
    *res = cqe->res;
    io_uring_cqe_seen(ur(r), cqe);
}

int os_ring_reap(struct os_ring *r, void **data, int *res)
{
    struct io_uring_cqe *cqe;
    if (io_uring_peek_cqe(ur(r), &cqe) != 0)
        return 0;
    take(r, cqe, data, res);
    return 1;
}

int os_ring_wait(struct os_ring *r, void **data, int *res)
{
    struct io_uring_cqe *cqe;
    int e = io_uring_wait_cqe(ur(r), &cqe);
    if (e < 0)
        return -e;
    take(r, cqe, data, res);
    return 0;
}
