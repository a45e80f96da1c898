/*
 * preload_mmap.c -- anonymous mappings under libvmem-preload.so behave as
 * Linux documents: zero-filled, MADV_DONTNEED zeroes, mremap keeps the
 * contents, mprotect(PROT_READ) makes writes fault, munmap'ed pages fault.
 * Exit 0 if all hold.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(env, 1);
}

static int faults(volatile char *p, int write)
{
    if (sigsetjmp(env, 1))
        return 1;
    if (write)
        *p = 1;
    else
        (void)*p;
    return 0;
}

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "failed: %s (line %d)\n", #c, __LINE__); return 1; } } while (0)

int main(void)
{
    struct sigaction sa = { .sa_handler = on_segv };
    sigaction(SIGSEGV, &sa, NULL);
    size_t len = 16 << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    for (size_t i = 0; i < len; i += 4096)
        CHECK(p[i] == 0);
    memset(p, 'a', len);
    CHECK(madvise(p, 1 << 20, MADV_DONTNEED) == 0);
    CHECK(p[0] == 0 && p[(1 << 20) - 1] == 0 && p[1 << 20] == 'a');
    char *q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED);
    CHECK(q[1 << 20] == 'a' && q[len - 1] == 'a' && q[len] == 0 && q[2 * len - 1] == 0);
    CHECK(mprotect(q, 4096, PROT_READ) == 0);
    CHECK(faults(q, 1) && !faults(q, 0));
    CHECK(mprotect(q, 4096, PROT_READ | PROT_WRITE) == 0);
    CHECK(!faults(q, 1));
    CHECK(munmap(q + len, len) == 0);
    CHECK(faults(q + len, 0));
    CHECK(!faults(q + len - 1, 0));
    CHECK(munmap(q, len) == 0);
    char *n = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(n != MAP_FAILED && faults(n, 0));
    CHECK(mprotect(n, 1 << 20, PROT_READ | PROT_WRITE) == 0 && n[5] == 0 && !faults(n, 1));
    CHECK(munmap(n, 1 << 20) == 0);
    printf("mmap ok\n");
    return 0;
}
