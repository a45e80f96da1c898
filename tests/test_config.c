/*
 * VMEM_* options: parsed strictly, malformed values rejected with a message
 * naming the variable; vmem_init validates and refuses to run twice.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <vmem.h>

Test(config, defaults)
{
    struct vmem_config c;
    vmem_config_default(&c);
    cr_assert_eq(c.fault_mode, VMEM_FAULT_THREAD);
    cr_assert_eq(c.zero_cluster, 16);
    cr_assert_eq(c.report, 0);
    cr_assert_eq(c.pagefile_checksum, 1, "page-file checksums are on by default");
}

Test(config, env_values_are_read)
{
    setenv("VMEM_FAULT_MODE", "signal", 1);
    setenv("VMEM_ZERO_CLUSTER", "64", 1);
    setenv("VMEM_FAULT_SPIN_US", "0", 1);
    setenv("VMEM_REPORT", "1", 1);
    setenv("VMEM_MAX_RESIDENT", "64M", 1);
    setenv("VMEM_PAGEFILE_MAX", "1G", 1);
    setenv("VMEM_CLUSTER", "16", 1);
    setenv("VMEM_HIGH_WATER", "90", 1);
    setenv("VMEM_LOW_WATER", "80", 1);
    setenv("VMEM_PAGEFILE", "/var/tmp", 1);
    setenv("VMEM_TRIM", "copy", 1);
    setenv("VMEM_DIRTY_TRACKING", "off", 1);
    setenv("VMEM_PREFETCH_INSTALL", "standby", 1);
    setenv("VMEM_IO_SPIN_US", "50", 1);
    setenv("VMEM_PAGEFILE_CHECKSUM", "off", 1);
    struct vmem_config c;
    char err[200];
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), 0);
    cr_assert_eq(c.fault_mode, VMEM_FAULT_SIGNAL);
    cr_assert_eq(c.zero_cluster, 64);
    cr_assert_eq(c.spin_us, 0);
    cr_assert_eq(c.report, 1);
    cr_assert_eq(c.max_resident, 64ull << 20);
    cr_assert_eq(c.pagefile_max, 1ull << 30);
    cr_assert_eq(c.cluster, 16);
    cr_assert_eq(c.high_water, 90);
    cr_assert_eq(c.low_water, 80);
    cr_assert_str_eq(c.pagefile, "/var/tmp");
    cr_assert_eq(c.trim, VMEM_TRIM_COPY);
    cr_assert_eq(c.dirty_tracking, VMEM_DIRTY_OFF);
    cr_assert_eq(c.prefetch_install, VMEM_PREFETCH_STANDBY);
    cr_assert_eq(c.io_spin_us, 50);
    cr_assert_eq(c.pagefile_checksum, 0);
}

Test(config, low_water_above_high_water_rejected)
{
    setenv("VMEM_HIGH_WATER", "70", 1);
    setenv("VMEM_LOW_WATER", "80", 1);
    struct vmem_config c;
    char err[200];
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL);
    cr_assert_not_null(strstr(err, "VMEM_LOW_WATER"), "%s", err);
}

static void expect_rejected(const char *var, const char *val)
{
    setenv(var, val, 1);
    struct vmem_config c;
    char err[200];
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL, "%s=%s accepted", var, val);
    cr_assert_not_null(strstr(err, var), "message \"%s\" does not name %s", err, var);
    unsetenv(var);
}

Test(config, report_to_a_file)
{
    setenv("VMEM_REPORT", "/var/tmp/vmem-report.txt", 1);
    struct vmem_config c;
    char err[200];
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), 0, "%s", err);
    unsetenv("VMEM_REPORT");
    cr_assert_eq(c.report, 1);
    cr_assert_str_eq(c.report_file, "/var/tmp/vmem-report.txt");
}

Test(config, malformed_values_rejected)
{
    expect_rejected("VMEM_FAULT_MODE", "fast");
    expect_rejected("VMEM_ZERO_CLUSTER", "0");
    expect_rejected("VMEM_ZERO_CLUSTER", "513");
    expect_rejected("VMEM_ZERO_CLUSTER", "16x");
    expect_rejected("VMEM_ZERO_CLUSTER", "-1");
    expect_rejected("VMEM_ZERO_CLUSTER", "");
    expect_rejected("VMEM_FAULT_SPIN_US", "1e3");
    expect_rejected("VMEM_REPORT", "yes");
    expect_rejected("VMEM_MAX_RESIDENT", "lots");
    expect_rejected("VMEM_MAX_RESIDENT", "12Q");
    expect_rejected("VMEM_PAGEFILE_MAX", "-4M");
    expect_rejected("VMEM_CLUSTER", "513");
    expect_rejected("VMEM_HIGH_WATER", "101");
    expect_rejected("VMEM_LOW_WATER", "5");
    expect_rejected("VMEM_PAGEFILE", "");
    expect_rejected("VMEM_FAULT_THREADS", "many");
    expect_rejected("VMEM_TRIM", "fast");
    expect_rejected("VMEM_DIRTY_TRACKING", "WP");
    expect_rejected("VMEM_PREFETCH_INSTALL", "");
    expect_rejected("VMEM_IO_SPIN_US", "10001");
    expect_rejected("VMEM_PAGEFILE_CHECKSUM", "yes");
}

/* Slots are numbered in 31 bits: a page file above 8 TiB cannot be
 * addressed, and is refused rather than truncated. */
