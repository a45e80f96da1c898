/*
 * fuse_inject -- a FUSE file system that passes a directory through and
 * injects faults into the I/O of the files in it, for tests of the page
 * file on a failing device.
 *
 *   fuse_inject --source=DIR [options] MOUNTPOINT [-f] [-o ...]
 *
 * Faults (while armed):
 *   --eio              every read fails with EIO
 *   --eio-every=N      every N-th read fails with EIO
 *   --short-reads      a read returns half of what was asked, and a read
 *                      that does not start on a 4 KiB boundary returns 0
 *                      (as at the end of the file)
 *   --drop-writes      writes are acknowledged but not written
 *   --flip-byte        reads return the data with one byte inverted
 * Control:
 *   --control=PATH     armed only while PATH exists (checked at each I/O);
 *                      armed always without it
 *   --count=PATH       the number of reads so far is written there (decimal,
 *                      fixed width) after each read
 *   --ready=FD         a byte is written to descriptor FD (then closed) once
 *                      the file system is mounted and answering
 *
 * Files are opened with direct I/O, so every read and write of the client
 * reaches this process (nothing is served from the page cache).
 */
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static struct options {
    const char *source;
    const char *control;
    const char *count;
    int ready;
    int eio;
    unsigned eio_every;
    int short_reads;
    int drop_writes;
    int flip_byte;
} opt;

#define OPTION(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
    OPTION("--source=%s", source),
    OPTION("--control=%s", control),
    OPTION("--count=%s", count),
    OPTION("--ready=%d", ready),
    OPTION("--eio", eio),
    OPTION("--eio-every=%u", eio_every),
    OPTION("--short-reads", short_reads),
    OPTION("--drop-writes", drop_writes),
    OPTION("--flip-byte", flip_byte),
    FUSE_OPT_END
};

static int src_fd = -1;         /* the source directory */
static int count_fd = -1;
static unsigned long reads;     /* all reads, armed or not */
static unsigned long armed_reads;

/* A path of the mount as a path relative to the source directory. */
static const char *rel(const char *path)
{
    while (*path == '/')
        path++;
    return *path ? path : ".";
}

static int armed(void)
{
    struct stat st;
    return !opt.control || stat(opt.control, &st) == 0;
}

static void note_read(void)
{
    unsigned long n = __atomic_add_fetch(&reads, 1, __ATOMIC_RELAXED);
    if (count_fd >= 0) {
        char buf[24];
        int len = snprintf(buf, sizeof(buf), "%20lu\n", n);
        if (pwrite(count_fd, buf, (size_t)len, 0) < 0)
            perror("fuse_inject: count file");
    }
}

static void *fi_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->direct_io = 1;    /* every read and write comes here */
    cfg->hard_remove = 1;  /* unlink at once, the open file stays usable */
    cfg->use_ino = 1;
    cfg->entry_timeout = cfg->attr_timeout = cfg->negative_timeout = 0;
    /* the kernel's INIT request: the mount is in place */
    if (opt.ready >= 0) {
        if (write(opt.ready, "r", 1) != 1)
            perror("fuse_inject: --ready");
        close(opt.ready);
        opt.ready = -1;
    }
    return NULL;
}

static int fi_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    int r = fi ? fstat((int)fi->fh, st) : fstatat(src_fd, rel(path), st, AT_SYMLINK_NOFOLLOW);
    return r < 0 ? -errno : 0;
}

static int fi_access(const char *path, int mask)
{
    return faccessat(src_fd, rel(path), mask, 0) < 0 ? -errno : 0;
}

static int fi_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off;
    (void)fi;
    (void)flags;
    int fd = openat(src_fd, rel(path), O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st = { .st_ino = e->d_ino, .st_mode = (mode_t)e->d_type << 12 };
        if (fill(buf, e->d_name, &st, 0, 0))
            break;
    }
    closedir(d);
    return 0;
}

static int fi_mkdir(const char *path, mode_t mode)
{
    return mkdirat(src_fd, rel(path), mode) < 0 ? -errno : 0;
}

static int fi_unlink(const char *path)
{
    return unlinkat(src_fd, rel(path), 0) < 0 ? -errno : 0;
}

