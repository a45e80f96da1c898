/*
 * run_child.c -- the program test_run.c runs under `vmem run`:
 *
 *   run_child wait [SIG...]     writes 'R' and its pid to stdout, then reads
 *                               stdin until EOF and exits 0; each SIG named
 *                               (a number) is caught, its number written to
 *                               stdout as one byte; at a 'g' read, a
 *                               child (ignoring it) sends the first SIG to
 *                               its process group and 'G' is written once
 *                               it has; the child stays until an 'e' is
 *                               read (so that its sender is still there)
 *   run_child send SIG HOW      sends SIG (a number) to itself by HOW (raise,
 *                               kill, tgkill, sigqueue), or has the kernel
 *                               raise it (fault: SIGSEGV reading address 16,
 *                               SIGBUS reading a file mapping past the end
 *                               of the file), then prints "still alive" and
 *                               exits 0
 *   run_child page MIB          writes MIB MiB of malloc'd memory, reads it
 *                               back, prints "page MIB ok" if every byte is
 *                               right and libvmem wrote pages to the page
 *                               file (the cap was small enough), exits 0
 *   run_child tree MIB          `page MIB` in this process and in a forked
 *                               child that execs `run_child page MIB`
 *
 * Built twice: plain, for the preload, and linked with libvmem.so
 * (-DLINKED: libvmem started before anything is sent).
 */
#include <vmem.h>
#ifdef LINKED
#include <memoryapi.h>
#endif

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    if (write(1, &b, 1) < 0)
        return;
}

static int wait_mode(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 2; i < argc; i++)
        if (sigaction(atoi(argv[i]), &sa, NULL))
            return 2;
    unsigned char ready[1 + sizeof(pid_t)];
    pid_t me = getpid();
    ready[0] = 'R';
    memcpy(ready + 1, &me, sizeof(me));
    if (write(1, ready, sizeof(ready)) != (ssize_t)sizeof(ready))
        return 3;
    char c;
    pid_t sender = -1; /* the child sending to the group, until 'e' */
    int hold[2] = { -1, -1 };
    for (;;) {
        ssize_t n = read(0, &c, 1);
        if (n == 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return 4;
        if (n == 1 && c == 'g' && argc > 2 && sender < 0) {
            int sig = atoi(argv[2]), sent[2];
            if (pipe(sent) || pipe(hold))
                return 5;
            sender = fork();
            if (sender < 0)
                return 5;
            if (sender == 0) {
                signal(sig, SIG_IGN);
                close(hold[1]);
                if (kill(0, sig) || write(sent[1], "s", 1) != 1)
                    _exit(1);
                while (read(hold[0], &c, 1) != 0)
                    ;
                _exit(0);
            }
            close(sent[1]);
            close(hold[0]);
            while ((n = read(sent[0], &c, 1)) < 0 && errno == EINTR)
                ;
            close(sent[0]);
            if (n != 1 || write(1, "G", 1) != 1)
                return 6;
        } else if (n == 1 && c == 'e' && sender > 0) {
            close(hold[1]);
            int st;
            while (waitpid(sender, &st, 0) < 0)
                if (errno != EINTR)
                    return 7;
            sender = -1;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return 7;
        }
    }
}

/* An access the kernel answers with sig. */
static int fault(int sig)
{
    if (sig == SIGSEGV) {
        volatile char *volatile p = (volatile char *)(uintptr_t)16;
        return *p;
    }
    FILE *f = tmpfile();
    if (!f)
        return 1;
    volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fileno(f), 0);
    if (p == MAP_FAILED)
        return 1;
    return p[0]; /* the file is empty */
}

static int send_mode(int sig, const char *how)
{
#ifdef LINKED
    /* libvmem's handlers in place: a page of its memory, touched */
    volatile char *p = VirtualAlloc(NULL, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (!p)
        return 5;
    p[0] = 1;
#endif
    int rc;
    if (!strcmp(how, "raise"))
        rc = raise(sig);
    else if (!strcmp(how, "kill"))
        rc = kill(getpid(), sig);
    else if (!strcmp(how, "tgkill"))
        rc = (int)syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
    else if (!strcmp(how, "sigqueue"))
        rc = sigqueue(getpid(), sig, (union sigval){ .sival_int = 1 });
    else if (!strcmp(how, "fault"))
        rc = fault(sig);
    else
        return 2;
    if (rc)
        return 3;
    printf("still alive\n");
    return 0;
}

/* Pages written to the page file by libvmem in this process, or -1 when
 * libvmem is not there. */
static long long pages_written(void)
{
    int (*get)(struct vmem_stats *, size_t) =
        (int (*)(struct vmem_stats *, size_t))dlsym(RTLD_DEFAULT, "vmem_get_stats_sized");
    struct vmem_stats st;
    if (!get || get(&st, sizeof(st)))
        return -1;
    return (long long)st.pages_written;
}

static int page_mode(size_t mib)
{
    size_t n = mib << 20;
    unsigned char *b = malloc(n);
    if (!b)
        return 2;
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 7 + i / 4096);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += b[i] != (unsigned char)(i * 7 + i / 4096);
    free(b);
    long long w = pages_written();
    if (bad || w <= 0) {
        printf("page %zu: %zu wrong bytes, %lld pages written\n", mib, bad, w);
        return 1;
    }
    printf("page %zu ok\n", mib);
    return 0;
}

/* Prints a line into stdout's buffer (a pipe: nothing is written yet),
 * then touches mib MiB, which trims the buffer's page under a small cap;
 * the line is written by exit's flush, libc's own write. */
static int stdio_mode(size_t mib)
{
    printf("stdio %zu ok\n", mib);
    size_t n = mib << 20;
    volatile unsigned char *b = malloc(n);
    if (!b)
        return 2;
    for (size_t i = 0; i < n; i += 4096)
        b[i] = (unsigned char)i;
    free((void *)b);
    return 0;
}

static int tree_mode(const char *mib)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        execl("/proc/self/exe", "run_child", "page", mib, (char *)NULL);
        _exit(127);
    }
    int rc = page_mode((size_t)atoi(mib));
    fflush(NULL);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 3;
    return rc ? rc : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "wait"))
        return wait_mode(argc, argv);
    if (argc == 4 && !strcmp(argv[1], "send"))
        return send_mode(atoi(argv[2]), argv[3]);
    if (argc == 3 && !strcmp(argv[1], "page"))
        return page_mode((size_t)atoi(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "stdio"))
        return stdio_mode((size_t)atoi(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "tree"))
        return tree_mode(argv[2]);
    fprintf(stderr, "usage: run_child wait [SIG...] | send SIG HOW | page MIB | tree MIB\n");
    return 2;
}
