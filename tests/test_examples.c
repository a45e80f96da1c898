/*
 * The two example programs of the text libvmem grew from compile unchanged
 * against <memoryapi.h> (the build does that) and print what the text shows,
 * with an address of our own: a 64 KiB-aligned one.
 */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

static void run_and_match(const char *env, const char *pattern)
{
    const char *path = getenv(env);
    if (!path)
        cr_skip_test("%s not set: run through meson test", env);
    FILE *f = popen(path, "r");
    cr_assert_not_null(f);
    char out[512] = {0};
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = 0;
    cr_assert_eq(pclose(f), 0, "%s exited with failure", path);
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    cr_assert_eq(regexec(&re, out, 0, NULL, 0), 0, "output \"%s\" does not match %s", out,
                 pattern);
    regfree(&re);
}

Test(examples, seed_example1_prints_base_address)
{
    run_and_match("SEED_EXAMPLE1", "^The base address of allocated memory is: [0-9a-f]*0000$");
}

Test(examples, seed_example2_prints_1337)
{
    run_and_match("SEED_EXAMPLE2", "^The base address of allocated memory is: [0-9a-f]*0000"
                                   "The data which is stored in the memory is 1337$");
}
