/*
 * pagefile_arg.c -- checking a --pagefile PATH, and the place a page file
 * will be made in, up front (pagefile_arg.h).
 */
#include "pagefile_arg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

int pagefile_place_check(const char *cmd, const char *what, const char *place, int dir_only)
{
    char dir[4096];
    struct stat st;
    if (stat(place, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(dir, sizeof(dir), "%s", place);
    else if (dir_only || stat(place, &st) == 0 || errno != ENOENT || !strchr(place, '/'))
        snprintf(dir, sizeof(dir), "%s", place); /* a file, or unreachable: fails below */
    else
        dir_of(place, dir, sizeof(dir));
    /* as libvmem makes it (pagefile/file.c): O_TMPFILE, else mkstemp +
     * unlink -- the file is ours, nothing is left behind */
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    int e = fd < 0 ? errno : 0;
    if (fd < 0 && (e == EOPNOTSUPP || e == EISDIR || e == EINVAL)) {
        char tmpl[4200];
        int w = snprintf(tmpl, sizeof(tmpl), "%s/vmem-run-check-XXXXXX", dir);
        if (w < 0 || (size_t)w >= sizeof(tmpl)) {
            e = ENAMETOOLONG;
        } else {
            fd = mkstemp(tmpl);
            e = fd < 0 ? errno : 0;
            if (fd >= 0)
                unlink(tmpl);
        }
    }
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    fprintf(stderr, "%s: %s %s: cannot create a page file in %s: %s\n", cmd, what, place, dir,
            strerror(e));
    return -1;
}
