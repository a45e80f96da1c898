/* bench_trace.c -- writing a workload's text trace (bench_trace.h). */
#include "bench_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

int bench_trace_write(const char *path, const char *label, uint64_t pages,
                      const struct bench_ref *refs, size_t nrefs, uint64_t seed)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "# vmem bench trace: workload %s, %" PRIu64 " pages, %zu references, seed %" PRIu64
               "\n# populate: the first %" PRIu64 " lines write every page once\n",
            label, pages, nrefs, seed, pages);
    for (uint64_t p = 0; p < pages; p++)
        fprintf(f, "W %" PRIu64 "\n", p);
    fprintf(f, "# workload\n");
    for (size_t i = 0; i < nrefs; i++)
        fprintf(f, "%c %" PRIu32 "\n", refs[i].write ? 'W' : 'R', refs[i].page);
    int err = ferror(f) ? EIO : 0;
    if (fclose(f) && !err)
        err = errno;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
