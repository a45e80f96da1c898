/*
 * preload_shared.c -- memory a program shares with itself or with other
 * processes keeps working under libvmem-preload.so (such mappings stay the
 * kernel's: docs/preload.md), while its private memory is paged under the
 * cap beside them:
 *   - mmap(MAP_SHARED | MAP_ANONYMOUS) seen by a forked child both ways;
 *   - a memfd mapped twice (one view's writes in the other at once), and
 *     mapped again by a forked child;
 *   - a POSIX shared-memory object opened by a second program started with
 *     fork + exec (this program with "peer NAME"), which writes a pattern
 *     the first reads back, and reads the first's;
 *   - 16 MiB of private memory (four times test_preload.sh's cap) written
 *     and read back between the steps.
 * Exit 0 if all hold.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "failed: %s (line %d)\n", #c, __LINE__); exit(1); } } while (0)

#define SHARED_LEN (2u << 20)
#define PRIVATE_LEN (16u << 20)

static uint64_t word(uint64_t seed, size_t i)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + i;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    return x ^ (x >> 29);
}

static void fill(void *p, size_t len, uint64_t seed)
{
    uint64_t *w = p;
    for (size_t i = 0; i < len / 8; i += 512) /* a word per page is enough */
        w[i] = word(seed, i);
}

static int holds(const void *p, size_t len, uint64_t seed)
{
    const uint64_t *w = p;
    for (size_t i = 0; i < len / 8; i += 512)
        if (w[i] != word(seed, i))
            return 0;
    return 1;
}

/* Private memory paged under the cap beside the shared mappings. */
static void private_round(uint64_t seed)
{
    char *p = malloc(PRIVATE_LEN);
    CHECK(p != NULL);
    fill(p, PRIVATE_LEN, seed);
    CHECK(holds(p, PRIVATE_LEN, seed));
    free(p);
}

static int child_status(pid_t pid)
{
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void shared_anonymous(void)
{
    char *p = mmap(NULL, SHARED_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    fill(p, SHARED_LEN / 2, 1);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        private_round(2);
        if (!holds(p, SHARED_LEN / 2, 1))
            _exit(2);
        fill(p + SHARED_LEN / 2, SHARED_LEN / 2, 3);
        _exit(0);
    }
    CHECK(child_status(pid) == 0);
    CHECK(holds(p + SHARED_LEN / 2, SHARED_LEN / 2, 3));
    CHECK(munmap(p, SHARED_LEN) == 0);
}

static void memfd_views(void)
{
    int fd = memfd_create("preload-shared", MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, SHARED_LEN) == 0);
    char *a = mmap(NULL, SHARED_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, SHARED_LEN, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(a != MAP_FAILED && b != MAP_FAILED && a != b);
    fill(a, SHARED_LEN, 4);
    CHECK(holds(b, SHARED_LEN, 4));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char *c = mmap(NULL, SHARED_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (c == MAP_FAILED || !holds(c, SHARED_LEN, 4))
            _exit(2);
        fill(c, SHARED_LEN, 5);
        _exit(0);
    }
    CHECK(child_status(pid) == 0);
    CHECK(holds(a, SHARED_LEN, 5) && holds(b, SHARED_LEN, 5));
    CHECK(munmap(a, SHARED_LEN) == 0 && munmap(b, SHARED_LEN) == 0);
    close(fd);
}

static char *open_shm(const char *name, int create)
{
    int fd = shm_open(name, O_RDWR | (create ? O_CREAT | O_EXCL : 0), 0600);
    CHECK(fd >= 0);
    if (create)
        CHECK(ftruncate(fd, SHARED_LEN) == 0);
    char *p = mmap(NULL, SHARED_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    close(fd);
    return p;
}

static int peer(const char *name)
{
    char *p = open_shm(name, 0);
    private_round(6);
    if (!holds(p, SHARED_LEN / 2, 7))
        return 2;
    fill(p + SHARED_LEN / 2, SHARED_LEN / 2, 8);
    return 0;
}

static void shm_two_programs(const char *self)
{
    char name[64];
    snprintf(name, sizeof name, "/preload-shared.%d", (int)getpid());
    char *p = open_shm(name, 1);
    fill(p, SHARED_LEN / 2, 7);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        execl(self, self, "peer", name, (char *)NULL);
        _exit(127);
    }
    int st = child_status(pid);
    shm_unlink(name);
    CHECK(st == 0);
    CHECK(holds(p + SHARED_LEN / 2, SHARED_LEN / 2, 8));
    CHECK(munmap(p, SHARED_LEN) == 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "peer") == 0)
        return peer(argv[2]);
    private_round(9);
    shared_anonymous();
    private_round(10);
    memfd_views();
    private_round(11);
    shm_two_programs("/proc/self/exe");
    puts("shared memory held");
    return 0;
}
