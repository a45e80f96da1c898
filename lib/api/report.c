/*
 * report.c -- the report of one or more processes' counters in text, JSON
 * or CSV (vmem_report_write, <vmemstat.h>): what VMEM_REPORT prints at
 * exit and what `vmem run --report` prints for a tree of processes.
 */
#include "core/vmem_internal.h"
#include "os/fd.h"
#include <vmemstat.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Every counter, in vmem_stats' order; a peak sums as the maximum. */
#define F(name, peak) { #name, offsetof(struct vmem_stats, name), peak }
static const struct field {
    const char *name;
    size_t off;
    int peak;
} fields[] = {
    F(demand_zero_faults, 0), F(demand_zero_pages, 0), F(transition_faults, 0),
    F(hard_faults, 0), F(pages_read, 0), F(pages_written, 0), F(read_ios, 0),
    F(write_ios, 0), F(write_watch_faults, 0), F(guard_faults, 0), F(working_set, 0),
    F(peak_working_set, 1), F(commit_charge, 0), F(peak_commit_charge, 1),
    F(reserved_pages, 0), F(regions, 0), F(prefetched_pages, 0), F(prefetch_used, 0),
    F(prefetch_unused, 0), F(trimmed_pages, 0), F(trimmed_by_move, 0), F(standby_pages, 0),
    F(pagefile_pages, 0), F(peak_pagefile_pages, 1), F(cap_pages, 0), F(checksum_errors, 0),
    F(write_errors, 0), F(inpage_errors, 0), F(compressed_pages, 0), F(compressed_bytes, 0),
    F(compress_store_bytes, 0), F(compress_stored, 0), F(compress_same_filled, 0),
    F(compress_rejects, 0), F(compress_hits, 0), F(compress_evicted, 0), F(compress_ns, 0),
    F(decompress_ns, 0), F(cap_overruns, 0), F(as_lock_shared, 0), F(as_lock_exclusive, 0),
    F(as_lock_waits, 0), F(as_lock_wait_ns, 0), F(as_lock_exclusive_ns, 0),
    F(fault_thread_wakeups, 0), F(fault_thread_empty_wakeups, 0), F(fault_thread_events, 0),
    F(view_prefetched_pages, 0), F(view_slot_writes, 0),
    F(compress_share_bytes, 0), F(compress_share_pages, 0), F(compress_share_shrinks, 0),
    F(compress_share_grows, 0),
};
#undef F
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
_Static_assert(NFIELDS * sizeof(uint64_t) == sizeof(struct vmem_stats),
               "every counter of struct vmem_stats is in fields[]");

static uint64_t get(const struct vmem_stats *s, size_t i)
{
    uint64_t v;
    memcpy(&v, (const char *)s + fields[i].off, sizeof(v));
    return v;
}

VMEM_API int vmem_report_format_parse(const char *s, enum vmem_report_format *out)
{
    static const char *const names[] = { "text", "json", "csv" };
    for (unsigned i = 0; s && i < 3; i++) {
        if (!strcmp(s, names[i])) {
            *out = (enum vmem_report_format)i;
            return 0;
        }
    }
    return EINVAL;
}

/* ---- a buffered writer to a descriptor ---------------------------------- */
struct out {
    int fd, err;
    size_t n;
    char buf[4096];
};

static void flush(struct out *o)
{
    if (o->n && !o->err)
        o->err = os_fd_write(o->fd, o->buf, o->n);
    o->n = 0;
}

static void put(struct out *o, const char *s, size_t len)
{
    while (len) {
        if (o->n == sizeof(o->buf))
            flush(o);
        size_t k = sizeof(o->buf) - o->n < len ? sizeof(o->buf) - o->n : len;
        memcpy(o->buf + o->n, s, k);
        o->n += k;
        s += k;
        len -= k;
    }
}

__attribute__((format(printf, 2, 3))) static void say(struct out *o, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* ---- UTF-8 ------------------------------------------------------------------
 * A command line is bytes: any of them may be invalid UTF-8, and the
 * 255-byte limit of the area's copy may cut a character in two. */

/* The length of the well-formed UTF-8 character at s (n >= 1 bytes left),
 * or 0 with *bad the length of its ill-formed start (Unicode's "maximal
 * subpart": each is one U+FFFD, as decoders replace them). */
static size_t utf8_char(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3; /* no overlong form, no surrogate */
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4; /* no overlong form, nothing above U+10FFFF */
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i < len && i < n; i++) {
        if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
            break;
    }
    if (i == len)
        return len;
    *bad = i;
    return 0;
}

