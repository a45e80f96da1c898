/*
 * config.c -- struct vmem_config: its defaults, every VMEM_* environment
 * variable (read here and nowhere else; their values' grammar: parse.c),
 * and the sizes a caller's struct may have (vmem.h: fields are only
 * appended).  A malformed value is an error with a message naming the
 * variable, never a silent default.
 */
#include "api/config.h"
#include "pagefile/pagefile.h"
#include "policy/policy.h"
#include "paging/cap.h"
#include "paging/prefetch.h"
#include "core/vmem_internal.h"
#include <vmem.h>
#include <vmemstat.h>

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ZERO_CLUSTER 16u
#define MAX_ZERO_CLUSTER     512u
#define DEFAULT_SPIN_US      0u
#define MAX_SPIN_US          1000000u
#define DEFAULT_CLUSTER      8u
#define DEFAULT_IO_SPIN_US   0u
#define VMEM_COMPRESS_DEFAULT VMEM_COMPRESS_OFF
#define DEFAULT_COMPRESS_THRESHOLD 73u
#define DEFAULT_COMPRESS_MAX_PCT   25u
#define DEFAULT_READAHEAD          1024u
/* The smallest page file pagefile_open accepts (pagefile/file.c). */
#define PAGEFILE_MIN_PAGES 16u

/* Every field of struct vmem_config, in order: the struct cut after any of
 * them is a layout a caller's vmem.h may have declared. */
#define FIELD(f, t) { offsetof(struct vmem_config, f), sizeof(t), alignof(t) }
static const struct {
    size_t off, size, align;
} fields[] = {
    FIELD(fault_mode, enum vmem_fault_mode), FIELD(zero_cluster, unsigned),
    FIELD(spin_us, unsigned), FIELD(fault_threads, unsigned), FIELD(report, int),
    FIELD(max_resident, uint64_t), FIELD(pagefile, char[256]),
    FIELD(pagefile_max, uint64_t), FIELD(cluster, unsigned), FIELD(high_water, unsigned),
    FIELD(policy, char[32]), FIELD(prefetch, char[32]), FIELD(standby, int),
    FIELD(trim, enum vmem_trim_method), FIELD(dirty_tracking, enum vmem_dirty_tracking),
    FIELD(io_spin_us, unsigned), FIELD(prefetch_install, enum vmem_prefetch_install),
    FIELD(low_water, unsigned), FIELD(report_file, char[256]),
    FIELD(pagefile_checksum, int), FIELD(compress, enum vmem_compress),
    FIELD(compress_threshold, unsigned), FIELD(compress_max_pct, unsigned),
    FIELD(compress_max, uint64_t), FIELD(readahead, unsigned),
};
#undef FIELD
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
/* A field appended to vmem.h is appended to the table too. */
_Static_assert(sizeof(struct vmem_config) ==
               (offsetof(struct vmem_config, readahead) + sizeof(unsigned) +
                alignof(struct vmem_config) - 1) / alignof(struct vmem_config) *
               alignof(struct vmem_config),
               "fields[] ends with the last field of struct vmem_config");

int config_size_ok(size_t size)
{
    size_t align = 1;
    for (size_t i = 0; i < NFIELDS; i++) {
        if (fields[i].align > align)
            align = fields[i].align;
        /* sizeof the struct cut after field i: its end, padded */
        size_t cut = round_up(fields[i].off + fields[i].size, align);
        size_t next = i + 1 < NFIELDS ? fields[i + 1].off : sizeof(struct vmem_config);
        /* a cut whose padding would hold the next field is no layout: its
         * size is that of the cut after the next field */
        if (size == cut && cut <= next)
            return 1;
    }
    return 0;
}

static void defaults(struct vmem_config *cfg);

