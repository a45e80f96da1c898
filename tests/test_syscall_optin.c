/*
 * test_syscall_optin.c -- who provides read, write & co.: libc in a program
 * that links libvmem (shared or static) and nothing else; libvmem-syscalls
 * in a program that links it too (the opt-in, docs/paging.md).  Built once
 * per kind of link; EXPECT_IN names the file that must define the calls.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <memoryapi.h>
#include <string.h>
#include <unistd.h>

#ifndef EXPECT_IN
#error "EXPECT_IN: the file that must define the calls"
#endif

static const char *const calls[] = {
    "read", "write", "pread", "pread64", "pwrite", "pwrite64", "readv", "writev",
    "send", "sendto", "recv", "recvfrom",
};

Test(syscall_optin, calls_come_from_the_expected_library)
{
    /* the program calls libvmem and read and write itself, so the linker
     * keeps what it linked even with --as-needed; and the calls work on
     * managed memory either way in this mode */
    char *p = VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], "abcd", 4), 4);
    cr_assert_eq(read(fds[0], p + 100, 4), 4);
    cr_assert_eq(memcmp(p + 100, "abcd", 4), 0);
    close(fds[0]);
    close(fds[1]);
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        void *f = dlsym(RTLD_DEFAULT, calls[i]);
        cr_assert_not_null(f, "%s: not found", calls[i]);
        Dl_info info;
        cr_assert_neq(dladdr(f, &info), 0, "%s: no object holds it", calls[i]);
        const char *base = strrchr(info.dli_fname, '/');
        base = base ? base + 1 : info.dli_fname;
        cr_assert(strncmp(base, EXPECT_IN, strlen(EXPECT_IN)) == 0,
                  "%s is defined in %s, not in %s*", calls[i], info.dli_fname, EXPECT_IN);
    }
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
}
