/*
 * log.c -- the library's one-line messages on stderr (vmem_log), written to
 * a duplicate of fd 2 taken when the library is loaded (log.h).
 */
#include "core/log.h"
#include "core/vmem_internal.h"
#include "os/fd.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

/* Above the numbers programs count on and reuse. */
#define LOG_FD_MIN 100

enum { FD_NONE, FD_TAKING, FD_TAKEN }; /* fd_state */
static int fd_state;                   /* atomic */
static int err_fd = -1;
static uint64_t err_dev, err_ino;      /* what err_fd was when taken */

/* Once: the duplicate of fd 2 as it is now (nothing if it is closed). */
static void take(void)
{
    int none = FD_NONE;
    if (!__atomic_compare_exchange_n(&fd_state, &none, FD_TAKING, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    int fd;
    if (os_fd_dup_high(2, LOG_FD_MIN, &fd) == 0) {
        if (os_fd_identity(fd, &err_dev, &err_ino) == 0)
            err_fd = fd;
        else
            os_fd_close(fd);
    }
    __atomic_store_n(&fd_state, FD_TAKEN, __ATOMIC_RELEASE);
}

/* At load, before any constructor of default priority (the preload
 * library's starts libvmem from one): fd 2 is still the stderr the
 * program was started with. */
__attribute__((constructor(101))) static void log_start(void)
{
    take();
}

int log_stderr_fd(void)
{
    take(); /* a no-op after the constructor */
    if (__atomic_load_n(&fd_state, __ATOMIC_ACQUIRE) != FD_TAKEN || err_fd < 0)
        return -1; /* another thread is taking it: this line is lost */
    /* a program that closed the number (closefrom, a dup2 over it) may
     * have given it to one of its files since */
    uint64_t dev, ino;
    if (os_fd_identity(err_fd, &dev, &ino) != 0 || dev != err_dev || ino != err_ino)
        return -1;
    return err_fd;
}

void vmem_log(const char *fmt, ...)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "libvmem: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    int fd = log_stderr_fd();
    if (fd >= 0)
        (void)os_fd_write(fd, buf, (size_t)n); /* nowhere to report a failure */
}