Test(config, pagefile_max_above_slot_range_rejected)
{
    expect_rejected("VMEM_PAGEFILE_MAX", "9T");
    expect_rejected("VMEM_PAGEFILE_MAX", "1048576T");
    setenv("VMEM_PAGEFILE_MAX", "8T", 1);
    struct vmem_config c;
    char err[200];
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.pagefile_max, 8ull << 40);
    unsetenv("VMEM_PAGEFILE_MAX");
    vmem_config_default(&c);
    c.pagefile_max = 16ull << 40;
    cr_assert_eq(vmem_init(&c), EINVAL);
}

Test(config, size_parser_good_values)
{
    uint64_t v;
    cr_assert_eq(vmem_parse_size("0", &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(vmem_parse_size("4096", &v), 0);
    cr_assert_eq(v, 4096);
    cr_assert_eq(vmem_parse_size("64K", &v), 0);
    cr_assert_eq(v, 65536);
    cr_assert_eq(vmem_parse_size("256M", &v), 0);
    cr_assert_eq(v, 256ull << 20);
    cr_assert_eq(vmem_parse_size("2g", &v), 0);
    cr_assert_eq(v, 2ull << 30);
    cr_assert_eq(vmem_parse_size("3T", &v), 0);
    cr_assert_eq(v, 3ull << 40);
    cr_assert_eq(vmem_parse_size("010", &v), 0);
    cr_assert_eq(v, 10, "decimal always, never octal");
    /* B and iB after a unit change nothing: every unit is binary */
    cr_assert_eq(vmem_parse_size("64MB", &v), 0);
    cr_assert_eq(v, 64ull << 20);
    cr_assert_eq(vmem_parse_size("64MiB", &v), 0);
    cr_assert_eq(v, 64ull << 20);
    cr_assert_eq(vmem_parse_size("4kb", &v), 0);
    cr_assert_eq(v, 4096);
    cr_assert_eq(vmem_parse_size("16777215T", &v), 0);
    cr_assert_eq(v, 16777215ull << 40);
    cr_assert_eq(vmem_parse_size("18446744073709551615", &v), 0);
    cr_assert_eq(v, UINT64_MAX);
    /* B alone is the byte */
    cr_assert_eq(vmem_parse_size("4096B", &v), 0);
    cr_assert_eq(v, 4096);
    cr_assert_eq(vmem_parse_size("0b", &v), 0);
    cr_assert_eq(v, 0);
}

/* A fraction is fine where it makes whole bytes. */
Test(config, size_parser_fractions)
{
    uint64_t v;
    cr_assert_eq(vmem_parse_size("1.5G", &v), 0);
    cr_assert_eq(v, 3ull << 29);
    cr_assert_eq(vmem_parse_size("1.5GiB", &v), 0);
    cr_assert_eq(v, 3ull << 29);
    cr_assert_eq(vmem_parse_size("0.5k", &v), 0);
    cr_assert_eq(v, 512);
    cr_assert_eq(vmem_parse_size("0.25MB", &v), 0);
    cr_assert_eq(v, 256ull << 10);
    cr_assert_eq(vmem_parse_size("2.0", &v), 0);
    cr_assert_eq(v, 2);
    cr_assert_eq(vmem_parse_size("2.500M", &v), 0);
    cr_assert_eq(v, 5ull << 19);
    cr_assert_eq(vmem_parse_size("0.0009765625M", &v), 0, "2^-10 M is 1 KiB");
    cr_assert_eq(v, 1024);
    cr_assert_eq(vmem_parse_size("16777215.5T", &v), 0);
    cr_assert_eq(v, UINT64_MAX - (1ull << 39) + 1);
}

/* 0 is refused where it means nothing: a cap of 0 bytes is no cap, a page
 * file of 0 bytes none. */
Test(config, zero_sizes_refused)
{
    struct vmem_config c;
    char err[200];
    setenv("VMEM_MAX_RESIDENT", "0", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL);
    cr_assert(strstr(err, "VMEM_MAX_RESIDENT") && strstr(err, "no cap"), "%s", err);
    setenv("VMEM_MAX_RESIDENT", "0M", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL);
    unsetenv("VMEM_MAX_RESIDENT");
    setenv("VMEM_PAGEFILE_MAX", "0K", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL);
    cr_assert(strstr(err, "VMEM_PAGEFILE_MAX"), "%s", err);
    unsetenv("VMEM_PAGEFILE_MAX");
    /* 0 where it is a documented value */
    setenv("VMEM_CLUSTER", "0", 1);
    setenv("VMEM_FAULT_SPIN_US", "0", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.cluster, 0);
    unsetenv("VMEM_CLUSTER");
    unsetenv("VMEM_FAULT_SPIN_US");
}

Test(config, size_parser_refuses)
{
    uint64_t v = 77;
    const char *junk[] = { "", "M", "12Q", "64 M", " 64M", "64M ", "64MBB", "64Mi", "4096BB",
                           "0x1000", "+5", "-1", "-1M", "1e6", "64MiBx", "B", "iB", "4iB",
                           /* fractions: of a byte, or malformed */
                           "1.5", "1.1K", "0.3M", "1.5B", ".5G", "1.", "1.G", "1..5G",
                           "1.5.5G", "-1.5G", "1,5G", "0.00000000000000000001T" };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        cr_assert_eq(vmem_parse_size(junk[i], &v), EINVAL, "\"%s\" accepted", junk[i]);
    cr_assert_eq(vmem_parse_size(NULL, &v), EINVAL);
    cr_assert_eq(vmem_parse_size("18446744073709551616", &v), ERANGE);
    cr_assert_eq(vmem_parse_size("99999999999999999999", &v), ERANGE);
    cr_assert_eq(vmem_parse_size("16777216T", &v), ERANGE);
    cr_assert_eq(vmem_parse_size("99999999999T", &v), ERANGE);
    cr_assert_eq(vmem_parse_size("18446744073709551615.5K", &v), ERANGE);
    cr_assert_eq(vmem_parse_size("16777216.5T", &v), ERANGE);
    cr_assert_eq(v, 77, "a refused value leaves *out alone");
}

Test(config, number_parser)
{
    uint64_t v = 77;
    cr_assert_eq(vmem_parse_uint("0", 0, 10, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(vmem_parse_uint("512", 1, 512, &v), 0);
    cr_assert_eq(v, 512);
    cr_assert_eq(vmem_parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
    cr_assert_eq(v, UINT64_MAX);
    v = 77;
    cr_assert_eq(vmem_parse_uint("513", 1, 512, &v), ERANGE);
    cr_assert_eq(vmem_parse_uint("0", 1, 512, &v), ERANGE);
    cr_assert_eq(vmem_parse_uint("18446744073709551616", 0, UINT64_MAX, &v), ERANGE);
    const char *junk[] = { "", "-1", "+1", " 1", "1 ", "0x10", "1K", "1.0", "one" };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        cr_assert_eq(vmem_parse_uint(junk[i], 0, UINT64_MAX, &v), EINVAL, "\"%s\" accepted",
                     junk[i]);
    cr_assert_eq(vmem_parse_uint(NULL, 0, 1, &v), EINVAL);
    cr_assert_eq(v, 77, "a refused value leaves *out alone");
}

/* Units in the environment follow the same grammar ("4MB" is 4 MiB). */
Test(config, env_sizes_use_the_one_grammar)
{
    setenv("VMEM_PAGEFILE_MAX", "4MB", 1);
    setenv("VMEM_MAX_RESIDENT", "3MiB", 1);
    struct vmem_config c;
    char err[200];
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.pagefile_max, 4ull << 20);
    cr_assert_eq(c.max_resident, 3ull << 20);
    setenv("VMEM_MAX_RESIDENT", "-1M", 1);
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), EINVAL);
    cr_assert(strstr(err, "VMEM_MAX_RESIDENT"), "%s", err);
}

/* ---- binary compatibility: callers pass the size of their struct ---------- */

/* A struct vmem_config as an older vmem.h declared it: today's, cut after
 * low_water (report_file and pagefile_checksum came later). */
#define OLD_CONFIG_SIZE offsetof(struct vmem_config, report_file)
/* A struct vmem_stats cut after its first 16 counters. */
#define OLD_STATS_SIZE offsetof(struct vmem_stats, prefetched_pages)

/* The struct of a caller followed by bytes no call may write. */
union canary {
    struct vmem_config c;
    struct vmem_stats s;
    unsigned char b[sizeof(struct vmem_config) + sizeof(struct vmem_stats) + 64];
};

static void fill(union canary *u) { memset(u->b, 0xa5, sizeof(u->b)); }

static void assert_untouched_from(const union canary *u, size_t from)
{
    for (size_t i = from; i < sizeof(u->b); i++)
        cr_assert_eq(u->b[i], 0xa5, "byte %zu past a struct of %zu bytes was written", i, from);
}

Test(config_abi, the_size_of_this_vmem_h_is_taken)
{
    union canary u;
    fill(&u);
    cr_assert_eq(vmem_config_default_sized(&u.c, sizeof(struct vmem_config)), 0);
    cr_assert_eq(u.c.pagefile_checksum, 1);
    assert_untouched_from(&u, sizeof(struct vmem_config));
    fill(&u);
    cr_assert_eq(vmem_get_stats_sized(&u.s, sizeof(struct vmem_stats)), 0);
    assert_untouched_from(&u, sizeof(struct vmem_stats));
}

Test(config_abi, an_older_config_is_filled_up_to_its_end)
{
    union canary u;
    fill(&u);
    cr_assert_eq(vmem_config_default_sized(&u.c, OLD_CONFIG_SIZE), 0);
    cr_assert_eq(u.c.zero_cluster, 16);
    cr_assert_eq(u.c.low_water, 88, "the last field of the older struct is written");
    assert_untouched_from(&u, OLD_CONFIG_SIZE);

    setenv("VMEM_LOW_WATER", "70", 1);
    fill(&u);
    char err[200];
    cr_assert_eq(vmem_config_from_env_sized(&u.c, OLD_CONFIG_SIZE, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_eq(u.c.low_water, 70);
    assert_untouched_from(&u, OLD_CONFIG_SIZE);

    fill(&u);
    cr_assert_eq(vmem_get_config_sized(&u.c, OLD_CONFIG_SIZE), 0);
    cr_assert_eq(u.c.low_water, 70);
    assert_untouched_from(&u, OLD_CONFIG_SIZE);
}

/* An older program's vmem_init: the options its struct lacks take their
 * defaults, whatever lies past its end. */
Test(config_abi, an_older_config_starts_the_runtime_with_defaults_for_the_rest)
{
    union canary u;
    fill(&u);
    cr_assert_eq(vmem_config_default(&u.c), 0);
    u.c.fault_mode = VMEM_FAULT_KERNEL;
    u.c.zero_cluster = 4;
    u.c.pagefile_checksum = 0;   /* past the older struct: must not be read */
    strcpy(u.c.report_file, "/nonexistent/x");
    cr_assert_eq(vmem_init_sized(&u.c, OLD_CONFIG_SIZE), 0);
    struct vmem_config got;
    cr_assert_eq(vmem_get_config(&got), 0);
    cr_assert_eq(got.zero_cluster, 4);
    cr_assert_eq(got.fault_mode, VMEM_FAULT_KERNEL);
    cr_assert_eq(got.pagefile_checksum, 1, "a field past the caller's struct was read");
    cr_assert_str_empty(got.report_file);
    vmem_shutdown();
}

Test(config_abi, older_stats_are_filled_up_to_their_end)
{
    char *p = VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    p[0] = 1;
    union canary u;
    fill(&u);
    cr_assert_eq(vmem_get_stats_sized(&u.s, OLD_STATS_SIZE), 0);
    cr_assert_geq(u.s.regions, 1, "the last counter of the older struct is written");
    cr_assert_geq(u.s.commit_charge, 1);
    assert_untouched_from(&u, OLD_STATS_SIZE);
    fill(&u);
    cr_assert_eq(vmem_get_stats_sized(&u.s, sizeof(uint64_t)), 0);
    assert_untouched_from(&u, sizeof(uint64_t));
}

Test(config_abi, a_wrong_size_is_refused_and_nothing_written)
{
    const size_t bad_config[] = {
        0, 1, 3, sizeof(struct vmem_config) - 4, sizeof(struct vmem_config) + 8,
        offsetof(struct vmem_config, pagefile) + 8,       /* inside a field */
        offsetof(struct vmem_config, low_water),          /* cut after prefetch_install:
                                                             its padding is low_water */
        SIZE_MAX,
    };
    union canary u;
    char err[200];
    for (size_t i = 0; i < sizeof(bad_config) / sizeof(bad_config[0]); i++) {
        size_t n = bad_config[i];
        fill(&u);
        cr_assert_eq(vmem_config_default_sized(&u.c, n), EINVAL, "size %zu", n);
        cr_assert_eq(vmem_config_from_env_sized(&u.c, n, err, sizeof(err)), EINVAL,
                     "size %zu", n);
        cr_assert(strstr(err, "struct vmem_config"), "%s", err);
        cr_assert_eq(vmem_get_config_sized(&u.c, n), EINVAL, "size %zu", n);
        cr_assert_eq(vmem_init_sized(&u.c, n), EINVAL, "size %zu", n);
        assert_untouched_from(&u, 0);
    }
    const size_t bad_stats[] = { 0, 4, 12, sizeof(struct vmem_stats) - 1,
                                 sizeof(struct vmem_stats) + 8, SIZE_MAX };
    for (size_t i = 0; i < sizeof(bad_stats) / sizeof(bad_stats[0]); i++) {
        fill(&u);
        cr_assert_eq(vmem_get_stats_sized(&u.s, bad_stats[i]), EINVAL, "size %zu",
                     bad_stats[i]);
        assert_untouched_from(&u, 0);
    }
    cr_assert_eq(vmem_get_stats(NULL), EINVAL);
    cr_assert_eq(vmem_get_config(NULL), EINVAL);
}

/* Every size a vmem.h declared stays accepted (the sizes of 0.1 on x86-64):
 * a field appended in the padding after pagefile_checksum would make 656
 * name no layout. */
Test(config_abi, published_sizes_stay_accepted)
{
    struct vmem_config c;
    cr_assert_eq(vmem_config_default_sized(&c, 656), 0, "struct vmem_config of 0.1");
    struct vmem_stats s;
    cr_assert_eq(vmem_get_stats_sized(&s, 224), 0, "struct vmem_stats of 0.1");
}

Test(config, malformed_env_fails_api_calls_cleanly)
{
    setenv("VMEM_ZERO_CLUSTER", "lots", 1);
    SetLastError(0);
    cr_assert_null(VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_neq(GetLastError(), 0);
    struct vmem_stats st;
    cr_assert_eq(vmem_get_stats(&st), EINVAL);
}

Test(config, explicit_init_validates_and_runs_once)
{
    struct vmem_config c;
    vmem_config_default(&c);
    c.zero_cluster = 0;
    cr_assert_eq(vmem_init(&c), EINVAL);
}

Test(config, explicit_init_then_already)
{
    struct vmem_config c;
    vmem_config_default(&c);
    c.fault_mode = VMEM_FAULT_KERNEL;
    c.zero_cluster = 4;
    cr_assert_eq(vmem_init(&c), 0);
    cr_assert_eq(vmem_init(&c), EALREADY);
    struct vmem_config got;
    cr_assert_eq(vmem_get_config(&got), 0);
    cr_assert_eq(got.zero_cluster, 4);
    cr_assert_eq(got.fault_mode, VMEM_FAULT_KERNEL);
    void *p = VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    vmem_shutdown();
    /* after shutdown the runtime can start again */
    cr_assert_eq(vmem_init(NULL), 0);
    p = VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    ((char *)p)[1] = 1;
    vmem_shutdown();
}

/* VMEM_HIGH_WATER alone, below the default low-water mark, is valid: the
 * low-water mark follows it down. */
Test(config, high_water_alone_below_the_default_low_water)
{
    unsetenv("VMEM_LOW_WATER");
    setenv("VMEM_HIGH_WATER", "60", 1);
    struct vmem_config c;
    char err[200] = "";
    cr_assert_eq(vmem_config_from_env(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.high_water, 60);
    cr_assert_eq(c.low_water, 60);
    unsetenv("VMEM_HIGH_WATER");
}

/* An older struct that ends before low_water, with a high-water mark below
 * the default low-water mark: accepted, as that program's vmem.h allowed. */
Test(config_abi, an_older_config_without_low_water_keeps_its_high_water)
{
    struct vmem_config c;
    cr_assert_eq(vmem_config_default(&c), 0);
    c.fault_mode = VMEM_FAULT_KERNEL;
    c.high_water = 60;
    /* the largest size a vmem.h without low_water declared */
    size_t size = offsetof(struct vmem_config, low_water);
    struct vmem_config probe;
    while (size && vmem_config_default_sized(&probe, size) != 0)
        size--;
    cr_assert_gt(size, offsetof(struct vmem_config, high_water));
    cr_assert_eq(vmem_init_sized(&c, size), 0);
    struct vmem_config got;
    cr_assert_eq(vmem_get_config(&got), 0);
    cr_assert_eq(got.high_water, 60);
    cr_assert_leq(got.low_water, 60);
    vmem_shutdown();
}

/* A report_file without its terminating NUL is refused, as the other
 * strings are, rather than read past its end. */
Test(config, report_file_without_nul_refused)
{
    struct vmem_config c;
    cr_assert_eq(vmem_config_default(&c), 0);
    c.fault_mode = VMEM_FAULT_KERNEL;
    memset(c.report_file, 'A', sizeof(c.report_file));
    cr_assert_eq(vmem_init(&c), EINVAL);
}
