/*
 * fork: a child sees the parent's data, gets zeros for untouched committed
 * pages, can use the API itself, and never disturbs the parent.
 */
#include <criterion/criterion.h>
#include <memoryapi.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn in a child; returns its exit status (fn returns it). */
static int in_child(int (*fn)(uint8_t *), uint8_t *p)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(fn(p));
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "child died (signal %d)", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return WEXITSTATUS(st);
}

static int child_checks(uint8_t *p)
{
    /* page 0 written by the parent; pages 1.. untouched */
    for (int i = 0; i < 4096; i++)
        if (p[i] != (uint8_t)i)
            return 10;
    for (int i = 4096; i < 64 * 4096; i++)
        if (p[i] != 0)
            return 11;
    memset(p, 0xEE, 64 * 4096); /* the child's own copy */
    uint8_t *q = VirtualAlloc(NULL, 16 * 4096, MEM_COMMIT, PAGE_READWRITE);
    if (!q)
        return 12;
    for (int i = 0; i < 16 * 4096; i++)
        if (q[i])
            return 13;
    q[5] = 5;
    if (!VirtualFree(q + 4096, 4096, MEM_DECOMMIT) || q[5] != 5)
        return 14;
    if (!VirtualFree(q, 0, MEM_RELEASE))
        return 15;
    return 0;
}

Test(fork, child_sees_parent_data_and_zeros)
{
    uint8_t *p = VirtualAlloc(NULL, 64 * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    for (int i = 0; i < 4096; i++)
        p[i] = (uint8_t)i;
    cr_assert_eq(in_child(child_checks, p), 0);
    /* the parent's memory is its own */
    for (int i = 0; i < 4096; i++)
        cr_assert_eq(p[i], (uint8_t)i);
    for (int i = 4096; i < 64 * 4096; i++)
        cr_assert_eq(p[i], 0, "byte %d", i);
    /* and the parent still faults in fresh pages */
    uint8_t *q = VirtualAlloc(NULL, 64 * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(q);
    q[64 * 4096 - 1] = 9;
    cr_assert_eq(q[64 * 4096 - 1], 9);
}
