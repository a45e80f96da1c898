/*
 * config.h -- VMEM_* environment options, parsed in one place (config.c).
 */
#ifndef VMEM_CONFIG_H
#define VMEM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Strict parsers used for every option: the whole string must be a number
 * in [min, max]; sizes accept a K, M or G suffix (powers of 1024).  Return 0
 * or EINVAL/ERANGE. */
int config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int config_parse_size(const char *s, uint64_t *out);

#endif
