/*
 * vmem.h -- libvmem's native API: configuration, page-granular address-space
 * operations, and statistics.
 *
 * Conventions shared by every function here:
 *  - a function returns 0 on success or a positive errno value on failure,
 *    and changes nothing when it fails;
 *  - protections are the Win32 PAGE_* values (the VMEM_PAGE_* names below
 *    have the same values as memoryapi.h's);
 *  - addresses and sizes are page-aligned (4096) unless a comment says
 *    otherwise; vmem_reserve's base is aligned to VMEM_GRANULARITY.
 *
 * errno values and the Win32 error each maps to (see README.md):
 *   EINVAL  ERROR_INVALID_PARAMETER (87)   bad flag, protection or size
 *   EFAULT  ERROR_INVALID_ADDRESS (487)    range not in one reservation, or
 *                                          pages in the wrong state
 *   ENOMEM  ERROR_NOT_ENOUGH_MEMORY (8)    no address space or bookkeeping
 *   EACCES  ERROR_NOACCESS (998)           PAGE_NOACCESS pages cannot be locked
 *   ENOLCK  ERROR_NOT_LOCKED (158)         unlocking pages that are not locked
 *   EDQUOT  ERROR_WORKING_SET_QUOTA (1453) the kernel refused to lock pages
 *   ENOTSUP ERROR_NOT_SUPPORTED (50)       not possible in this mode or kernel
 *   ENOSPC  ERROR_COMMITMENT_LIMIT (1455)  commit beyond the cap + page file
 */
#ifndef LIBVMEM_VMEM_H
#define LIBVMEM_VMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMEM_PAGE_SIZE   4096u
#define VMEM_GRANULARITY 65536u

/* Protections: identical to Win32's PAGE_* values. */
#define VMEM_PAGE_NOACCESS          0x01u
#define VMEM_PAGE_READONLY          0x02u
#define VMEM_PAGE_READWRITE         0x04u
#define VMEM_PAGE_EXECUTE           0x10u
#define VMEM_PAGE_EXECUTE_READ      0x20u
#define VMEM_PAGE_EXECUTE_READWRITE 0x40u
#define VMEM_PAGE_GUARD             0x100u
#define VMEM_PAGE_NOCACHE           0x200u
#define VMEM_PAGE_WRITECOMBINE      0x400u

/* ---- configuration ----------------------------------------------------- */

/* Where a fault on managed memory is resolved. */
enum vmem_fault_mode {
    /* A dedicated fault-handling thread reads userfaultfd events.  Faults
     * taken inside system calls (read(2) into managed memory) work. */
    VMEM_FAULT_THREAD = 0,
    /* The faulting thread resolves its own fault from a SIGBUS handler
     * (UFFD_FEATURE_SIGBUS): no thread wake-up, several times faster, but a
     * system call that touches a page not yet populated fails with EFAULT. */
    VMEM_FAULT_SIGNAL = 1,
    /* No userfaultfd: the kernel serves demand-zero faults.  Used where
     * userfaultfd is unavailable and in a forked child; write watch is
     * not supported in this mode. */
    VMEM_FAULT_KERNEL = 2,
};

/* How trimmed pages leave the address space (VMEM_TRIM). */
enum vmem_trim_method {
    VMEM_TRIM_AUTO = 0, /* move where the kernel has UFFDIO_MOVE, else copy */
    VMEM_TRIM_MOVE = 1, /* UFFDIO_MOVE into the standby frame (6.8+) */
    VMEM_TRIM_COPY = 2, /* write-protect, copy to the frame, MADV_DONTNEED */
};

/* How written pages are told from clean ones (VMEM_DIRTY_TRACKING). */
enum vmem_dirty_tracking {
    VMEM_DIRTY_AUTO = 0, /* write-protect where the kernel has it, else off */
    VMEM_DIRTY_WP = 1,   /* userfaultfd write-protect faults (5.7+) */
    VMEM_DIRTY_OFF = 2,  /* none: every trimmed page is written out again */
};

/* Where pages a hard fault reads beyond the faulting one go
 * (VMEM_PREFETCH_INSTALL). */
enum vmem_prefetch_install {
    VMEM_PREFETCH_MAP = 0,     /* installed with the faulting page: no more
                                  faults, but their use is invisible */
    VMEM_PREFETCH_STANDBY = 1, /* kept on the standby list: a touch is a
                                  transition fault, so use is counted */
};

