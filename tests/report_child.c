/*
 * report_child.c -- a program whose counters the report tests read
 * (test_report.sh): it commits and writes PAGES pages, checks them, and on
 * request closes its stderr, waits on stdin between phases, or kills
 * itself.  Built twice: linked with libvmem (VirtualAlloc), and plain
 * (malloc, for `vmem run`'s preload library).
 *
 *   report_child [-p PAGES] [-c] [-e FILE] [-d FILE] [-w] [-k SIG] [-x STATUS] [-s] [-a FILE]
 *     -c  close fd 2 before exit       -w  "ready" on stdout, wait for a line
 *     -k  raise SIG at the end          -x  exit status
 *     -s  vmem_shutdown before exit (linked only)
 *     -a  once the pages are written, a copy of this process's statistics
 *         area into FILE whose every request counts as answered (linked
 *         only): a forged area readers never wait on, there being no
 *         publisher behind it to answer
 *     -e  before the first call: close fd 2 and open FILE (read-write, kept
 *         as it is) in its place, or only close it when FILE is "-"
 *     -d  before the first call: open FILE (read-write, kept as it is) and
 *         put it on every open descriptor above 2 (numbers the program
 *         did not open, reused as a program that closes them all may)
 * With -w: phase 1 writes the pages, says "ready 1", waits; phase 2 reads
 * them all again (paging them back under a cap), says "ready 2", waits.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef REPORT_CHILD_LINKED
#include <memoryapi.h>
#include <vmem.h>
#include <vmemstat.h>
#endif

static void wait_line(int phase)
{
    char c;
    printf("ready %d\n", phase);
    fflush(stdout);
    while (read(0, &c, 1) == 1 && c != '\n')
        ;
}

#ifdef REPORT_CHILD_LINKED
/* The area as it is now, with `answered` far ahead of `request`: a reader
 * adds 1 to `request` and finds it answered already. */
static int write_answered_copy(const char *path)
{
    const struct vmem_statarea *a;
    if (vmem_statarea_open(vmem_statarea_dir(), (long)getpid(), 0, &a))
        return -1;
    struct vmem_statarea *c = malloc(sizeof(*c));
    if (!c) {
        vmem_statarea_close(a);
        return -1;
    }
    memcpy(c, a, sizeof(*c));
    vmem_statarea_close(a);
    c->answered = c->request + 0x40000000u;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ssize_t n = fd >= 0 ? write(fd, c, sizeof(*c)) : -1;
    free(c);
    if (fd >= 0 && close(fd))
        n = -1;
    return n == (ssize_t)sizeof(*c) ? 0 : -1;
}
#endif

int main(int argc, char **argv)
{
    size_t pages = 256;
    int close_err = 0, wait = 0, sig = 0, status = 0, shutdown = 0, opt;
    const char *err_file = NULL, *dup_file = NULL, *copy_file = NULL;
    while ((opt = getopt(argc, argv, "p:ce:d:wk:x:sa:")) != -1) {
        switch (opt) {
        case 'p': pages = strtoul(optarg, NULL, 10); break;
        case 'c': close_err = 1; break;
        case 'e': err_file = optarg; break;
        case 'd': dup_file = optarg; break;
        case 'w': wait = 1; break;
        case 'k': sig = atoi(optarg); break;
        case 'x': status = atoi(optarg); break;
        case 's': shutdown = 1; break;
        case 'a': copy_file = optarg; break;
        default: return 2;
        }
    }
    if (err_file) {
        close(2);
        /* the program's own file takes the number stderr had */
        if (strcmp(err_file, "-") != 0 && open(err_file, O_RDWR) != 2)
            return 5;
    }
    if (dup_file) {
        int f = open(dup_file, O_RDWR);
        if (f < 0)
            return 5;
        for (int fd = 3; fd < 1024; fd++)
            if (fd != f && fcntl(fd, F_GETFD) != -1 && dup2(f, fd) != fd)
                return 5;
    }
#ifdef REPORT_CHILD_LINKED
    unsigned char *m = VirtualAlloc(NULL, pages * 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
#else
    unsigned char *m = malloc(pages * 4096);
#endif
    if (!m)
        return 3;
    for (size_t i = 0; i < pages; i++)
        memset(m + i * 4096, (int)(i * 7 + 1), 4096);
#ifdef REPORT_CHILD_LINKED
    if (copy_file && write_answered_copy(copy_file))
        return 6;
#else
    if (copy_file)
        return 2;
#endif
    if (wait)
        wait_line(1);
    for (size_t i = 0; i < pages; i++)
        for (size_t j = 0; j < 4096; j += 512)
            if (m[i * 4096 + j] != (unsigned char)(i * 7 + 1))
                return 4;
    if (wait)
        wait_line(2);
    if (close_err)
        close(2);
#ifdef REPORT_CHILD_LINKED
    if (shutdown)
        vmem_shutdown();
#else
    (void)shutdown;
#endif
    if (sig)
        raise(sig);
    return status;
}