/* How many bytes of s, at most max, end on a character's boundary. */
static size_t utf8_fit(const char *s, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), at = 0;
    while (at < n) {
        size_t bad = 0, len = utf8_char(u + at, n - at, &bad);
        if (!len)
            len = bad;
        if (at + len > max)
            break;
        at += len;
    }
    return at;
}

/* ---- how a process ended -------------------------------------------------- */
static const char *end_word(enum vmem_proc_end e)
{
    switch (e) {
    case VMEM_END_EXITED: return "exited";
    case VMEM_END_SIGNALED: return "killed";
    case VMEM_END_EXECED: return "exec";
    case VMEM_END_VANISHED: return "vanished";
    default: return "running";
    }
}

static void end_text(char *buf, size_t len, const struct vmem_proc_report *p)
{
    const char *abbrev = p->end == VMEM_END_SIGNALED ? sigabbrev_np(p->end_code) : NULL;
    switch (p->end) {
    case VMEM_END_EXITED:
        snprintf(buf, len, "exited with status %d", p->end_code);
        break;
    case VMEM_END_SIGNALED:
        snprintf(buf, len, "killed by signal %d%s%s%s", p->end_code, abbrev ? " (SIG" : "",
                 abbrev ? abbrev : "", abbrev ? ")" : "");
        break;
    case VMEM_END_EXECED:
        snprintf(buf, len, "replaced by exec (the new program's counters are its own)");
        break;
    case VMEM_END_VANISHED:
        snprintf(buf, len, "ended without exiting (a signal or _exit; counters as at its end)");
        break;
    default:
        snprintf(buf, len, "running");
        break;
    }
}

/* ---- text ------------------------------------------------------------------ */
static void text_prefetch(struct out *o, const struct vmem_stats *s, unsigned install)
{
    if (install == VMEM_PREFETCH_STANDBY) {
        uint64_t done = s->prefetch_used + s->prefetch_unused;
        uint64_t pending = s->prefetched_pages > done ? s->prefetched_pages - done : 0;
        say(o, "  prefetched pages     %llu read ahead by hard faults onto the standby list: "
               "%llu touched later, %llu dropped untouched, %llu still untouched\n",
            (unsigned long long)s->prefetched_pages, (unsigned long long)s->prefetch_used,
            (unsigned long long)s->prefetch_unused, (unsigned long long)pending);
    } else {
        say(o, "  prefetched pages     %llu read ahead by hard faults, readahead and faults from "
               "the compressed store, installed (readahead's: %llu reached by their stream, "
               "%llu dropped when it broke; a hard or store fault's neighbours are not tracked, "
               "VMEM_PREFETCH_INSTALL=standby tracks a hard fault's)\n",
            (unsigned long long)s->prefetched_pages, (unsigned long long)s->prefetch_used,
            (unsigned long long)s->prefetch_unused);
    }
}