/* The compressed store between the standby list and the page file
 * (VMEM_COMPRESS). */
enum vmem_compress {
    VMEM_COMPRESS_OFF = 0,  /* trimmed pages go to the page file */
    VMEM_COMPRESS_LZ4 = 1,  /* kept compressed in RAM with lz4 first */
    VMEM_COMPRESS_ZSTD = 2, /* ...with zstd at level 1 (smaller, slower) */
};

/* Binary compatibility of struct vmem_config and struct vmem_stats: their
 * fields are only ever appended, and every function that takes one is
 * given its size -- the macros below pass sizeof as the caller's vmem.h
 * declared it (like zlib's deflateInit).  A program built against an older
 * vmem.h keeps working: a smaller config leaves the newer options at their
 * defaults, and no byte past a smaller struct is written.  A size that is
 * no layout of the struct, or larger than the library's, is EINVAL.  The
 * sizes taken: any sizeof(struct vmem_stats) that is a whole number of its
 * counters; any sizeof(struct vmem_config) of the struct cut after one of
 * its fields (a field appended later must start at or after the sizeof of
 * the struct before it, so that each size names one layout). */

struct vmem_config {
    enum vmem_fault_mode fault_mode; /* VMEM_FAULT_MODE, default thread */
    unsigned zero_cluster;  /* VMEM_ZERO_CLUSTER: pages resolved per
                               demand-zero fault, 1..512, default 16 */
    unsigned spin_us;       /* VMEM_FAULT_SPIN_US: a fault thread polls this
                               long for the next fault before sleeping;
                               default 0 */
    unsigned fault_threads; /* VMEM_FAULT_THREADS: 0 ("cpu", the default) =
                               one fault thread pinned to each CPU the
                               process may use; N = N unpinned threads */
    int report;             /* VMEM_REPORT: print the counters at exit */
    uint64_t max_resident;  /* VMEM_MAX_RESIDENT: the working-set cap in
                               bytes (working set + standby); 0 = no cap,
                               no paging */
    char pagefile[256];     /* VMEM_PAGEFILE: directory or file for the page
                               file; "" = $TMPDIR or /var/tmp */
    uint64_t pagefile_max;  /* VMEM_PAGEFILE_MAX: bytes; 0 = the free space
                               of its file system, at most 64 GiB */
    unsigned cluster;       /* VMEM_CLUSTER: pages read per hard fault,
                               0..512, default 8 (0 or 1: no clustering) */
    unsigned high_water;    /* VMEM_HIGH_WATER: % of the cap at which
                               trimming starts, 50..100, default 95 */
    char policy[32];        /* VMEM_POLICY: the replacement policy (clock,
                               fifo, lru, ...); "" = clock */
    char prefetch[32];      /* VMEM_PREFETCH: NAME or NAME:N (adaptive,
                               cluster, none); "" = adaptive with N =
                               VMEM_CLUSTER */
    int standby;            /* VMEM_STANDBY: 1 (on, default): trimmed pages
                               wait on the standby list; 0 (off): they go
                               to the page file as soon as written */
    enum vmem_trim_method trim;           /* VMEM_TRIM: auto, move or copy */
    enum vmem_dirty_tracking dirty_tracking; /* VMEM_DIRTY_TRACKING: auto,
                                                wp or off */
    unsigned io_spin_us;    /* VMEM_IO_SPIN_US: a page-in polls for its
                               read's completion this long before sleeping,
                               0..10000, default 0 */
    enum vmem_prefetch_install prefetch_install; /* VMEM_PREFETCH_INSTALL:
                                                    map or standby */
    unsigned low_water;     /* VMEM_LOW_WATER: % of the cap it trims down to,
                               10..high_water, default 88 */
    char report_file[256];  /* VMEM_REPORT=PATH: the counters are appended
                               to this file at exit ("" = stderr) */
    int pagefile_checksum;  /* VMEM_PAGEFILE_CHECKSUM: 1 (on, default): a
                               crc32c per page-file slot, checked on every
                               read; 0 (off) */
    enum vmem_compress compress; /* VMEM_COMPRESS: off, lz4 or zstd */
    unsigned compress_threshold; /* VMEM_COMPRESS_THRESHOLD: a page whose
                               compressed size exceeds this % of a page goes
                               to the page file instead, 10..95, default 73 */
    unsigned compress_max_pct; /* VMEM_COMPRESS_MAX=N%: the store's RAM at
                               most N % of the cap (1..90, default 25); 0 when
                               compress_max is set */
    uint64_t compress_max;  /* VMEM_COMPRESS_MAX=SIZE: the store's RAM at
                               most SIZE bytes (counted in the cap) */
    unsigned readahead;     /* VMEM_READAHEAD: the most pages read ahead of
                               a sequential stream, in flight or installed
                               and not yet reached, 0..16384 (0: off);
                               default 1024 (thread mode only) */
};

