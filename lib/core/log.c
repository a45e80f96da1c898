/*
 * log.c -- the library's one-line messages on stderr (vmem_log).
 */
#include "core/vmem_internal.h"
#include "os/fd.h"

#include <stdarg.h>
#include <stdio.h>

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
    (void)os_fd_write(2, buf, (size_t)n); /* nowhere to report a failure */
}