int config_import(struct vmem_config *full, const struct vmem_config *cfg, size_t size)
{
    if (!config_size_ok(size))
        return EINVAL;
    defaults(full);
    memcpy(full, cfg, size);
    /* low_water not in the caller's struct: its default may not pass the
     * caller's high-water mark (the same rule as VMEM_HIGH_WATER alone) */
    if (size <= offsetof(struct vmem_config, low_water) && full->low_water > full->high_water)
        full->low_water = full->high_water;
    return 0;
}

int config_export(struct vmem_config *cfg, size_t size, const struct vmem_config *full)
{
    if (!cfg || !config_size_ok(size))
        return EINVAL;
    memcpy(cfg, full, size);
    return 0;
}

static void defaults(struct vmem_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->fault_mode = VMEM_FAULT_THREAD;
    cfg->zero_cluster = DEFAULT_ZERO_CLUSTER;
    cfg->spin_us = DEFAULT_SPIN_US;
    cfg->report = 0;
    cfg->cluster = DEFAULT_CLUSTER;
    cfg->io_spin_us = DEFAULT_IO_SPIN_US;
    cfg->standby = 1;
    cfg->high_water = 95;
    cfg->low_water = 88;
    cfg->pagefile_checksum = 1;
    cfg->compress = VMEM_COMPRESS_DEFAULT;
    cfg->compress_threshold = DEFAULT_COMPRESS_THRESHOLD;
    cfg->compress_max_pct = DEFAULT_COMPRESS_MAX_PCT;
    cfg->readahead = DEFAULT_READAHEAD; /* docs/paging.md, "Readahead" */
}

VMEM_API int vmem_config_default_sized(struct vmem_config *cfg, size_t size)
{
    struct vmem_config full;
    defaults(&full);
    return config_export(cfg, size, &full);
}

static int bad(char *err, size_t errlen, const char *var, const char *val,
               const char *expect)
{
    if (errlen)
        snprintf(err, errlen, "%s=\"%s\" is not valid: expected %s", var, val, expect);
    return EINVAL;
}

static int env_uint(const char *var, uint64_t min, uint64_t max, const char *expect,
                    unsigned *dst, char *err, size_t errlen)
{
    const char *v = getenv(var);
    uint64_t x;
    if (!v)
        return 0;
    if (vmem_parse_uint(v, min, max, &x))
        return bad(err, errlen, var, v, expect);
    *dst = (unsigned)x;
    return 0;
}

/* A size variable.  zero: why 0 is refused (NULL: 0 is a value).  0 is
 * refused where it could only be read as a mistake: VMEM_MAX_RESIDENT=0
 * once meant "no cap" silently, which leaving the variable out says. */
static int env_size(const char *var, const char *zero, uint64_t *dst, char *err,
                    size_t errlen)
{
    const char *v = getenv(var);
    uint64_t x;
    if (!v)
        return 0;
    if (vmem_parse_size(v, &x))
        return bad(err, errlen, var, v, "a size such as 4096, 64K, 1.5M, 256MiB or 2G");
    if (x == 0 && zero) {
        if (errlen)
            snprintf(err, errlen, "%s=\"%s\" is not valid: %s", var, v, zero);
        return EINVAL;
    }
    *dst = x;
    return 0;
}

/* A variable whose value is one of names[] (NULL-terminated); *dst gets the
 * index. */
static int env_choice(const char *var, const char *const *names, const char *expect,
                      unsigned *dst, char *err, size_t errlen)
{
    const char *v = getenv(var);
    if (!v)
        return 0;
    for (unsigned i = 0; names[i]; i++) {
        if (!strcmp(v, names[i])) {
            *dst = i;
            return 0;
        }
    }
    return bad(err, errlen, var, v, expect);
}

