/*
 * os/fd.c -- plain descriptors: opening to append, writing, closing.
 */
#include "os/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

int os_fd_write(int fd, const void *buf, size_t len)
{
    /* A reader that went away must not kill the program for a line of
     * libvmem's (a report at exit would turn its status into SIGPIPE's):
     * SIGPIPE is held for the write, and the one the write raised taken
     * back unless one was pending already. */
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    int was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    ssize_t n = write(fd, buf, len);
    int err = n < 0 ? errno : (size_t)n == len ? 0 : EIO;
    if (err == EPIPE && !was_pending) {
        struct timespec zero = { 0, 0 };
        while (sigtimedwait(&pipe_only, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}

int os_fd_open_append(const char *path, int *fd)
{
    int f = os_fd_above_std(open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

void os_fd_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

int os_fd_above_std(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    close(fd);
    errno = e;
    return d;
}

int os_fd_dup_high(int fd, int min, int *out)
{
    int d = fcntl(fd, F_DUPFD_CLOEXEC, min);
    if (d < 0 && errno == EINVAL) /* min above RLIMIT_NOFILE: any number */
        d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (d < 0)
        return errno;
    *out = d;
    return 0;
}

int os_fd_identity(int fd, uint64_t *dev, uint64_t *ino)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return errno;
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
    return 0;
}

int os_fd_is_empty_file(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}
