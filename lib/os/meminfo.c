/*
 * os/meminfo.c -- the machine's memory and the cgroup's limit (meminfo.h).
 */
#include "os/meminfo.h"
#include "os/fd.h"
#include "os/sysraw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

/* The start of file `path` in buf (NUL-terminated), or -1. */
static int read_small(const char *path, char *buf, size_t len)
{
    int fd = os_fd_above_std(open(path, O_RDONLY | O_CLOEXEC));
    if (fd < 0)
        return -1;
    size_t have = 0;
    while (have + 1 < len) {
        ssize_t n = sysraw_read(fd, buf + have, len - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    close(fd);
    buf[have] = 0;
    return have ? 0 : -1;
}

/* A limit file of the cgroup at `dir`: a number of bytes, or "max". */
static uint64_t limit_at(const char *dir, const char *file)
{
    char path[4096], buf[64];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path ||
        read_small(path, buf, sizeof buf) != 0)
        return UINT64_MAX;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf)
        return UINT64_MAX; /* "max" */
    return v;
}

/* The process's cgroup limit: v2 ("0::/path"), else v1's memory
 * controller ("N:memory:/path"); the lowest of the group and its parents
 * as far as they are visible. */
static uint64_t cgroup_limit(void)
{
    char buf[4096];
    if (read_small("/proc/self/cgroup", buf, sizeof buf) != 0)
        return UINT64_MAX;
    const char *root = NULL, *file = NULL;
    char *rel = NULL;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = 0;
        if (strcmp(line, "0:") == 0 || strcmp(c1, ":") == 0) {
            if (!rel) {
                root = "/sys/fs/cgroup";
                file = "memory.max";
                rel = c2 + 1;
            }
        } else if (strstr(c1 + 1, "memory")) {
            root = "/sys/fs/cgroup/memory";
            file = "memory.limit_in_bytes";
            rel = c2 + 1;
            break;
        }
    }
    if (!rel)
        return UINT64_MAX;
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s%s", root, rel) >= (int)sizeof dir)
        return UINT64_MAX;
    uint64_t low = UINT64_MAX;
    for (;;) {
        uint64_t v = limit_at(dir, file);
        if (v < low)
            low = v;
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < strlen(root))
            break;
        *slash = 0;
    }
    return low;
}

int os_memory_size(uint64_t *total, uint64_t *limit)
{
    struct sysinfo si;
    *total = *limit = UINT64_MAX;
    if (sysinfo(&si) != 0)
        return errno;
    *total = (uint64_t)si.totalram * (si.mem_unit ? si.mem_unit : 1);
    *limit = cgroup_limit();
    return 0;
}