/* Fills the whole *cfg; on an error it is partly filled. */
static int from_env(struct vmem_config *cfg, char *err, size_t errlen)
{
    defaults(cfg);
    const char *v = getenv("VMEM_FAULT_MODE");
    if (v) {
        if (!strcmp(v, "thread"))
            cfg->fault_mode = VMEM_FAULT_THREAD;
        else if (!strcmp(v, "signal"))
            cfg->fault_mode = VMEM_FAULT_SIGNAL;
        else if (!strcmp(v, "kernel"))
            cfg->fault_mode = VMEM_FAULT_KERNEL;
        else
            return bad(err, errlen, "VMEM_FAULT_MODE", v, "thread, signal or kernel");
    }
    int rc;
    if ((rc = env_uint("VMEM_ZERO_CLUSTER", 1, MAX_ZERO_CLUSTER,
                       "a page count from 1 to 512", &cfg->zero_cluster, err, errlen)))
        return rc;
    if ((rc = env_uint("VMEM_FAULT_SPIN_US", 0, MAX_SPIN_US,
                       "microseconds from 0 to 1000000", &cfg->spin_us, err, errlen)))
        return rc;
    v = getenv("VMEM_FAULT_THREADS");
    if (v && strcmp(v, "cpu") != 0 &&
        (rc = env_uint("VMEM_FAULT_THREADS", 1, 64, "\"cpu\" or a thread count from 1 to 64",
                       &cfg->fault_threads, err, errlen)))
        return rc;
    unsigned rep = 0;
    v = getenv("VMEM_REPORT");
    if (v && strchr(v, '/')) {
        /* a path: the report goes to that file */
        if (strlen(v) >= sizeof(cfg->report_file))
            return bad(err, errlen, "VMEM_REPORT", v, "0, 1 or a file path shorter than "
                       "256 bytes");
        strcpy(cfg->report_file, v);
        rep = 1;
    } else if ((rc = env_uint("VMEM_REPORT", 0, 1, "0, 1 or a file path (with a '/')", &rep,
                              err, errlen))) {
        return rc;
    }
    cfg->report = (int)rep;
    if ((rc = env_uint("VMEM_IO_SPIN_US", 0, 10000, "microseconds from 0 to 10000",
                       &cfg->io_spin_us, err, errlen)))
        return rc;
    const char *ra = getenv("VMEM_READAHEAD");
    if (ra && (!strcmp(ra, "off") || !strcmp(ra, "on")))
        cfg->readahead = !strcmp(ra, "on") ? DEFAULT_READAHEAD : 0;
    else if ((rc = env_uint("VMEM_READAHEAD", 0, 16384, "on, off or a page count from 0 to 16384",
                            &cfg->readahead, err, errlen)))
        return rc;
    if ((rc = env_uint("VMEM_CLUSTER", 0, 512, "a page count from 0 to 512", &cfg->cluster,
                       err, errlen)))
        return rc;
    if ((rc = env_size("VMEM_MAX_RESIDENT", "0 is not a cap; leave the variable out for "
                       "no cap", &cfg->max_resident, err, errlen)) ||
        (rc = env_size("VMEM_PAGEFILE_MAX", "0 bytes is no page file; leave the variable "
                       "out for the default limit", &cfg->pagefile_max, err, errlen)))
        return rc;
    if (cfg->pagefile_max > PAGEFILE_MAX_BYTES)
        return bad(err, errlen, "VMEM_PAGEFILE_MAX", getenv("VMEM_PAGEFILE_MAX"),
                   "a size of at most 8T (page-file slots are numbered in 31 bits)");
    /* The limits paging enforces when it starts, checked here so that a
     * value is refused before anything runs (vmem run checks with this). */
    if (cfg->max_resident && cfg->max_resident / PAGE_SZ < PAGING_MIN_CAP_PAGES)
        return bad(err, errlen, "VMEM_MAX_RESIDENT", getenv("VMEM_MAX_RESIDENT"),
                   "a cap of at least 256K (64 pages)");
    if (cfg->pagefile_max && cfg->pagefile_max / PAGE_SZ < PAGEFILE_MIN_PAGES)
        return bad(err, errlen, "VMEM_PAGEFILE_MAX", getenv("VMEM_PAGEFILE_MAX"),
                   "a size of at least 64K (16 pages)");
    if ((rc = env_uint("VMEM_HIGH_WATER", 50, 100, "a percentage from 50 to 100",
                       &cfg->high_water, err, errlen)) ||
        (rc = env_uint("VMEM_LOW_WATER", 10, 100, "a percentage from 10 to 100",
                       &cfg->low_water, err, errlen)))
        return rc;
    /* VMEM_HIGH_WATER alone below the default low-water mark: trim down to it */
    if (!getenv("VMEM_LOW_WATER") && cfg->low_water > cfg->high_water)
        cfg->low_water = cfg->high_water;
    if (cfg->low_water > cfg->high_water) {
        if (errlen)
            snprintf(err, errlen, "VMEM_LOW_WATER=%u is above VMEM_HIGH_WATER=%u",
                     cfg->low_water, cfg->high_water);
        return EINVAL;
    }
    static const char *const trims[] = { "auto", "move", "copy", NULL };
    static const char *const dirties[] = { "auto", "wp", "off", NULL };
    unsigned trim = VMEM_TRIM_AUTO, dirty = VMEM_DIRTY_AUTO;
    if ((rc = env_choice("VMEM_TRIM", trims, "auto, move or copy", &trim, err, errlen)) ||
        (rc = env_choice("VMEM_DIRTY_TRACKING", dirties, "auto, wp or off", &dirty, err,
                         errlen)))
        return rc;
    static const char *const onoff[] = { "off", "on", NULL };
    unsigned standby = 1;
    if ((rc = env_choice("VMEM_STANDBY", onoff, "on or off", &standby, err, errlen)))
        return rc;
    cfg->standby = (int)standby;
    unsigned checksum = 1;
    if ((rc = env_choice("VMEM_PAGEFILE_CHECKSUM", onoff, "on or off", &checksum, err,
                         errlen)))
        return rc;
    cfg->pagefile_checksum = (int)checksum;
    static const char *const installs[] = { "map", "standby", NULL };
    unsigned install = VMEM_PREFETCH_MAP;
    if ((rc = env_choice("VMEM_PREFETCH_INSTALL", installs, "map or standby", &install, err,
                         errlen)))
        return rc;
    cfg->prefetch_install = (enum vmem_prefetch_install)install;
    cfg->trim = (enum vmem_trim_method)trim;
    cfg->dirty_tracking = (enum vmem_dirty_tracking)dirty;
    v = getenv("VMEM_POLICY");
    if (v) {
        char msg[256];
        if (!*v || strlen(v) >= sizeof(cfg->policy) || !policy_find(v)) {
            int n = snprintf(msg, sizeof(msg), "one of");
            for (size_t i = 0; policy_list[i] && n > 0 && (size_t)n < sizeof(msg); i++)
                n += snprintf(msg + n, sizeof(msg) - (size_t)n, " %s", policy_list[i]->name);
            return bad(err, errlen, "VMEM_POLICY", v, msg);
        }
        strcpy(cfg->policy, v);
    }
    v = getenv("VMEM_PREFETCH");
    if (v) {
        char msg[256];
        if (!*v || strlen(v) >= sizeof(cfg->prefetch) ||
            prefetch_spec_valid(v, msg, sizeof(msg)) != 0) {
            if (!*v || strlen(v) >= sizeof(cfg->prefetch))
                snprintf(msg, sizeof(msg), "a prefetch policy name");
            if (errlen)
                snprintf(err, errlen, "VMEM_PREFETCH=\"%s\" is not valid: %s", v, msg);
            return EINVAL;
        }
        strcpy(cfg->prefetch, v);
    }
    static const char *const codecs[] = { "off", "lz4", "zstd", NULL };
    unsigned codec = cfg->compress;
    if ((rc = env_choice("VMEM_COMPRESS", codecs, "off, lz4 or zstd", &codec, err, errlen)))
        return rc;
    cfg->compress = (enum vmem_compress)codec;
    if ((rc = env_uint("VMEM_COMPRESS_THRESHOLD", 10, 95, "a percentage of a page from 10 to 95",
                       &cfg->compress_threshold, err, errlen)))
        return rc;
    v = getenv("VMEM_COMPRESS_MAX");
    if (v) {
        size_t len = strlen(v);
        char num[32];
        if (len && v[len - 1] == '%' && len < sizeof(num)) {
            memcpy(num, v, len - 1);
            num[len - 1] = 0;
            uint64_t pct;
            if (vmem_parse_uint(num, 1, 90, &pct))
                return bad(err, errlen, "VMEM_COMPRESS_MAX", v,
                           "a size such as 64M, or a percentage of the cap from 1% to 90%");
            cfg->compress_max_pct = (unsigned)pct;
            cfg->compress_max = 0;
        } else {
            if (vmem_parse_size(v, &cfg->compress_max) || cfg->compress_max < 65536 ||
                cfg->compress_max > ((uint64_t)4 << 30) - 4096)
                return bad(err, errlen, "VMEM_COMPRESS_MAX", v,
                           "a size from 64K to 4G-4K (such as 64M), or a percentage of the "
                           "cap from 1% to 90%");
            cfg->compress_max_pct = 0;
        }
    }
    v = getenv("VMEM_PAGEFILE");
    if (v) {
        if (!*v || strlen(v) >= sizeof(cfg->pagefile))
            return bad(err, errlen, "VMEM_PAGEFILE", v, "a directory or file path shorter "
                       "than 256 bytes");
        strcpy(cfg->pagefile, v);
    }
    return 0;
}