static int fi_rmdir(const char *path)
{
    return unlinkat(src_fd, rel(path), AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int fi_rename(const char *from, const char *to, unsigned flags)
{
    return renameat2(src_fd, rel(from), src_fd, rel(to), flags) < 0 ? -errno : 0;
}

static int fi_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    int r = fi ? fchmod((int)fi->fh, mode) : fchmodat(src_fd, rel(path), mode, 0);
    return r < 0 ? -errno : 0;
}

static int fi_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    if (fi)
        return ftruncate((int)fi->fh, size) < 0 ? -errno : 0;
    int fd = openat(src_fd, rel(path), O_WRONLY);
    if (fd < 0)
        return -errno;
    int r = ftruncate(fd, size) < 0 ? -errno : 0;
    close(fd);
    return r;
}

static int fi_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    int r = fi ? futimens((int)fi->fh, tv) : utimensat(src_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW);
    return r < 0 ? -errno : 0;
}

/* The source file is opened without O_DIRECT: the client's direct I/O
 * already bypasses the mount's page cache, and the source's file system
 * (a tmpfs, say) may not take it. */
static int fi_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    int fd = openat(src_fd, rel(path), (fi->flags & ~O_DIRECT) | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    fi->direct_io = 1;
    return 0;
}

static int fi_open(const char *path, struct fuse_file_info *fi)
{
    int fd = openat(src_fd, rel(path), (fi->flags & ~(O_DIRECT | O_CREAT | O_EXCL)) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    fi->direct_io = 1;
    return 0;
}

static int fi_read(const char *path, char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi)
{
    (void)path;
    int on = armed();
    if (on) {
        unsigned long n = __atomic_add_fetch(&armed_reads, 1, __ATOMIC_RELAXED);
        if (opt.eio || (opt.eio_every && n % opt.eio_every == 0)) {
            note_read();
            return -EIO;
        }
        if (opt.short_reads) {
            if (off % 4096) {
                note_read();
                return 0;
            }
            size /= 2;
        }
    }
    ssize_t r = pread((int)fi->fh, buf, size, off);
    if (r < 0)
        r = -errno;
    else if (on && opt.flip_byte && r > 0)
        buf[r / 2] = (char)~buf[r / 2];
    note_read();
    return (int)r;
}

static int fi_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)path;
    if (opt.drop_writes && armed())
        return (int)size;
    ssize_t r = pwrite((int)fi->fh, buf, size, off);
    return r < 0 ? -errno : (int)r;
}

static int fi_statfs(const char *path, struct statvfs *st)
{
    (void)path;
    return fstatvfs(src_fd, st) < 0 ? -errno : 0;
}

static int fi_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close((int)fi->fh);
    return 0;
}

static int fi_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path;
    int r = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
    return r < 0 ? -errno : 0;
}

static int fi_fallocate(const char *path, int mode, off_t off, off_t len,
                        struct fuse_file_info *fi)
{
    (void)path;
    return fallocate((int)fi->fh, mode, off, len) < 0 ? -errno : 0;
}

static const struct fuse_operations ops = {
    .init = fi_init,
    .getattr = fi_getattr,
    .access = fi_access,
    .readdir = fi_readdir,
    .mkdir = fi_mkdir,
    .unlink = fi_unlink,
    .rmdir = fi_rmdir,
    .rename = fi_rename,
    .chmod = fi_chmod,
    .truncate = fi_truncate,
    .utimens = fi_utimens,
    .create = fi_create,
    .open = fi_open,
    .read = fi_read,
    .write = fi_write,
    .statfs = fi_statfs,
    .release = fi_release,
    .fsync = fi_fsync,
    .fallocate = fi_fallocate,
};

int main(int argc, char **argv)
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    opt.ready = -1;
    if (fuse_opt_parse(&args, &opt, option_spec, NULL) < 0)
        return 2;
    if (!opt.source) {
        fprintf(stderr, "fuse_inject: --source=DIR is required\n");
        return 2;
    }
    src_fd = open(opt.source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src_fd < 0) {
        perror(opt.source);
        return 2;
    }
    if (opt.count) {
        count_fd = open(opt.count, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (count_fd < 0) {
            perror(opt.count);
            return 2;
        }
    }
    int r = fuse_main(args.argc, args.argv, &ops, NULL);
    fuse_opt_free_args(&args);
    return r;
}
