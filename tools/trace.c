/* trace.c -- the trace container and the format-detecting reader. */
#include "trace.h"

#include "trace_bin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int trace_push(struct trace *t, uint64_t page)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        uint64_t *p = realloc(t->page, cap * sizeof *p);
        if (!p)
            return -1;
        t->page = p;
        t->cap = cap;
    }
    t->page[t->n++] = page;
    return 0;
}

void trace_free(struct trace *t)
{
    free(t->page);
    memset(t, 0, sizeof *t);
}

int trace_format_parse(const char *s, enum trace_format *fmt)
{
    static const char *const names[] = {"auto", "text", "lackey", "bin"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *fmt = (enum trace_format)i;
            return 0;
        }
    return -1;
}

static int meaningful(const char *line)
{
    line += strspn(line, " \t\r");
    return *line && *line != '#';
}

/* a lackey record: "I  hex,size" or " [LSM] hex,size", or its banner */
static int looks_like_lackey(const char *line)
{
    if (!strncmp(line, "==", 2))
        return 1;
    uint64_t pages[2];
    int n;
    char why[8];
    return (!strncmp(line, "I  ", 3) || (line[0] == ' ' && strchr("LSM", line[1]) &&
                                         line[1] && line[2] == ' ')) &&
           trace_lackey_line(line, 0, pages, &n, why, sizeof why) == 0;
}

int trace_read_stream(struct trace *t, FILE *f, const char *name, enum trace_format fmt,
                      char *err, size_t errlen)
{
    if (fmt == TRACE_AUTO || fmt == TRACE_BIN) {
        int c = getc(f);
        if (c != EOF)
            ungetc(c, f);
        if (fmt == TRACE_BIN || c == (unsigned char)TRACE_BIN_MAGIC[0])
            return trace_read_bin(t, f, name, err, errlen);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if ((size_t)len != strlen(line)) {
            snprintf(err, errlen, "%s:%lu: NUL byte in a text trace", name, lineno);
            rc = -1;
            break;
        }
        if (fmt == TRACE_AUTO) {
            if (!meaningful(line))
                continue;
            fmt = looks_like_lackey(line) ? TRACE_LACKEY : TRACE_TEXT;
        }
        uint64_t pages[2];
        int n = 0;
        char why[160];
        int bad = fmt == TRACE_LACKEY
                      ? trace_lackey_line(line, 0, pages, &n, why, sizeof why)
                      : trace_text_line(line, pages, &n, why, sizeof why);
        if (bad) {
            snprintf(err, errlen, "%s:%lu: %s", name, lineno, why);
            rc = -1;
            break;
        }
        for (int i = 0; i < n; i++)
            if (trace_push(t, pages[i]) < 0) {
                snprintf(err, errlen, "%s:%lu: out of memory", name, lineno);
                rc = -1;
                goto out;
            }
    }
    if (!rc && ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", name, strerror(errno));
        rc = -1;
    }
out:
    free(line);
    return rc;
}

int trace_load(struct trace *t, const char *path, enum trace_format fmt, char *err,
               size_t errlen)
{
    int is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = trace_read_stream(t, f, is_stdin ? "<stdin>" : path, fmt, err, errlen);
    if (!is_stdin)
        fclose(f);
    return rc;
}