/* Fills *cfg with the built-in defaults.  EINVAL (nothing written) only
 * for a bad size. */
#define vmem_config_default(cfg) \
    vmem_config_default_sized((cfg), sizeof(struct vmem_config))
int vmem_config_default_sized(struct vmem_config *cfg, size_t size);

/* Fills *cfg from the defaults and the VMEM_* environment variables.  On a
 * malformed value returns EINVAL and writes a one-line message naming the
 * variable into err (if errlen > 0). */
#define vmem_config_from_env(cfg, err, errlen) \
    vmem_config_from_env_sized((cfg), sizeof(struct vmem_config), (err), (errlen))
int vmem_config_from_env_sized(struct vmem_config *cfg, size_t size, char *err,
                               size_t errlen);

/* Starts the runtime with cfg (NULL: from the environment).  Optional: the
 * first API call starts it from the environment.  EALREADY if running. */
#define vmem_init(cfg) vmem_init_sized((cfg), sizeof(struct vmem_config))
int vmem_init_sized(const struct vmem_config *cfg, size_t size);

/* Releases every reservation (each is unmapped) and stops the runtime's
 * threads; vmem_init or any call starts it again.  Other threads may still
 * be touching managed memory meanwhile, in every fault mode: an access
 * whose fault was being served completes, with the right data, and any
 * other access -- during the shutdown or after it -- raises SIGSEGV
 * (SEGV_MAPERR), as an access to any unmapped address does: never SIGBUS
 * unless the page had an I/O error, never a hang.  A program's SIGSEGV or
 * SIGBUS handler may leave by siglongjmp: libvmem holds none of its locks
 * while that handler runs.  Other calls of libvmem must not run during the
 * shutdown itself (they may start the runtime again afterwards). */
void vmem_shutdown(void);

/* The configuration in force (the runtime is started if it is not). */
#define vmem_get_config(cfg) vmem_get_config_sized((cfg), sizeof(struct vmem_config))
int vmem_get_config_sized(struct vmem_config *cfg, size_t size);

/* ---- option values ----------------------------------------------------- */

/* The one grammar of every number and size libvmem's options take (the
 * VMEM_* variables, the vmem tool's options; docs/options.md): decimal
 * digits only -- no sign, space or 0x prefix.  Pure functions, safe from
 * any thread; they do not start the runtime.  Return 0, EINVAL (NULL,
 * empty, not a number, trailing junk) or ERANGE (beyond 2^64-1, or outside
 * [min, max]); *out is written only on success. */
int vmem_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A size in bytes: a number with an optional unit B, K, M, G or T (any
 * case, powers of 1024; K to T may be followed by B or iB): 64M = 64MB =
 * 64MiB = 67108864, 4096 = 4096B.  A decimal fraction is allowed when it
 * makes whole bytes: 1.5G, 0.5K; "1.1K" (1126.4 bytes) is EINVAL.  There
 * are no decimal (SI) units. */
int vmem_parse_size(const char *s, uint64_t *out);