VMEM_API int vmem_config_from_env_sized(struct vmem_config *cfg, size_t size, char *err,
                                        size_t errlen)
{
    if (errlen)
        err[0] = 0;
    if (!cfg || !config_size_ok(size)) {
        if (errlen)
            snprintf(err, errlen, "a struct vmem_config of %zu bytes is not one this "
                     "libvmem knows", size);
        return EINVAL;
    }
    struct vmem_config full;
    int rc = from_env(&full, err, errlen);
    if (rc)
        return rc;
    return config_export(cfg, size, &full);
}

#define DEFAULT_PUBLISH_DIR "/dev/shm"

VMEM_API const char *vmem_statarea_dir(void)
{
    const char *v = getenv("VMEM_PUBLISH_DIR");
    return v && *v ? v : DEFAULT_PUBLISH_DIR;
}

int config_publish_from_env(struct publish_config *pc, char *err, size_t errlen)
{
    memset(pc, 0, sizeof(*pc));
    static const char *const modes[] = { "off", "on", "public", "0", "1", NULL };
    unsigned mode = 1;
    int rc;
    if ((rc = env_choice("VMEM_PUBLISH", modes, "on, off, public, 1 or 0", &mode, err, errlen)))
        return rc;
    pc->mode = mode == 3 ? PUBLISH_OFF : mode == 4 ? PUBLISH_USER : (int)mode;
    pc->asked = getenv("VMEM_PUBLISH") || getenv("VMEM_PUBLISH_DIR");
    const char *dir = vmem_statarea_dir();
    if (strlen(dir) >= sizeof(pc->dir))
        return bad(err, errlen, "VMEM_PUBLISH_DIR", dir, "a directory path shorter than 256 bytes");
    strcpy(pc->dir, dir);
    const char *v = getenv("VMEM_REPORT_FORMAT");
    enum vmem_report_format f = VMEM_REPORT_TEXT;
    if (v && vmem_report_format_parse(v, &f))
        return bad(err, errlen, "VMEM_REPORT_FORMAT", v, "text, json or csv");
    pc->report_format = (int)f;
    uint64_t pid;
    v = getenv("VMEM_RUN_COLLECTOR");
    if (v && vmem_parse_uint(v, 1, 0x7fffffff, &pid))
        return bad(err, errlen, "VMEM_RUN_COLLECTOR", v, "a process id (set by vmem run)");
    pc->collector = v ? (long)pid : 0;
    return 0;
}
