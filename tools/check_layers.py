#!/usr/bin/env python3
"""check_layers.py -- the shape of lib/ that docs/architecture.md describes.

    check_layers.py SOURCE_DIR BUILD_DIR

Fails (exit 1, one line per finding) when
  1. a file of lib/ outside lib/os/ calls the kernel: an object file of
     libvmem other than lib/os/'s references a system-call wrapper of libc
     or a liburing function that enters the kernel (read from `nm -u`, so
     a call hidden behind a macro counts too);
  2. a file of lib/ includes a header of a higher layer (the order is
     LAYERS below; a file may include its own folder and folders below),
     a header of lib/policy/ includes anything of lib/ outside lib/policy/,
     or a lib/ header is included without its folder;
  3. tools/ or bench/ include an internal header of lib/ other than the
     policy interface (lib/policy/policy.h);
  4. a lock declared in lib/ (a pthread mutex, rwlock, spin lock or
     condition variable, or a variable named *_lock) is missing from the
     lock table of docs/architecture.md, or the table names one that no
     longer exists.
"""
import os
import re
import subprocess
import sys

# Lowest first.  lib/policy/ stands apart: pure code that includes only
# itself, used by paging/ (and by the simulator in tools/).
LAYERS = ["os", "core", "pagefile", "compress", "paging", "fault", "section", "api"]
RANK = {name: i for i, name in enumerate(LAYERS)}

# libc wrappers that enter the kernel, and liburing's calls that do.
SYSCALLS = set("""
mmap mmap64 munmap mremap mprotect madvise posix_madvise mlock mlock2 munlock
mlockall munlockall mincore msync
open open64 openat openat64 __open_2 __open64_2 __openat_2 creat close
read write pread pread64 pwrite pwrite64 preadv pwritev readv writev
__read_chk __pread_chk __pread64_chk
ioctl fcntl fcntl64 fallocate fallocate64 ftruncate ftruncate64
fstat fstat64 __fxstat __fxstat64 stat stat64 lstat lstat64 statx fstatat
fstatat64 fstatfs statfs fstatvfs statvfs truncate access faccessat
readlink readlinkat getdents opendir readdir chdir umask
unlink unlinkat link linkat rename renameat mkstemp mkostemp mkdir rmdir
fsync fdatasync sync_file_range
dup dup2 dup3 pipe pipe2 socket socketpair send sendto sendmsg recv recvfrom
recvmsg
syscall eventfd eventfd_read eventfd_write poll ppoll __poll_chk epoll_create
epoll_create1 epoll_ctl epoll_wait epoll_pwait select pselect
signalfd timerfd_create timerfd_settime
sigaction __sigaction sigprocmask pthread_sigmask sigaltstack sigsuspend
sigtimedwait sigwaitinfo kill tgkill raise pthread_kill abort sysconf
fork vfork _Fork clone getpid gettid getppid prctl
pthread_create pthread_join pthread_detach signal
pthread_atfork on_exit pthread_key_create pthread_setspecific
nanosleep clock_nanosleep usleep sleep sched_yield
getrlimit setrlimit prlimit getrusage
io_uring_queue_init io_uring_queue_init_params io_uring_queue_exit
io_uring_submit io_uring_submit_and_wait io_uring_submit_and_wait_timeout
io_uring_wait_cqe_timeout io_uring_wait_cqes __io_uring_get_cqe
io_uring_register_buffers io_uring_unregister_buffers io_uring_register_files
io_uring_unregister_files io_uring_register_ring_fd io_uring_get_events
io_uring_enter io_uring_setup io_uring_register
""".split())

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LOCK_DECL = re.compile(
    r'\b(?:pthread_mutex_t|pthread_rwlock_t|pthread_spinlock_t|pthread_cond_t)'
    r'\s+\**\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*[;=]')
LOCK_NAMED = re.compile(r'\b(?:atomic_flag|_Atomic\s*\w+|int|unsigned)\s+([a-z_]\w*_lock)\s*[;=]')


def lib_files(src):
    out = []
    for root, _, files in os.walk(os.path.join(src, "lib")):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.join(root, f))
    return sorted(out)


def folder_of(src, path):
    rel = os.path.relpath(path, os.path.join(src, "lib"))
    return rel.split(os.sep)[0] if os.sep in rel else ""