/* ---- statistics (names follow Windows' counters) ------------------------ */
struct vmem_stats {
    uint64_t demand_zero_faults;  /* faults served with zero-filled pages */
    uint64_t demand_zero_pages;   /* pages installed by them (clustering) */
    uint64_t transition_faults;   /* soft faults: standby page re-installed */
    uint64_t hard_faults;         /* faults that read the page file */
    uint64_t pages_read;          /* pages read from the page file */
    uint64_t pages_written;       /* pages written to the page file */
    uint64_t read_ios;            /* page-file read operations */
    uint64_t write_ios;           /* page-file write operations */
    uint64_t write_watch_faults;  /* first writes recorded for GetWriteWatch */
    uint64_t guard_faults;        /* PAGE_GUARD pages touched */
    uint64_t working_set;         /* resident pages */
    uint64_t peak_working_set;
    uint64_t commit_charge;       /* committed pages */
    uint64_t peak_commit_charge;
    uint64_t reserved_pages;      /* pages in reservations */
    uint64_t regions;             /* reservations */
    uint64_t prefetched_pages;    /* pages read by hard faults beyond the
                                     faulting one (clustering), and read
                                     ahead; pages brought in from the
                                     compressed store with a store fault's */
    uint64_t prefetch_used;       /* prefetched pages touched before being
                                     trimmed (VMEM_PREFETCH_INSTALL=standby) */
    uint64_t prefetch_unused;     /* ...and trimmed untouched */
    uint64_t trimmed_pages;       /* pages trimmed from the working set */
    uint64_t trimmed_by_move;     /* of those, moved out with UFFDIO_MOVE */
    uint64_t standby_pages;       /* trimmed pages kept in memory */
    uint64_t pagefile_pages;      /* page-file slots in use */
    uint64_t peak_pagefile_pages;
    uint64_t cap_pages;           /* the working-set cap, 0 = none */
    uint64_t checksum_errors;     /* page-file reads with a page whose
                                     crc32c did not match */
    uint64_t write_errors;        /* pages whose page-file write failed (they
                                     stayed in memory) */
    uint64_t inpage_errors;       /* pages that could not be read back from
                                     the page file (accesses raise SIGBUS
                                     with BUS_MCEERR_AR until decommitted) */
    /* the compressed store (VMEM_COMPRESS) */
    uint64_t compressed_pages;    /* pages in the store now */
    uint64_t compressed_bytes;    /* their compressed bytes */
    uint64_t compress_store_bytes; /* RAM the store takes (in the cap) */
    uint64_t compress_stored;     /* pages put in the store */
    uint64_t compress_same_filled; /* of those, one repeated word (no payload) */
    uint64_t compress_rejects;    /* pages that did not compress enough: to
                                     the page file */
    uint64_t compress_hits;       /* faults served from the store (no I/O) */
    uint64_t compress_evicted;    /* pages moved out to the page file to make
                                     room (oldest first) */
    uint64_t compress_ns;         /* time spent compressing */
    uint64_t decompress_ns;       /* time spent decompressing */
    uint64_t cap_overruns;        /* pages a fault installed over the cap
                                     because nothing could leave RAM (every
                                     page locked or pinned, the page file
                                     full or failing) */
    /* the address-space lock (docs/architecture.md, "Locks") */
    uint64_t as_lock_shared;      /* times taken shared (faults, queries) */
    uint64_t as_lock_exclusive;   /* times taken exclusive (changes, trims) */
    uint64_t as_lock_waits;       /* of those, times a thread had to wait */
    uint64_t as_lock_wait_ns;     /* time spent waiting for it */
    uint64_t as_lock_exclusive_ns; /* time it was held exclusive */
    /* the fault threads (VMEM_FAULT_MODE=thread) */
    uint64_t fault_thread_wakeups; /* times one woke for the userfaultfd */
    uint64_t fault_thread_empty_wakeups; /* of those, wake-ups that found no
                                     event left to read (another took it) */
    uint64_t fault_thread_events; /* fault events read */
    uint64_t view_prefetched_pages; /* pages of page-file section views read
                                     from their slot file and mapped by a
                                     view fault beyond the faulting page
                                     (clustering) */
    uint64_t view_slot_writes;    /* pages of those views written to their
                                     slot file as they left RAM */
    /* the compressed store's adaptive share of the cap (docs/options.md,
     * "The store's share"): what the store may hold now, as the rule last
     * set it, 0 .. VMEM_COMPRESS_MAX; 0 with the store off */
    uint64_t compress_share_bytes; /* RAM it may take: payload and metadata */
    uint64_t compress_share_pages; /* the same in pages of the cap */
    uint64_t compress_share_shrinks; /* times the rule halved it or set it to 0 */
    uint64_t compress_share_grows;   /* times it doubled it (or brought it back
                                        from 0 to a quarter of the maximum) */
};

/* Fills *st (EINVAL for a NULL st or a bad size; see the compatibility
 * note above vmem_config). */
