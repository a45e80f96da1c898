/*
 * config.h -- struct vmem_config as callers of other vmem.h versions pass
 * it (config.c): a caller's struct may be a prefix of the library's.
 */
#ifndef VMEM_CONFIG_H
#define VMEM_CONFIG_H

#include <stddef.h>

struct vmem_config;

/* 1 if size is the sizeof of struct vmem_config cut after one of its
 * fields (a layout some vmem.h declared), else 0. */
int config_size_ok(size_t size);

/* *full = the defaults, overwritten by the caller's size bytes at cfg.
 * Reads caller memory: call with no lock held.  0 or EINVAL (bad size). */
int config_import(struct vmem_config *full, const struct vmem_config *cfg, size_t size);

/* Copies the first size bytes of *full to the caller's cfg.  Writes caller
 * memory: call with no lock held.  0 or EINVAL (NULL cfg, bad size). */
int config_export(struct vmem_config *cfg, size_t size, const struct vmem_config *full);

/* The options of the published statistics and of the report's format
 * (VMEM_PUBLISH, VMEM_PUBLISH_DIR, VMEM_REPORT_FORMAT, and
 * VMEM_RUN_COLLECTOR, which `vmem run --report` sets): read from the
 * environment whatever vmem_init was given, since they concern the process
 * and its readers, not one configuration. */
enum { PUBLISH_OFF = 0, PUBLISH_USER = 1, PUBLISH_PUBLIC = 2 };
struct publish_config {
    int mode;           /* PUBLISH_*: off, the user's only (0600), everyone (0644) */
    int asked;          /* VMEM_PUBLISH or VMEM_PUBLISH_DIR set: a failure is said */
    char dir[256];      /* the statistics directory */
    long collector;     /* the `vmem run` that collects the area, or 0 */
    int report_format;  /* enum vmem_report_format */
};
int config_publish_from_env(struct publish_config *pc, char *err, size_t errlen);

#endif
