/*
 * pagefile_arg.h -- checking a --pagefile PATH before anything starts, with
 * the rule libvmem applies in every process (lib/pagefile/file.c): a
 * directory (each process gets an unnamed file in it), or a path that does
 * not exist in an existing directory (an unnamed file in that directory,
 * the name never created).  An existing file of any other kind is refused.
 */
#ifndef VMEM_PAGEFILE_ARG_H
#define VMEM_PAGEFILE_ARG_H

#include <stddef.h>

/* 0 and the absolute form of path in abs (a process of the tree may change
 * directory), or -1 after a message on stderr that begins with `cmd` and
 * names the setting `what` ("--pagefile", "VMEM_PAGEFILE"). */
int pagefile_arg_check(const char *cmd, const char *what, const char *path, char *abs,
                       size_t len);

/* Whether a page file can be made at place (a --pagefile PATH as checked
 * above; with dir_only, a directory such as the default TMPDIR): an unnamed
 * file is created there and closed, as libvmem will.  0, or -1 after a
 * message naming `what` and the reason. */
int pagefile_place_check(const char *cmd, const char *what, const char *place, int dir_only);

#endif