#define vmem_get_stats(st) vmem_get_stats_sized((st), sizeof(struct vmem_stats))
int vmem_get_stats_sized(struct vmem_stats *st, size_t size);

/* Sets the working-set cap in bytes (working set + standby pages), starting
 * paging if it is not running: SetProcessWorkingSetSize. */
int vmem_set_max_resident(uint64_t bytes);

/* Prints the counters, one per line, to fd. */
void vmem_print_stats(int fd);

/* ---- address-space operations ------------------------------------------ */

#define VMEM_RESERVE_TOP_DOWN    0x1u /* highest free address */
#define VMEM_RESERVE_WRITE_WATCH 0x2u /* track writes (vmem_write_watch) */
#define VMEM_RESERVE_FIXED       0x4u /* exactly at addr, or EFAULT */

/* Reserves size bytes (rounded up to pages) of address space at addr
 * (VMEM_GRANULARITY-aligned) or wherever there is room, with
 * `protect` recorded as the allocation protection.  Costs no memory. */
int vmem_reserve(void *addr, size_t size, uint32_t flags, uint32_t protect,
                 void **base);

/* Commits the pages of [addr, addr+size), all within one reservation, with
 * protection `protect`.  Already committed pages keep their contents and
 * take the new protection.  Newly committed pages read as zeros.  A view
 * of a file refuses a commit (EACCES). */
int vmem_commit(void *addr, size_t size, uint32_t protect);

/* Decommits [addr, addr+size): contents are discarded, access faults. */
int vmem_decommit(void *addr, size_t size);

/* Releases the reservation whose base is `base`. */
int vmem_release(void *base);

/* Changes the protection of committed pages; *old gets the first page's. */
int vmem_protect(void *addr, size_t size, uint32_t protect, uint32_t *old);

enum vmem_page_state {
    VMEM_STATE_FREE = 0,      /* no mapping (or the unusable tail of a
                                 reservation's last 64 KiB granule) */
    VMEM_STATE_RESERVED = 1,
    VMEM_STATE_COMMITTED = 2, /* committed, or any mapping not libvmem's */
};

enum vmem_mapping_type {
    VMEM_TYPE_NONE = 0,       /* free */
    VMEM_TYPE_PRIVATE = 1,    /* libvmem reservation, or anonymous memory */
    VMEM_TYPE_MAPPED = 2,     /* a file mapping not executable */
    VMEM_TYPE_IMAGE = 3,      /* an executable file mapping */
};

struct vmem_region_info {
    void *base;               /* addr rounded down to its page */
    size_t size;              /* bytes in the run of like pages from base */
    void *allocation_base;    /* the reservation's or mapping's start; NULL
                                 if free */
    size_t allocation_size;   /* bytes in that reservation or mapping */
    uint32_t allocation_protect;
    enum vmem_page_state state;
    enum vmem_mapping_type type;
    uint32_t protect;         /* 0 for reserved pages, PAGE_NOACCESS if free */
    int managed;              /* 1 if in a libvmem reservation */
};

/* Describes the run of pages from addr's page that share state and
 * protection: within a reservation for managed memory; from
 * /proc/self/maps for any other address. */
int vmem_query(const void *addr, struct vmem_region_info *info);

/* Makes committed pages resident and keeps them (VirtualLock).  A guard
 * page in the range fails it with EAGAIN, its guard lifted: as on Windows,
 * the next call goes on. */
int vmem_lock(void *addr, size_t size);
int vmem_unlock(void *addr, size_t size);

/* MEM_RESET: contents of committed pages are no longer needed; the kernel
 * may drop them lazily.  vmem_reset_undo returns 0 if every byte is intact,
 * EFAULT with some pages zeroed otherwise (and ENOTSUP etc. for misuse). */
int vmem_reset(void *addr, size_t size);
int vmem_reset_undo(void *addr, size_t size);

/* Write watch on VMEM_RESERVE_WRITE_WATCH reservations: stores up to *count
 * addresses of pages written since the last reset into addrs and sets
 * *count; with reset != 0 those pages are re-armed. */
int vmem_write_watch(void *addr, size_t size, int reset, void **addrs,
                     size_t *count);
int vmem_write_watch_reset(void *addr, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* LIBVMEM_VMEM_H */
