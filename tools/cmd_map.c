/*
 * cmd_map.c -- `vmem map PID`: a running libvmem process's reservations
 * with their pages by state.  The process's publisher thread counts them
 * from its page table when asked (a request in its statistics area), so
 * the map is that of a moment, never read by stopping the process.
 */
#include "vmem_cmd.h"
#include "stat_show.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MS 2000

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vmem map PID\n"
        "\n"
        "Lists the reservations of the running libvmem process PID, each with its pages\n"
        "by state: reserved (no commit), committed (no RAM yet), resident (in the working\n"
        "set), standby (trimmed, still in memory), paged out (only in the page file),\n"
        "other (being read in, or lost to an in-page error).  Pages of 4 KiB.\n");
}

static int map_main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    uint64_t pid;
    if (argc != 2) {
        usage(stderr);
        return 2;
    }
    if (vmem_parse_uint(argv[1], 1, 0x7fffffff, &pid)) {
        fprintf(stderr, "vmem map: PID: not a process id: '%s'\n", argv[1]);
        return 2;
    }
    const char *dir = vmem_statarea_dir();
    vmem_statarea_clean(dir);
    const struct vmem_statarea *a;
    char name[64];
    snprintf(name, sizeof(name), VMEM_STATAREA_PREFIX "%llu", (unsigned long long)pid);
    /* another user's area (as root, or VMEM_PUBLISH=public): its map as
     * last published */
    int err = vmem_statarea_open(dir, (long)pid, 0, &a);
    if (err)
        return stat_open_error("map", (long)pid, err);
    int asked = stat_request(dir, name, ANSWER_MS);
    if (asked != 0 && asked != EACCES) {
        fprintf(stderr, "vmem map: process %llu did not answer within %u ms (stopped, ending, "
                "or a forked child, which has no statistics thread)\n", (unsigned long long)pid,
                ANSWER_MS);
        vmem_statarea_close(a);
        return 1;
    }
    /* the map as one snapshot: copied between two equal, even sequence
     * numbers, from a private copy of the file (one that shrinks is gone,
     * never a SIGBUS) */
    size_t max = VMEM_STATAREA_MAX_REGIONS;
    struct vmem_statarea_region *v = malloc(max * sizeof(*v));
    uint32_t n = 0;
    uint64_t total = 0;
    for (int tries = 0; v; tries++) {
        vmem_statarea_close(a);
        if ((err = vmem_statarea_open(dir, (long)pid, 0, &a)) != 0) {
            free(v);
            return stat_open_error("map", (long)pid, err);
        }
        uint32_t s1 = __atomic_load_n(&a->map_seq, __ATOMIC_ACQUIRE);
        n = __atomic_load_n(&a->nregions, __ATOMIC_RELAXED);
        total = __atomic_load_n(&a->regions_total, __ATOMIC_RELAXED);
        if (n > max)
            n = (uint32_t)max;
        memcpy(v, a->regions, n * sizeof(*v));
        if (!(s1 & 1) && s1 == __atomic_load_n(&a->map_seq, __ATOMIC_ACQUIRE))
            break;
        if (tries == 100) {
            fprintf(stderr, "vmem map: the map kept changing while read\n");
            free(v);
            vmem_statarea_close(a);
            return 1;
        }
    }
    if (!v) {
        fprintf(stderr, "vmem map: out of memory\n");
        vmem_statarea_close(a);
        return 1;
    }
    printf("pid %lld (%.200s): %llu reservation%s, pages of 4 KiB\n", (long long)a->pid, a->cmd,
           (unsigned long long)total, total == 1 ? "" : "s");
    printf("%-18s %10s %10s %10s %10s %10s %10s %6s\n", "base", "pages", "reserved", "committed",
           "resident", "standby", "paged_out", "other");
    struct vmem_statarea_region sum = { 0 };
    for (uint32_t i = 0; i < n; i++) {
        const struct vmem_statarea_region *r = &v[i];
        printf("0x%016llx %10llu %10llu %10llu %10llu %10llu %10llu %6llu\n",
               (unsigned long long)r->base, (unsigned long long)r->pages,
               (unsigned long long)r->reserved, (unsigned long long)r->committed,
               (unsigned long long)r->resident, (unsigned long long)r->standby,
               (unsigned long long)r->pagedout, (unsigned long long)r->other);
        sum.pages += r->pages;
        sum.reserved += r->reserved;
        sum.committed += r->committed;
        sum.resident += r->resident;
        sum.standby += r->standby;
        sum.pagedout += r->pagedout;
        sum.other += r->other;
    }
    printf("%-18s %10llu %10llu %10llu %10llu %10llu %10llu %6llu\n", "total",
           (unsigned long long)sum.pages, (unsigned long long)sum.reserved,
           (unsigned long long)sum.committed, (unsigned long long)sum.resident,
           (unsigned long long)sum.standby, (unsigned long long)sum.pagedout,
           (unsigned long long)sum.other);
    if (total > n)
        printf("(the first %u reservations of %llu)\n", n, (unsigned long long)total);
    free(v);
    vmem_statarea_close(a);
    return 0;
}

const struct vmem_cmd vmem_cmd_map = {
    .name = "map",
    .about = "a running libvmem process's reservations, pages by state",
    .main = map_main,
};
