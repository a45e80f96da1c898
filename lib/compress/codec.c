/*
 * codec.c -- the store's compressor: lz4 (LZ4_compress_fast_extState with a
 * state of its own) or zstd at level 1, each with contexts allocated once
 * from the library's memory (os/vm.h), so neither the page writer nor a
 * fault handler ever calls malloc.  zstd's decompression contexts are a
 * small pool claimed with an atomic flag: faults run in several threads at
 * once (fault threads, or any thread in signal mode).
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_initStatic*: contexts in our memory */
#include "compress/codec.h"
#include "os/page.h"
#include "os/vm.h"

#include <errno.h>
#include <lz4.h>
#include <string.h>
#include <zstd.h>

#define DCTX_POOL 8

static int kind;
static void *lz4_state;
static ZSTD_CCtx *cctx;
static ZSTD_DCtx *dctx[DCTX_POOL];
static int dctx_busy[DCTX_POOL]; /* atomic */

static void *mem(size_t len)
{
    void *p = NULL;
    return vm_alloc(len, &p) ? NULL : p;
}

int codec_init(int codec)
{
    kind = codec;
    if (codec == CODEC_LZ4) {
        if (!lz4_state && !(lz4_state = mem((size_t)LZ4_sizeofState())))
            return ENOMEM;
        return 0;
    }
    if (!cctx) {
        ZSTD_compressionParameters cp = ZSTD_getCParams(CODEC_ZSTD_LEVEL, PAGE_SZ, 0);
        size_t n = ZSTD_estimateCCtxSize_usingCParams(cp);
        void *m = mem(n);
        if (!m || !(cctx = ZSTD_initStaticCCtx(m, n)))
            return ENOMEM;
    }
    for (int i = 0; i < DCTX_POOL; i++) {
        if (dctx[i])
            continue;
        size_t n = ZSTD_estimateDCtxSize();
        void *m = mem(n);
        if (!m || !(dctx[i] = ZSTD_initStaticDCtx(m, n)))
            return ENOMEM;
    }
    return 0;
}

void codec_fini(void)
{
    /* the contexts stay for a later start: a few hundred KiB of address
     * space, touched only while in use */
    kind = 0;
}

int codec_same_filled(const void *page, uint64_t *word)
{
    const uint64_t *w = page;
    uint64_t first = w[0], diff = 0;
    for (size_t i = 1; i < PAGE_SZ / 8; i++)
        diff |= w[i] ^ first;
    *word = first;
    return diff == 0;
}

size_t codec_compress(const void *page, void *dst, size_t cap)
{
    if (kind == CODEC_LZ4) {
        int n = LZ4_compress_fast_extState(lz4_state, page, dst, PAGE_SZ, (int)cap, 1);
        return n > 0 ? (size_t)n : 0;
    }
    size_t n = ZSTD_compressCCtx(cctx, dst, cap, page, PAGE_SZ, CODEC_ZSTD_LEVEL);
    return ZSTD_isError(n) ? 0 : n;
}

int codec_decompress(const void *src, size_t len, void *dst)
{
    if (kind == CODEC_LZ4) {
        int n = LZ4_decompress_safe(src, dst, (int)len, PAGE_SZ);
        return n == PAGE_SZ ? 0 : EIO;
    }
    /* a context of the pool: a decompression takes microseconds, so a
     * thread that finds every one taken tries again at once */
    for (unsigned i = 0;; i = (i + 1) % DCTX_POOL) {
        if (__atomic_exchange_n(&dctx_busy[i], 1, __ATOMIC_ACQUIRE))
            continue;
        size_t n = ZSTD_decompressDCtx(dctx[i], dst, PAGE_SZ, src, len);
        __atomic_store_n(&dctx_busy[i], 0, __ATOMIC_RELEASE);
        return !ZSTD_isError(n) && n == PAGE_SZ ? 0 : EIO;
    }
}
