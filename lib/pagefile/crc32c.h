/*
 * crc32c.h -- CRC-32C (Castagnoli), the checksum of page-file slots.
 */
#ifndef VMEM_CRC32C_H
#define VMEM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of len bytes at buf (standard: initial and final value
 * inverted; crc32c("123456789") is 0xe3069283).  Uses SSE4.2's crc32
 * instruction when the CPU has it, else a table.  Pure computation:
 * async-signal-safe. */
uint32_t crc32c(const void *buf, size_t len);

/* Prepares the faster path for whole pages (three interleaved streams);
 * call once outside signal handlers (pagefile_open does).  crc32c() gives
 * the same values before and after. */
void crc32c_init(void);

/* The same, always with the table (for tests and measurements). */
uint32_t crc32c_portable(const void *buf, size_t len);

/* 1 if crc32c() uses the CPU's instruction. */
int crc32c_hw(void);

#endif
