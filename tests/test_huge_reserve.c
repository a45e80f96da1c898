/*
 * Reserving costs no RAM: a 64 TiB reservation adds (almost) nothing to the
 * resident set, and committing a page far inside it costs one page.
 */
#include <criterion/criterion.h>
#include <memoryapi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    unsigned long size, resident;
    cr_assert_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return resident * 4096;
}

Test(huge_reserve, sixty_four_tib_costs_no_rss)
{
    const char *probe = getenv("HUGE_RESERVE_PROBE");
    if (!probe)
        cr_skip_test("HUGE_RESERVE_PROBE not set: run through meson test");
    FILE *f = popen(probe, "r");
    cr_assert_not_null(f);
    char line[200] = {0};
    cr_assert_not_null(fgets(line, sizeof(line), f));
    cr_assert_eq(pclose(f), 0, "probe failed: %s", line);
    unsigned long before, reserved, touched;
    cr_assert_eq(sscanf(line, "%lu %lu %lu", &before, &reserved, &touched), 3, "%s", line);
    cr_assert_lt(reserved, before + 4 * 1024 * 1024,
                 "reserving 64 TiB grew RSS by %lu bytes", reserved - before);
    cr_assert_lt(touched, before + 8 * 1024 * 1024,
                 "three pages in 64 TiB grew RSS by %lu bytes", touched - before);
}

Test(huge_reserve, commit_without_touch_costs_no_rss)
{
    size_t n = (size_t)1 << 30; /* 1 GiB */
    size_t before = rss_bytes();
    uint8_t *p = alloc_committed(n, PAGE_READWRITE);
    size_t after = rss_bytes();
    /* bookkeeping only: 8 bytes a page = 2 MiB per GiB committed */
    cr_assert_lt(after, before + 4 * 1024 * 1024, "committing 1 GiB grew RSS by %zu",
                 after - before);
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
}
