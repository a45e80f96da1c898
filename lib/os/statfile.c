/*
 * os/statfile.c -- the statistics directory's files: create, map, list,
 * rename, remove; the shared futex of a mapped area.
 */
#include "os/statfile.h"
#include "os/fd.h"
#include "os/vm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    return n > 0 && (size_t)n < len ? 0 : ENAMETOOLONG;
}

int os_statfile_create(const char *dir, const char *name, unsigned mode, size_t size,
                       void **map)
{
    char path[PATH_MAX];
    int err = join(path, sizeof(path), dir, name);
    if (err)
        return err;
    int fd = os_fd_above_std(open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd < 0)
        return errno;
    /* the mode asked for, whatever the umask */
    if (fchmod(fd, mode) != 0) {
        err = errno;
        close(fd);
        unlink(path);
        return err;
    }
    /* Every block allocated now, not a sparse file: a store into a hole of
     * a full file system (a small /dev/shm) is a SIGBUS, and the counters
     * are stored into from everywhere, signal handlers included. */
    do
        err = posix_fallocate(fd, 0, (off_t)size);
    while (err == EINTR); /* tmpfs stops at a pending signal */
    if (err) {
        close(fd);
        unlink(path);
        return err;
    }
    /* not libc's mmap: the preload library replaces it, and takes a lock
     * of its own across fork (a forked child makes its area here) */
    void *m;
    err = vm_map_file(fd, size, 1, &m);
    close(fd);
    if (err) {
        unlink(path);
        return err;
    }
    *map = m;
    return 0;
}

int os_statfile_map(const char *dir, const char *name, int writable, size_t min, void **map,
                    size_t *len, uint32_t *uid)
{
    char path[PATH_MAX];
    int err = join(path, sizeof(path), dir, name);
    if (err)
        return err;
    int fd = os_fd_above_std(open(path, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (fd < 0)
        return errno == ELOOP ? EPROTO : errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err = errno;
        close(fd);
        return err;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size != min) {
        close(fd);
        return EPROTO;
    }
    void *m;
    size_t n = (size_t)st.st_size;
    if (writable) {
        err = vm_map_file(fd, n, 1, &m);
    } else if ((err = vm_alloc(n, &m)) == 0) {
        /* read-only: a private copy read with pread, never the file's
         * pages, so a file truncated meanwhile cannot raise SIGBUS */
        size_t got = 0;
        while (got < n) {
            ssize_t r = pread(fd, (char *)m + got, n - got, (off_t)got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                err = r < 0 ? errno : ENOENT; /* shrunk: gone */
                vm_unmap((uintptr_t)m, n);
                break;
            }
            got += (size_t)r;
        }
    }
    close(fd);
    if (err)
        return err;
    *map = m;
    *len = n;
    *uid = (uint32_t)st.st_uid;
    return 0;
}

void os_statfile_unmap(void *map, size_t len)
{
    if (map)
        vm_unmap((uintptr_t)map, len);
}

int os_statfile_unlink(const char *dir, const char *name)
{
    char path[PATH_MAX];
    int err = join(path, sizeof(path), dir, name);
    if (err)
        return err;
    return unlink(path) == 0 ? 0 : errno;
}

int os_statfile_rename(const char *dir, const char *from, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX];
    int err = join(a, sizeof(a), dir, from);
    if (!err)
        err = join(b, sizeof(b), dir, to);
    if (err)
        return err;
    return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) == 0 ? 0 : errno;
}

int os_statfile_list(const char *dir, const char *prefix, void (*fn)(const char *name, void *arg),
                     void *arg)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno;
    size_t pl = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, prefix, pl))
            fn(e->d_name, arg);
    closedir(d);
    return 0;
}

void os_futex_wait(uint32_t *word, uint32_t val, unsigned timeout_ms)
{
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
    /* not FUTEX_PRIVATE_FLAG: the word is in a file other processes map */
    syscall(SYS_futex, word, FUTEX_WAIT, val, timeout_ms ? &ts : NULL, NULL, 0);
}

void os_futex_wake(uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
