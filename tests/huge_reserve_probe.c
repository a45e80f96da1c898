/*
 * Helper of test_huge_reserve: a 64 TiB reservation needs half of the user
 * address space in one gap, which a test harness's own mappings may split,
 * so it is made in this fresh process.  Prints the RSS (bytes) before the
 * reservation, after it, and after touching three pages of it, or an error.
 */
#include <memoryapi.h>
#include <stdint.h>
#include <stdio.h>

static unsigned long rss(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
        return 0;
    fclose(f);
    return resident * 4096;
}

#define TIB ((size_t)1 << 40)

int main(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si); /* starts the runtime before the first measure */
    unsigned long before = rss();
    uint8_t *p = VirtualAlloc(NULL, 64 * TIB, MEM_RESERVE, PAGE_READWRITE);
    if (!p) {
        printf("error reserve %u\n", (unsigned)GetLastError());
        return 1;
    }
    unsigned long reserved = rss();
    uint8_t *spots[3] = { p, p + 32 * TIB, p + 64 * TIB - 4096 };
    for (int i = 0; i < 3; i++) {
        if (VirtualAlloc(spots[i], 4096, MEM_COMMIT, PAGE_READWRITE) != spots[i]) {
            printf("error commit %u\n", (unsigned)GetLastError());
            return 1;
        }
        spots[i][7] = (uint8_t)(i + 1);
    }
    for (int i = 0; i < 3; i++)
        if (spots[i][7] != i + 1) {
            printf("error readback %d\n", i);
            return 1;
        }
    unsigned long touched = rss();
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(p + 4096, &mbi, sizeof(mbi)) != sizeof(mbi) || mbi.State != MEM_RESERVE ||
        mbi.RegionSize != 32 * TIB - 4096) {
        printf("error query state %#x size %zu\n", (unsigned)mbi.State, (size_t)mbi.RegionSize);
        return 1;
    }
    if (!VirtualFree(p, 0, MEM_DECOMMIT) || !VirtualFree(p, 0, MEM_RELEASE)) {
        printf("error free %u\n", (unsigned)GetLastError());
        return 1;
    }
    if (VirtualQuery(p, &mbi, sizeof(mbi)) != sizeof(mbi) || mbi.State != MEM_FREE) {
        printf("error not free after release\n");
        return 1;
    }
    printf("%lu %lu %lu\n", before, reserved, touched);
    return 0;
}