static void text_block(struct out *o, const char *head, const struct vmem_stats *s,
                       unsigned install)
{
#define U(x) (unsigned long long)(x)
    say(o, "%s (pages of 4 KiB)\n", head);
    say(o, "  demand-zero faults   %llu (%llu pages installed zero-filled)\n",
        U(s->demand_zero_faults), U(s->demand_zero_pages));
    say(o, "  transition faults    %llu (pages taken back from the standby list)\n",
        U(s->transition_faults));
    say(o, "  hard faults          %llu (faults that read the page file)\n", U(s->hard_faults));
    say(o, "  pages read/written   %llu / %llu (%llu / %llu I/Os)\n", U(s->pages_read),
        U(s->pages_written), U(s->read_ios), U(s->write_ios));
    say(o, "  write-watch faults   %llu\n", U(s->write_watch_faults));
    say(o, "  guard-page faults    %llu\n", U(s->guard_faults));
    say(o, "  working set          %llu (peak %llu)\n", U(s->working_set),
        U(s->peak_working_set));
    say(o, "  commit charge        %llu (peak %llu)\n", U(s->commit_charge),
        U(s->peak_commit_charge));
    say(o, "  reserved             %llu in %llu regions\n", U(s->reserved_pages),
        U(s->regions));
    if (install <= VMEM_PREFETCH_STANDBY)
        text_prefetch(o, s, install);
    else /* a summary over processes that may differ */
        say(o, "  prefetched pages     %llu read ahead by hard faults (%llu touched later, "
               "%llu dropped untouched, where tracked)\n", U(s->prefetched_pages),
            U(s->prefetch_used), U(s->prefetch_unused));
    if (s->view_prefetched_pages)
        say(o, "  view prefetched      %llu (section view pages read with a faulting one)\n",
            U(s->view_prefetched_pages));
    if (s->view_slot_writes)
        say(o, "  view slot writes     %llu (section view pages written to their slots)\n",
            U(s->view_slot_writes));
    say(o, "  trimmed pages        %llu (%llu moved out with UFFDIO_MOVE)\n",
        U(s->trimmed_pages), U(s->trimmed_by_move));
    say(o, "  standby              %llu (trimmed pages still in memory)\n",
        U(s->standby_pages));
    say(o, "  page file            %llu (peak %llu)\n", U(s->pagefile_pages),
        U(s->peak_pagefile_pages));
    say(o, "  cap                  %llu%s\n", U(s->cap_pages), s->cap_pages ? "" : " (none)");
    if (s->cap_overruns)
        say(o, "  cap overruns         %llu (pages installed over the cap: nothing could "
               "leave RAM)\n", U(s->cap_overruns));
    say(o, "  checksum errors      %llu\n", U(s->checksum_errors));
    say(o, "  write errors         %llu\n", U(s->write_errors));
    say(o, "  in-page errors       %llu\n", U(s->inpage_errors));
    say(o, "  address-space lock   %llu shared, %llu exclusive (held %.3f ms); %llu waits "
           "(%.3f ms)\n", U(s->as_lock_shared), U(s->as_lock_exclusive),
        (double)s->as_lock_exclusive_ns / 1e6, U(s->as_lock_waits),
        (double)s->as_lock_wait_ns / 1e6);
    if (s->fault_thread_wakeups)
        say(o, "  fault threads        %llu events, %llu wake-ups (%llu found nothing)\n",
            U(s->fault_thread_events), U(s->fault_thread_wakeups),
            U(s->fault_thread_empty_wakeups));
    if (s->compress_stored || s->compressed_pages) {
        /* ratio: the pages' bytes over the compressed bytes they take */
        double ratio = s->compressed_bytes
                           ? (double)s->compressed_pages * 4096 / (double)s->compressed_bytes
                           : 0;
        say(o, "  compressed store     %llu pages in %llu KiB of RAM (%llu KiB compressed, "
               "ratio %.2f)\n", U(s->compressed_pages), U(s->compress_store_bytes / 1024),
            U(s->compressed_bytes / 1024), ratio);
        say(o, "  compressed in/out    %llu stored (%llu same-filled), %llu rejected to the "
               "page file, %llu faults served from it, %llu evicted to the page file\n",
            U(s->compress_stored), U(s->compress_same_filled), U(s->compress_rejects),
            U(s->compress_hits), U(s->compress_evicted));
        say(o, "  compress time        %.3f ms compressing, %.3f ms decompressing\n",
            (double)s->compress_ns / 1e6, (double)s->decompress_ns / 1e6);
        say(o, "  store's share        %llu KiB (%llu pages) it may hold now; %llu shrinks, "
               "%llu grows\n", U(s->compress_share_bytes / 1024), U(s->compress_share_pages),
            U(s->compress_share_shrinks), U(s->compress_share_grows));
    }
#undef U
}

/* ---- JSON and CSV -------------------------------------------------------- */
/* s as a JSON string of valid UTF-8: each ill-formed sequence becomes
 * \ufffd; when s may have been cut (it filled its buffer), a character cut
 * at its end is left out. */
static void json_string(struct out *o, const char *s, int cut)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    put(o, "\"", 1);
    for (size_t at = 0; at < n;) {
        unsigned char c = u[at];
        size_t bad = 0, len = utf8_char(u + at, n - at, &bad);
        if (!len) {
            if (cut && at + bad == n && (c & 0xc0) == 0xc0)
                break; /* the start of a character the limit cut */
            put(o, "\\ufffd", 6);
            at += bad;
        } else if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            put(o, e, 2);
            at++;
        } else if (c < 0x20 || c == 0x7f) {
            say(o, "\\u%04x", c);
            at++;
        } else {
            put(o, s + at, len);
            at += len;
        }
    }
    put(o, "\"", 1);
}

