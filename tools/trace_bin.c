/* trace_bin.c -- reading and writing the binary trace format (trace_bin.h). */
#include "trace_bin.h"

#include <errno.h>
#include <string.h>

int trace_write_stream(struct trace_writer *w, FILE *f)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    if (fwrite(TRACE_BIN_MAGIC, 1, TRACE_BIN_MAGIC_LEN, f) != TRACE_BIN_MAGIC_LEN)
        return -1;
    return 0;
}

int trace_write_open(struct trace_writer *w, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!f)
        return -1;
    if (trace_write_stream(w, f) < 0) {
        int e = errno;
        if (f != stdout)
            fclose(f);
        errno = e;
        return -1;
    }
    w->own = f != stdout;
    return 0;
}

int trace_write_page(struct trace_writer *w, uint64_t page)
{
    int64_t delta = (int64_t)(page - w->prev);
    uint64_t z = ((uint64_t)delta << 1) ^ (uint64_t)(delta >> 63);
    unsigned char buf[10];
    size_t n = 0;
    do {
        buf[n] = z & 0x7f;
        z >>= 7;
        if (z)
            buf[n] |= 0x80;
        n++;
    } while (z);
    w->prev = page;
    w->count++;
    return fwrite(buf, 1, n, w->f) == n ? 0 : -1;
}

int trace_write_close(struct trace_writer *w)
{
    int rc = fflush(w->f) || ferror(w->f) ? -1 : 0;
    int e = errno;
    if (w->own && fclose(w->f) && !rc) {
        rc = -1;
        e = errno;
    }
    w->f = NULL;
    errno = e;
    return rc;
}

int trace_write_file(const struct trace *t, const char *path)
{
    struct trace_writer w;
    if (trace_write_open(&w, path) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < t->n && !rc; i++)
        rc = trace_write_page(&w, t->page[i]);
    int e = errno;
    if (trace_write_close(&w) < 0)
        return -1;
    errno = e;
    return rc;
}

int trace_read_bin(struct trace *t, FILE *f, const char *name, char *err, size_t errlen)
{
    char magic[TRACE_BIN_MAGIC_LEN];
    if (fread(magic, 1, sizeof magic, f) != sizeof magic ||
        memcmp(magic, TRACE_BIN_MAGIC, sizeof magic)) {
        snprintf(err, errlen, "%s: not a binary trace (bad magic)", name);
        return -1;
    }
    uint64_t prev = 0, record = 0;
    for (;;) {
        uint64_t z = 0;
        int shift = 0, c;
        while ((c = getc_unlocked(f)) != EOF) {
            if (shift > 63 || (shift == 63 && (c & 0x7e))) {
                snprintf(err, errlen, "%s: record %llu: varint too long", name,
                         (unsigned long long)record + 1);
                return -1;
            }
            z |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
        if (c == EOF) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: read error: %s", name, strerror(errno));
                return -1;
            }
            if (shift) {
                snprintf(err, errlen, "%s: record %llu: truncated", name,
                         (unsigned long long)record + 1);
                return -1;
            }
            return 0;
        }
        int64_t delta = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
        prev += (uint64_t)delta;
        record++;
        if (trace_push(t, prev) < 0) {
            snprintf(err, errlen, "%s: record %llu: out of memory", name,
                     (unsigned long long)record);
            return -1;
        }
    }
}
