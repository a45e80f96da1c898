#!/usr/bin/env python3
"""check_link.py -- libvmem inside libvmem-preload.so, checked on the binaries.

    check_link.py LIBVMEM_A LIBVMEM_SYSCALLS_A LIBVMEM_PRELOAD_SO

Fails (exit 1, one line per finding) when
  1. libvmem's code is not in the preload library exactly once: every
     symbol libvmem.a defines must be defined as many times in the preload
     library as in libvmem.a plus the preload library's own files (a second
     copy of libvmem, built apart, would double them; a missing part would
     drop them);
  2. libvmem calls a function the preload library puts in the place of
     libc's other than read, write & co. (libvmem-syscalls'): its mmap,
     munmap, mremap, madvise, mprotect or malloc family would hand libvmem
     managed memory, or take its lock again;
  3. a file of libvmem other than os/thread.c calls pthread_create: the
     preload library marks libvmem's threads through the creator it gives
     os/thread.c, so every thread must start there.
"""
import collections
import glob
import subprocess
import sys


def nm(*args):
    out = subprocess.run(["nm"] + list(args), capture_output=True, text=True, check=True).stdout
    return out.split("\n")


def defined(*paths):
    """name -> how many times the files define it (code and data; not the
    assembler's local labels)."""
    n = collections.Counter()
    for path in paths:
        for line in nm("--defined-only", path):
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TtDdBbRr" and not parts[2].startswith("."):
                n[parts[2]] += 1
    return n


def undefined_by_member(archive):
    """member -> the symbols it references and does not define."""
    out, member = {}, None
    for line in nm("-u", archive):
        if line.endswith(".o:"):
            member = line[:-1]
            out[member] = set()
        elif line.strip() and member:
            out[member].add(line.split()[-1].split("@")[0])
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: check_link.py LIBVMEM_A LIBVMEM_SYSCALLS_A LIBVMEM_PRELOAD_SO")
    lib_a, sys_a, so = sys.argv[1:]
    found = []

    # meson builds the preload library's own files into <so>.p/
    own = sorted(glob.glob(so + ".p/*.o"))
    if not own:
        found.append("no object files of the preload library in %s.p/" % so)
    in_lib, in_so = defined(lib_a), defined(so)
    others = defined(sys_a, *own) if own else collections.Counter()
    for name, count in sorted(in_lib.items()):
        if in_so[name] != count + others[name]:
            found.append("%s: defined %d time(s) in the preload library, %d in libvmem.a "
                         "(and %d in the rest)" % (name, in_so[name], count, others[name]))

    exported = set()
    for line in nm("-D", "--defined-only", so):
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtWiDB":
            exported.add(parts[2].split("@")[0])
    # the preload library's own replacements of libc's functions
    replaced = exported - set(in_lib) - set(defined(sys_a))
    if "mmap" not in replaced or "malloc" not in replaced:
        found.append("the preload library exports no mmap or malloc: wrong file?")
    for member, refs in sorted(undefined_by_member(lib_a).items()):
        for sym in sorted(refs & replaced):
            found.append("libvmem's %s calls %s, which the preload library replaces"
                         % (member, sym))
        if "pthread_create" in refs and member != "os_thread.c.o":
            found.append("libvmem's %s calls pthread_create, not os_thread_start" % member)

    for line in found:
        print(line)
    print("check_link: %d libvmem symbols, each in the preload library as often as in "
          "libvmem.a; %d functions replaced by the preload library; %d finding(s)"
          % (len(in_lib), len(replaced), len(found)))
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