static void json_counters(struct out *o, const struct vmem_stats *s)
{
    put(o, "{", 1);
    for (size_t i = 0; i < NFIELDS; i++)
        say(o, "%s\"%s\": %llu", i ? ", " : "", fields[i].name, (unsigned long long)get(s, i));
    put(o, "}", 1);
}

static void csv_string(struct out *o, const char *s)
{
    put(o, "\"", 1);
    for (; *s; s++)
        put(o, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
    put(o, "\"", 1);
}

static void csv_counters(struct out *o, const struct vmem_stats *s)
{
    for (size_t i = 0; i < NFIELDS; i++)
        say(o, ",%llu", (unsigned long long)get(s, i));
    put(o, "\n", 1);
}

static void summarise(const struct vmem_proc_report *p, size_t n, struct vmem_stats *sum)
{
    memset(sum, 0, sizeof(*sum));
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < NFIELDS; i++) {
            uint64_t v = get(&p[k].st, i), *d = (uint64_t *)(void *)((char *)sum + fields[i].off);
            *d = fields[i].peak ? (v > *d ? v : *d) : *d + v;
        }
    }
}

VMEM_API int vmem_report_write(int fd, enum vmem_report_format f,
                               const struct vmem_proc_report *p, size_t n, unsigned flags)
{
    struct out O;
    O.fd = fd;
    O.err = 0;
    O.n = 0;
    struct vmem_stats sum;
    summarise(p, n, &sum);
    char end[128], head[512];
    if (f == VMEM_REPORT_JSON) {
        put(&O, "{\"processes\": [", 15);
        for (size_t k = 0; k < n; k++) {
            say(&O, "%s\n  {\"pid\": %ld, \"command\": ", k ? "," : "", p[k].pid);
            json_string(&O, p[k].cmd, strlen(p[k].cmd) == sizeof(p[k].cmd) - 1);
            say(&O, ", \"end\": \"%s\"", end_word(p[k].end));
            if (p[k].end == VMEM_END_EXITED)
                say(&O, ", \"exit_status\": %d", p[k].end_code);
            else if (p[k].end == VMEM_END_SIGNALED)
                say(&O, ", \"signal\": %d", p[k].end_code);
            say(&O, ", \"prefetch_install\": \"%s\", \"counters\": ",
                p[k].prefetch_install == VMEM_PREFETCH_STANDBY ? "standby" : "map");
            json_counters(&O, &p[k].st);
            put(&O, "}", 1);
        }
        put(&O, "\n]", 2);
        if (flags & VMEM_REPORT_SUMMARY) {
            say(&O, ",\n\"summary\": {\"processes\": %zu, \"counters\": ", n);
            json_counters(&O, &sum);
            put(&O, "}", 1);
        }
        put(&O, "}\n", 2);
    } else if (f == VMEM_REPORT_CSV) {
        if (!(flags & VMEM_REPORT_NO_HEADER)) {
            put(&O, "pid,command,end,code", 20);
            for (size_t i = 0; i < NFIELDS; i++)
                say(&O, ",%s", fields[i].name);
            put(&O, "\n", 1);
        }
        for (size_t k = 0; k < n; k++) {
            say(&O, "%ld,", p[k].pid);
            csv_string(&O, p[k].cmd);
            say(&O, ",%s,", end_word(p[k].end));
            if (p[k].end == VMEM_END_EXITED || p[k].end == VMEM_END_SIGNALED)
                say(&O, "%d", p[k].end_code);
            csv_counters(&O, &p[k].st);
        }
        if (flags & VMEM_REPORT_SUMMARY) {
            say(&O, ",\"summary of %zu processes\",summary,", n);
            csv_counters(&O, &sum);
        }
    } else {
        for (size_t k = 0; k < n; k++) {
            end_text(end, sizeof(end), &p[k]);
            snprintf(head, sizeof(head), "libvmem counters of pid %ld (%.*s), %s", p[k].pid,
                     (int)utf8_fit(p[k].cmd, 200), p[k].cmd, end);
            text_block(&O, head, &p[k].st, p[k].prefetch_install);
        }
        if (flags & VMEM_REPORT_SUMMARY) {
            snprintf(head, sizeof(head), "libvmem counters summed over %zu process%s "
                     "(each peak: the largest of one process)", n, n == 1 ? "" : "es");
            text_block(&O, head, &sum, ~0u);
        }
    }
    flush(&O);
    return O.err;
}
