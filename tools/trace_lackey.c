/*
 * trace_lackey.c -- valgrind lackey's memory trace (valgrind --tool=lackey
 * --trace-mem=yes): "I  ADDR,SIZE" for an instruction fetch, " L ", " S ",
 * " M " (load, store, modify) for data; ADDR in hex.  Each access becomes
 * the 4 KiB page(s) it touches: one that straddles a page boundary
 * references both.  Valgrind's own "==pid==" lines are ignored.
 */
#include "trace.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int trace_lackey_line(const char *line, int data_only, uint64_t out[2], int *n,
                      char *why, size_t whylen)
{
    *n = 0;
    if (!strncmp(line, "==", 2) || !line[strspn(line, " \t")])
        return 0;
    int instr = !strncmp(line, "I  ", 3);
    int data = line[0] == ' ' && line[1] && strchr("LSM", line[1]) && line[2] == ' ';
    if (!instr && !data) {
        snprintf(why, whylen, "not a lackey record: '%.64s'", line);
        return -1;
    }
    const char *s = line + 3;
    s += strspn(s, " ");
    char *end;
    errno = 0;
    if (!isxdigit((unsigned char)*s))
        goto bad;
    unsigned long long addr = strtoull(s, &end, 16);
    if (errno || *end != ',' || !isdigit((unsigned char)end[1]))
        goto bad;
    unsigned long size = strtoul(end + 1, &end, 10);
    if (errno || *end || size == 0)
        goto bad;
    if (instr && data_only)
        return 0;
    uint64_t first = addr >> TRACE_PAGE_SHIFT;
    uint64_t last = (addr + size - 1) >> TRACE_PAGE_SHIFT;
    out[(*n)++] = first;
    if (last != first)
        out[(*n)++] = last;
    return 0;
bad:
    snprintf(why, whylen, "bad lackey record: '%.64s'", line);
    return -1;
}
