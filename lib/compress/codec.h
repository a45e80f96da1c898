/*
 * codec.h -- one page in, compressed bytes out, and back: lz4 or zstd at a
 * low level, and the test for a page that is one repeated 8-byte word.
 */
#ifndef VMEM_CODEC_H
#define VMEM_CODEC_H

#include <stddef.h>
#include <stdint.h>

enum { CODEC_LZ4 = 1, CODEC_ZSTD = 2 };

#define CODEC_ZSTD_LEVEL 1

/* Prepares the codec's contexts (zstd's come from the library's memory,
 * never malloc: a fault handler decompresses).  Paging start only.  0 or
 * ENOMEM. */
int codec_init(int codec);
void codec_fini(void);

/* 1 if the page (PAGE_SZ bytes) is one 8-byte word repeated; *word gets it. */
int codec_same_filled(const void *page, uint64_t *word);

/* Compresses one page into dst (cap bytes); returns the length, or 0 if it
 * does not fit in cap.  The page writer thread only (one compression
 * context). */
size_t codec_compress(const void *page, void *dst, size_t cap);

/* Decompresses len bytes at src into one page at dst.  Any thread, also in
 * a signal handler: no allocation, no lock waited for long.  0, or EIO when
 * the bytes do not decompress to exactly one page. */
int codec_decompress(const void *src, size_t len, void *dst);

#endif
