/*
 * trace_bin.h -- the compact binary trace format, and a writer other code
 * (the live benchmarks, `vmem trace`) can call to save a trace.
 *
 * Layout: the 8-byte magic "\x89VMTRC1\n", then one record per reference:
 * the difference from the previous page number (the first from 0) as a
 * signed 64-bit value, zigzag-encoded (0,-1,1,-2,... -> 0,1,2,3,...) and
 * written as a LEB128 varint (7 bits a byte, low first, high bit set on all
 * but the last byte).  A run through neighbouring pages costs one byte a
 * reference.  Reads and writes are not distinguished.  The file ends after
 * the last complete record.
 */
#ifndef VMEM_TRACE_BIN_H
#define VMEM_TRACE_BIN_H

#include "trace.h"

#include <stdint.h>
#include <stdio.h>

#define TRACE_BIN_MAGIC "\x89VMTRC1\n"
#define TRACE_BIN_MAGIC_LEN 8

struct trace_writer {
    FILE *f;
    uint64_t prev;
    uint64_t count;
    int own; /* opened by trace_write_open: closed by trace_write_close */
};

/* Creates path ("-": standard output).  0, or -1 with errno. */
int trace_write_open(struct trace_writer *w, const char *path);
/* Writes to an open stream (not closed by trace_write_close). */
int trace_write_stream(struct trace_writer *w, FILE *f);
int trace_write_page(struct trace_writer *w, uint64_t page);
/* Flushes (and closes what trace_write_open opened).  0, or -1 with errno
 * if anything failed to be written. */
int trace_write_close(struct trace_writer *w);
/* The whole of t to path. */
int trace_write_file(const struct trace *t, const char *path);

/* Reads the records after the magic (which f must be positioned at). */
int trace_read_bin(struct trace *t, FILE *f, const char *name, char *err, size_t errlen);

#endif
