/*
 * sigchain_linked.c -- a program linked with libvmem.so (not the static
 * library the Criterion tests use) that installs SIGBUS and SIGSEGV
 * handlers after libvmem started, then pages 8 MiB under a 1 MiB cap: its
 * handlers must never run, sigaction must report them, every byte must
 * read back.  Exit 0 when all holds, 77 when this fault mode cannot page.
 */
#include <errno.h>
#include <memoryapi.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vmem.h>

static void app_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char b[128];
    int n = snprintf(b, sizeof b, "the program's handler got sig %d code %d\n", sig, si->si_code);
    if (write(2, b, (size_t)n) < 0)
        _exit(3);
    _exit(1);
}

int main(void)
{
    char *first = VirtualAlloc(NULL, 65536, MEM_COMMIT, PAGE_READWRITE);
    if (!first)
        return 2;
    first[0] = 1; /* libvmem started */
    struct vmem_config c;
    if (vmem_get_config(&c) != 0)
        return 2;
    if (c.fault_mode == VMEM_FAULT_KERNEL) {
        puts("fault mode kernel: no paging");
        return 77;
    }
    struct sigaction sa, now;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = app_handler;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGBUS, &sa, NULL) || sigaction(SIGSEGV, &sa, NULL))
        return 2;
    if (sigaction(SIGBUS, NULL, &now) || !(now.sa_flags & SA_SIGINFO) || now.sa_sigaction != app_handler) {
        fputs("sigaction(SIGBUS) does not report the program's handler\n", stderr);
        return 1;
    }
    int e = vmem_set_max_resident(1 << 20);
    if (e) {
        printf("cannot page: %s\n", strerror(e));
        return e == ENOTSUP ? 77 : 1;
    }
    size_t pages = 2048;
    unsigned char *p = VirtualAlloc(NULL, pages * 4096, MEM_COMMIT, PAGE_READWRITE);
    if (!p)
        return 2;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < pages; i++)
            memset(p + i * 4096, (int)((i + round) & 0xff), 4096);
        for (size_t i = 0; i < pages; i++)
            for (size_t k = 0; k < 4096; k += 256)
                if (p[i * 4096 + k] != (unsigned char)((i + round) & 0xff)) {
                    fprintf(stderr, "page %zu byte %zu wrong\n", i, k);
                    return 1;
                }
    }
    puts("ok");
    return 0;
}