def check_syscalls(src_dir, build):
    found = []
    objdir = None
    libdir = os.path.join(build, "lib")
    for d in sorted(os.listdir(libdir)) if os.path.isdir(libdir) else []:
        if d.startswith("libvmem.so") and d.endswith(".p"):
            objdir = os.path.join(libdir, d)
    if objdir is None:
        return ["no object files of libvmem under %s (build first)" % libdir]
    for obj in sorted(os.listdir(objdir)):
        if not obj.endswith(".o"):
            continue
        # meson names lib/<folder>/<file>.c's object <folder>_<file>.c.o
        if obj.startswith("os_"):
            continue
        src_path = obj[:-len(".o")].replace("_", "/", 1)
        if not os.path.exists(os.path.join(src_dir, "lib", src_path)):
            continue  # left over from a file that was moved or removed
        out = subprocess.run(["nm", "-u", os.path.join(objdir, obj)],
                             capture_output=True, text=True, check=True).stdout
        for line in out.split("\n"):
            parts = line.split()
            if not parts:
                continue
            sym = parts[-1].split("@")[0]
            # the large-file names (pread64, mkostemp64 ...) are the same calls
            if sym in SYSCALLS or (sym.endswith("64") and sym[:-2] in SYSCALLS):
                src = obj[:-len(".o")].replace("_", "/", 1)
                found.append("kernel call outside lib/os/: lib/%s calls %s" % (src, sym))
    return found


def check_includes(src):
    found = []
    for path in lib_files(src):
        here = folder_of(src, path)
        rel = os.path.relpath(path, src)
        with open(path) as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            if "/" not in inc:
                found.append("%s: include \"%s\" does not name its folder" % (rel, inc))
                continue
            there = inc.split("/")[0]
            if here == "policy" or there == "policy":
                if here != "policy" and here not in ("paging", "fault", "section", "api"):
                    found.append("%s: includes %s (only paging/ and above use policy/)" % (rel, inc))
                elif here == "policy" and there != "policy":
                    found.append("%s: includes %s (lib/policy/ includes only itself)" % (rel, inc))
                continue
            if here not in RANK or there not in RANK:
                found.append("%s: include \"%s\": unknown layer" % (rel, inc))
            elif RANK[there] > RANK[here]:
                found.append("%s: includes %s from higher layer %s/" % (rel, inc, there))
    return found


def check_users(src):
    found = []
    for top in ("tools", "bench"):
        d = os.path.join(src, top)
        for root, _, files in os.walk(d):
            for f in files:
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, f)
                with open(path) as fh:
                    text = fh.read()
                for inc in INCLUDE.findall(text):
                    there = inc.split("/")[0] if "/" in inc else ""
                    if there in RANK or (there == "policy" and inc != "policy/policy.h"):
                        found.append("%s: includes lib/%s (use include/ or policy/policy.h)"
                                     % (os.path.relpath(path, src), inc))
    return found


def check_locks(src):
    declared = {}
    for path in lib_files(src):
        with open(path) as f:
            text = re.sub(r'/\*.*?\*/', '', f.read(), flags=re.S)
        text = re.sub(r'//[^\n]*', '', text)
        for name in LOCK_DECL.findall(text) + LOCK_NAMED.findall(text):
            declared.setdefault(name, os.path.relpath(path, src))
    doc = os.path.join(src, "docs", "architecture.md")
    with open(doc) as f:
        lines = f.read().split("\n")
    table = set()
    in_locks = False
    for line in lines:
        if line.startswith("## "):
            in_locks = line.strip() == "## Locks"
        elif in_locks and line.startswith("| `"):
            table.add(line.split("`")[1])
    found = []
    for name, where in sorted(declared.items()):
        if name not in table:
            found.append("lock %s (%s) is not in the lock table of docs/architecture.md" % (name, where))
    for name in sorted(table - set(declared)):
        found.append("docs/architecture.md names lock %s, which lib/ does not declare" % name)
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: check_layers.py SOURCE_DIR BUILD_DIR")
    src, build = sys.argv[1], sys.argv[2]
    found = check_syscalls(src, build) + check_includes(src) + check_users(src) + check_locks(src)
    for line in found:
        print(line)
    print("check_layers: %d finding(s)" % len(found))
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
