/*
 * preload_procs.c -- processes and exits under libvmem-preload.so:
 *   fork+exec   a forked child execs /bin/sh, which prints its argument
 *   spawn       posix_spawn of the same
 *   thread-exit a thread calls exit(7) while main waits (atexit runs)
 *   dlopen      dlopen libm and call cos through it
 * Each prints what it checked; exit status as the sub-test says.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char *big_block(void)
{
    /* Heap contents the children must not disturb. */
    char *b = malloc(8 << 20);
    if (b)
        memset(b, 'x', 8 << 20);
    return b;
}

static int check_block(const char *b)
{
    for (size_t i = 0; i < (8u << 20); i += 4096)
        if (b[i] != 'x')
            return 1;
    return 0;
}

static int fork_exec(void)
{
    char *b = big_block();
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "echo fork-exec child ran", (char *)NULL);
        _exit(126);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 1;
    return check_block(b);
}

static int spawn(void)
{
    char *b = big_block();
    char *argv[] = { "sh", "-c", "echo spawn child ran", NULL };
    pid_t pid;
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ))
        return 1;
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 1;
    return check_block(b);
}

static void at_exit(void)
{
    printf("atexit ran\n");
    fflush(stdout);
}

static void *exiter(void *arg)
{
    (void)arg;
    char *p = malloc(1000);
    strcpy(p, "exit from a thread");
    printf("%s\n", p);
    exit(7);
}

static int thread_exit(void)
{
    atexit(at_exit);
    pthread_t t;
    if (pthread_create(&t, NULL, exiter, NULL))
        return 1;
    for (;;)
        pause();
}

static int load(void)
{
    void *h = dlopen("libm.so.6", RTLD_NOW);
    if (!h)
        return 1;
    double (*c)(double) = (double (*)(double))dlsym(h, "cos");
    int bad = !c || c(0.0) != 1.0;
    dlclose(h);
    printf("dlopen ok\n");
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    if (!strcmp(argv[1], "fork-exec"))
        return fork_exec();
    if (!strcmp(argv[1], "spawn"))
        return spawn();
    if (!strcmp(argv[1], "thread-exit"))
        return thread_exit();
    if (!strcmp(argv[1], "dlopen"))
        return load();
    return 2;
}
