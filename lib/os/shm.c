/*
 * os/shm.c -- memfd_create, shm_open, shm_unlink, flock, fstat/fchmod of
 * the permission bits, the owner check of a named object.
 */
#include "os/shm.h"
#include "os/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int os_memfd(const char *tag, int *fd)
{
    int f = os_fd_above_std(memfd_create(tag, MFD_CLOEXEC));
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

int os_shm_open(const char *name, int create, int *fd)
{
    int f = os_fd_above_std(shm_open(name, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600));
    if (f < 0 && errno == EACCES && !create) /* a read-only section's object */
        f = os_fd_above_std(shm_open(name, O_RDONLY | O_CLOEXEC, 0));
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

int os_shm_unlink(const char *name)
{
    return shm_unlink(name) < 0 ? errno : 0;
}

int os_flock(int fd, int how)
{
    int op = (how & OS_LOCK_SH ? LOCK_SH : 0) | (how & OS_LOCK_EX ? LOCK_EX : 0) |
             (how & OS_LOCK_UN ? LOCK_UN : 0) | (how & OS_LOCK_NB ? LOCK_NB : 0);
    for (;;) {
        if (flock(fd, op) == 0)
            return 0;
        if (errno != EINTR)
            return errno;
    }
}

int os_file_mode(int fd, unsigned *mode)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return errno;
    *mode = (unsigned)st.st_mode & 07777u;
    return 0;
}

int os_file_set_mode(int fd, unsigned mode)
{
    return fchmod(fd, (mode_t)mode) < 0 ? errno : 0;
}


int os_shm_check_own(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return errno;
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
        return EACCES;
    return 0;
}
