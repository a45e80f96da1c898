/*
 * trace.h -- page reference traces: an in-memory sequence of page numbers,
 * and the readers that fill one from a file in any of the three input
 * formats (text, valgrind lackey, the binary format of trace_bin.h).
 */
#ifndef VMEM_TRACE_H
#define VMEM_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct trace {
    uint64_t *page;
    size_t n, cap;
};

enum trace_format { TRACE_AUTO, TRACE_TEXT, TRACE_LACKEY, TRACE_BIN };

#define TRACE_PAGE_SHIFT 12 /* lackey addresses fold to 4 KiB pages */

/* 0, or -1 if out of memory */
int trace_push(struct trace *t, uint64_t page);
void trace_free(struct trace *t);

/* "text", "lackey", "bin", "auto"; -1 if none */
int trace_format_parse(const char *s, enum trace_format *fmt);

/* Reads a whole trace from path ("-": standard input), appending to t.
 * Auto-detection: the binary magic, or lackey's "==pid==" banner or record
 * shape on the first meaningful line, else text.  On bad input returns -1
 * with "NAME:LINE: reason" in err (binary: "NAME: record N: reason"). */
int trace_load(struct trace *t, const char *path, enum trace_format fmt, char *err,
               size_t errlen);
int trace_read_stream(struct trace *t, FILE *f, const char *name, enum trace_format fmt,
                      char *err, size_t errlen);

/* One line of each text format (no newline).  0: pages appended to
 * out[0..*n) (*n may be 0 for ignored lines); -1: bad, reason in why. */
int trace_text_line(const char *line, uint64_t out[1], int *n, char *why, size_t whylen);
int trace_lackey_line(const char *line, int data_only, uint64_t out[2], int *n,
                      char *why, size_t whylen);

/* Built-in generators (see trace_gen.c for the specs).  -1 on a bad spec,
 * reason in err. */
int trace_generate(struct trace *t, const char *spec, char *err, size_t errlen);

#endif
