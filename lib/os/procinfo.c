/*
 * os/procinfo.c -- a process's command line, start time, user, liveness.
 */
#include "os/procinfo.h"
#include "os/fd.h"
#include "os/sysraw.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads at most len-1 bytes of path into buf, NUL-terminated; the count. */
static size_t read_small(const char *path, char *buf, size_t len)
{
    int fd = os_fd_above_std(open(path, O_RDONLY | O_CLOEXEC));
    if (fd < 0)
        return 0;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t n = sysraw_read(fd, buf + got, len - 1 - got); /* never the preload's read */
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    return got;
}

void os_self_cmdline(char *buf, size_t len)
{
    if (!len)
        return;
    size_t n = read_small("/proc/self/cmdline", buf, len);
    while (n > 0 && buf[n - 1] == 0)
        n--;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == 0)
            buf[i] = ' ';
    buf[n] = 0;
    if (n == 0) {
        n = read_small("/proc/self/comm", buf, len);
        if (n > 0 && buf[n - 1] == '\n')
            buf[n - 1] = 0;
    }
}

uint64_t os_proc_start_ticks(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (!read_small(path, buf, sizeof(buf)))
        return 0;
    /* the command (field 2) may hold spaces and parentheses: count from
     * its last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    /* field 3 follows ") "; the start time is field 22 */
    for (int field = 2; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

int os_proc_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

uint32_t os_uid(void)
{
    return (uint32_t)getuid();
}

uint32_t os_proc_uid(long pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    if (!read_small(path, buf, sizeof(buf)))
        return UINT32_MAX;
    char *p = strstr(buf, "\nUid:");
    return p ? (uint32_t)strtoul(p + 5, NULL, 10) : UINT32_MAX;
}
