/*
 * pagefile_arg.c -- checking a --pagefile PATH up front (pagefile_arg.h).
 */
#include "pagefile_arg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of path ("." for a bare name), in dir. */
static void dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int pagefile_arg_check(const char *cmd, const char *what, const char *path, char *abs,
                       size_t len)
{
    if (!*path) {
        fprintf(stderr, "%s: %s: empty path\n", cmd, what);
        return -1;
    }
    int w;
    if (path[0] == '/') {
        w = snprintf(abs, len, "%s", path);
    } else {
        char cwd[4096];
        if (!getcwd(cwd, sizeof(cwd))) {
            fprintf(stderr, "%s: %s %s: current directory: %s\n", cmd, what, path,
                    strerror(errno));
            return -1;
        }
        w = snprintf(abs, len, "%s/%s", cwd, path);
    }
    if (w < 0 || (size_t)w >= len) {
        fprintf(stderr, "%s: %s %s: path too long\n", cmd, what, path);
        return -1;
    }
    struct stat st;
    if (stat(abs, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        fprintf(stderr, "%s: %s %s: an existing file, refused (it is never written "
                "over): give a directory or a path that does not exist\n", cmd, what, path);
        return -1;
    }
    if (errno != ENOENT) {
        fprintf(stderr, "%s: %s %s: %s\n", cmd, what, path, strerror(errno));
        return -1;
    }
    char dir[4096];
    dir_of(abs, dir, sizeof(dir));
    int e = stat(dir, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (e) {
        fprintf(stderr, "%s: %s %s: its directory %s: %s\n", cmd, what, path, dir, strerror(e));
        return -1;
    }
    return 0;
}
