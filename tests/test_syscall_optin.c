/*
 * test_syscall_optin.c -- who provides read, write & co.: libc in a program
 * that links libvmem (shared or static) and nothing else; libvmem-syscalls
 * in a program that links it too (the opt-in, docs/paging.md).  Built once
 * per kind of link; EXPECT_IN names the file that must define the calls.
 *
 * A sanitizer's runtime, loaded first, defines them before anything else
 * and calls the next definition: it is passed over, and the first other
 * object that defines each call is the one checked.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <link.h>
#include <memoryapi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef EXPECT_IN
#error "EXPECT_IN: the file that must define the calls"
#endif

static const char *const calls[] = {
    "read", "write", "pread", "pread64", "pwrite", "pwrite64", "readv", "writev",
    "send", "sendto", "recv", "recvfrom",
};

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static int sanitizer_runtime(const char *path)
{
    const char *b = base_name(path);
    return !strncmp(b, "libasan", 7) || !strncmp(b, "libubsan", 8) || !strncmp(b, "libtsan", 7);
}

struct lookup {
    const char *name;
    char definer[256];
};

/* Objects in the order the dynamic linker searches them: the first shared
 * object (not a sanitizer's runtime) that defines the name itself. */
static int first_definer(struct dl_phdr_info *o, size_t size, void *arg)
{
    (void)size;
    struct lookup *l = arg;
    if (!o->dlpi_name[0] || sanitizer_runtime(o->dlpi_name))
        return 0; /* the program itself defines none of them (checked below) */
    void *h = dlopen(o->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
    if (!h)
        return 0;
    void *f = dlsym(h, l->name);
    Dl_info info;
    int mine = f && dladdr(f, &info) && (uintptr_t)info.dli_fbase == (uintptr_t)o->dlpi_addr;
    dlclose(h);
    if (!mine)
        return 0;
    snprintf(l->definer, sizeof(l->definer), "%s", o->dlpi_name);
    return 1;
}

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
        /* what the program's calls reach: not the program itself */
        void *f = dlsym(RTLD_DEFAULT, calls[i]);
        cr_assert_not_null(f, "%s: not found", calls[i]);
        Dl_info info;
        cr_assert_neq(dladdr(f, &info), 0, "%s: no object holds it", calls[i]);
        struct lookup l = { .name = calls[i] };
        cr_assert_eq(dl_iterate_phdr(first_definer, &l), 1, "%s: no library defines it",
                     calls[i]);
        cr_assert(sanitizer_runtime(info.dli_fname) || !strcmp(info.dli_fname, l.definer),
                  "%s is reached in %s, defined first in %s", calls[i], info.dli_fname,
                  l.definer);
        cr_assert(strncmp(base_name(l.definer), EXPECT_IN, strlen(EXPECT_IN)) == 0,
                  "%s is defined in %s, not in %s*", calls[i], l.definer, EXPECT_IN);
    }
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
}
