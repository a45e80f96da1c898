/*
 * section_peer.c -- the second process of test_section_shared.c, started
 * with fork + exec: it uses a named section through the Win32 API alone,
 * as another program would, and talks with the test over two pipes (one
 * byte per step; no sleeps).
 *
 *   section_peer SCENARIO NAME READ_FD WRITE_FD
 *
 * Exits 0 when every check held, else prints what failed and exits 1.
 * The paging scenarios (pshare, psharepage, pwrite) serve test_section_paging.c;
 * pend-exit, pend-ret and pend-shutdown serve test_section_teardown.c;
 * leave-kill, leave-exit, leave-exec, leave-ret and leave-live serve
 * test_section_leftovers.c; open-invalid serves test_section_slotio.c;
 * the test sets this process's cap (VMEM_MAX_RESIDENT) in its environment.
 */
#include <memoryapi.h>
#include <vmem.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rfd, wfd;

/* pend-*: threads reading a view at random until the process ends. */
static volatile char *end_view;
static size_t end_pages;
static unsigned long end_reads;

static void *read_until_the_end(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (;;) {
        size_t p = (size_t)rand_r(&seed) % end_pages;
        (void)end_view[p * 4096 + (p % 512) * 8];
        __atomic_add_fetch(&end_reads, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "section_peer: " __VA_ARGS__);                    \
            fprintf(stderr, " (GetLastError %u)\n", (unsigned)GetLastError()); \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

static void say(char c)
{
    CHECK(write(wfd, &c, 1) == 1, "cannot write to the test");
}

static char hear(void)
{
    char c = 0;
    CHECK(read(rfd, &c, 1) == 1, "the test hung up");
    return c;
}

/* The words of the paging scenarios, as tests/helpers.h has them. */
static uint64_t page_word(size_t page, size_t k, uint64_t gen)
{
    return ((uint64_t)page << 32) ^ (gen << 16) ^ k ^ 0x9E3779B97F4A7C15ull;
}

/* Words [from, to) of page `page` of v in generation gen. */
static void fill_words(char *v, size_t page, size_t from, size_t to, uint64_t gen)
{
    uint64_t *w = (uint64_t *)(v + page * 4096);
    for (size_t k = from; k < to; k++)
        w[k] = page_word(page, k, gen);
}

static int words_intact(const char *v, size_t page, size_t from, size_t to, uint64_t gen)
{
    const uint64_t *w = (const uint64_t *)(v + page * 4096);
    for (size_t k = from; k < to; k++)
        if (w[k] != page_word(page, k, gen))
            return 0;
    return 1;
}

/* Under AddressSanitizer every access to a view reads its shadow too (a
 * byte per 8 bytes): half a GiB of views written grew RssAnon by some 50 MiB
 * on Linux 6.18, ASan's and not the library's.  There the section's own
 * pages are counted: RssShmem. */
#ifdef __SANITIZE_ADDRESS__
#define RESIDENT_FIELD "RssShmem:"
#else
#define RESIDENT_FIELD "VmRSS:"
#endif

/* This process's resident memory (VmRSS, shared memory included), bytes. */
static uint64_t resident(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, RESIDENT_FIELD " %llu", (unsigned long long *)&kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

/* Opens the section by name and maps all of it read-write. */
static char *open_view(const char *name, HANDLE *h)
{
    *h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
    CHECK(*h, "OpenFileMappingA(%s) failed", name);
    char *v = MapViewOfFile(*h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    CHECK(v, "MapViewOfFile failed");
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    const char *scenario = argv[1], *name = argv[2];
    rfd = atoi(argv[3]);
    wfd = atoi(argv[4]);
    HANDLE h;

    if (strcmp(scenario, "exchange") == 0) {
        /* see the test's bytes, write ours, see its next ones at once */
        char *v = open_view(name, &h);
        CHECK(strcmp(v, "from the test") == 0, "read '%.20s'", v);
        strcpy(v + 4096, "from the peer");
        say('A');
        CHECK(hear() == 'B', "step B");
        CHECK(strcmp(v + 8192, "second write") == 0, "read '%.20s'", v + 8192);
        CHECK(UnmapViewOfFile(v), "UnmapViewOfFile");
        CHECK(CloseHandle(h), "CloseHandle");
        say('C');
        return 0;
    }
    if (strcmp(scenario, "open-invalid") == 0) {
        /* the name's slot file is not the section's any more: refused */
        SetLastError(0);
        h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
        CHECK(h == NULL, "OpenFileMappingA(%s) opened a section whose slot file was replaced",
              name);
        CHECK(GetLastError() == ERROR_FILE_INVALID, "OpenFileMappingA failed with %u, not "
              "ERROR_FILE_INVALID", (unsigned)GetLastError());
        return 0;
    }
    if (strcmp(scenario, "create") == 0) {
        /* a create of an existing name returns it */
        SetLastError(0);
        h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, name);
        CHECK(h, "CreateFileMappingA");
        CHECK(GetLastError() == ERROR_ALREADY_EXISTS, "not ERROR_ALREADY_EXISTS");
        char *v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        CHECK(v, "MapViewOfFile");
        MEMORY_BASIC_INFORMATION m;
        CHECK(VirtualQuery(v, &m, sizeof m) == sizeof m, "VirtualQuery");
        CHECK(m.RegionSize == 65536 && m.Type == MEM_MAPPED && m.State == MEM_COMMIT,
              "query: size %#zx type %#x state %#x", m.RegionSize, (unsigned)m.Type,
              (unsigned)m.State);
        CHECK(strcmp(v, "from the test") == 0, "read '%.20s'", v);
        v[65535] = 'z';
        say('A');
        CHECK(hear() == 'B', "step B");
        return 0; /* exits holding them: the exit lets go */
    }
    if (strcmp(scenario, "hold") == 0) {
        /* hold a handle while the test closes its own */
        char *v = open_view(name, &h);
        say('A');
        CHECK(hear() == 'B', "step B");
        HANDLE again = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
        CHECK(again, "the name is gone while this process holds a handle");
        CHECK(CloseHandle(again), "CloseHandle");
        CHECK(strcmp(v, "kept") == 0, "read '%.20s'", v);
        CHECK(UnmapViewOfFile(v), "UnmapViewOfFile");
        CHECK(CloseHandle(h), "CloseHandle");
        say('C');
        return 0;
    }
    if (strcmp(scenario, "crash") == 0) {
        /* create the name, write, and wait to be killed */
        h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, name);
        CHECK(h && GetLastError() == ERROR_SUCCESS, "CreateFileMappingA");
        char *v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        CHECK(v, "MapViewOfFile");
        strcpy(v, "left behind");
        say('A');
        hear(); /* killed here */
        return 1;
    }
    if (strcmp(scenario, "exit") == 0 || strcmp(scenario, "shutdown") == 0) {
        /* create the name, write, and end without CloseHandle (after
         * vmem_shutdown, the test looks before the exit) */
        h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, name);
        CHECK(h && GetLastError() == ERROR_SUCCESS, "CreateFileMappingA");
        char *v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        CHECK(v, "MapViewOfFile");
        strcpy(v, "not closed");
        if (scenario[0] == 's') {
            vmem_shutdown();
            say('A');
            hear();
        }
        return 0;
    }
    if (strncmp(scenario, "exec-", 5) == 0) {
        /* the section was made with an execute protection (exec-er,
         * exec-erw, exec-ewc): its execute right holds here as in the
         * creator.  An execute-copy view may then be made execute-read,
         * which Windows allows only when the section itself may execute. */
        h = OpenFileMappingA(FILE_MAP_ALL_ACCESS | FILE_MAP_EXECUTE, FALSE, name);
        CHECK(h, "OpenFileMappingA");
        unsigned char *x = MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0, 0);
        CHECK(x, "MapViewOfFile(FILE_MAP_READ | FILE_MAP_EXECUTE)");
        MEMORY_BASIC_INFORMATION m;
        CHECK(VirtualQuery(x, &m, sizeof m) == sizeof m, "VirtualQuery");
        CHECK(m.Protect == PAGE_EXECUTE_READ, "view protection %#x", (unsigned)m.Protect);
        if (strcmp(scenario, "exec-erw") == 0) {
            /* the creator wrote "ret" there: it runs */
            CHECK(x[0] == 0xC3, "first byte %#x", x[0]);
            void (*fn)(void);
            memcpy(&fn, &x, sizeof fn);
            fn();
        }
        unsigned char *c = MapViewOfFile(h, FILE_MAP_COPY | FILE_MAP_EXECUTE, 0, 0, 0);
        CHECK(c, "MapViewOfFile(FILE_MAP_COPY | FILE_MAP_EXECUTE)");
        DWORD old = 0;
        CHECK(VirtualProtect(c, 4096, PAGE_EXECUTE_READ, &old), "VirtualProtect(PAGE_EXECUTE_READ)");
        CHECK(old == PAGE_EXECUTE_WRITECOPY, "old protection %#x", (unsigned)old);
        CHECK(UnmapViewOfFile(c) && UnmapViewOfFile(x) && CloseHandle(h), "closing");
        say('A');
        return 0;
    }
    if (strcmp(scenario, "pshare") == 0) {
        /* the paged section shared with the test: pages p % 3 == 1 are
         * ours, p % 3 == 0 the test's, p % 3 == 2 both processes' (the
         * test writes the first half, we the second), at the same time;
         * then every page is checked, under this process's own cap */
        uint64_t base = resident(); /* the program and the library */
        char *v = open_view(name, &h);
        MEMORY_BASIC_INFORMATION m;
        CHECK(VirtualQuery(v, &m, sizeof m) == sizeof m, "VirtualQuery");
        size_t pages = m.RegionSize / 4096;
        say('r');
        CHECK(hear() == 'g', "step g");
        for (size_t p = 0; p < pages; p++)
            if (p % 3 == 1)
                fill_words(v, p, 0, 512, 2);
            else if (p % 3 == 2)
                fill_words(v, p, 256, 512, 2);
        say('w');
        CHECK(hear() == 'v', "step v");
        for (size_t q = 0; q < pages; q++) {
            size_t p = (q * 7919) % pages; /* another order than the writes' */
            int ok = p % 3 == 0 ? words_intact(v, p, 0, 512, 1)
                   : p % 3 == 1 ? words_intact(v, p, 0, 512, 2)
                                : words_intact(v, p, 0, 256, 1) && words_intact(v, p, 256, 512, 2);
            CHECK(ok, "page %zu lost a write", p);
        }
        const char *cap = getenv("VMEM_MAX_RESIDENT");
        uint64_t limit = (cap ? strtoull(cap, NULL, 10) << 20 : 0) + (16u << 20);
        CHECK(!cap || resident() - base < limit,
              "resident %llu bytes more than before, over the cap + 16 MiB",
              (unsigned long long)(resident() - base));
        CHECK(UnmapViewOfFile(v), "UnmapViewOfFile");
        CHECK(CloseHandle(h), "CloseHandle");
        say('d');
        return 0;
    }
    if (strcmp(scenario, "psharepage") == 0) {
        /* map the test's page 0, then write it once the test has trimmed
         * its own mapping of it */
        char *v = open_view(name, &h);
        CHECK(hear() == 'a', "step a");
        CHECK(words_intact(v, 0, 0, 512, 1), "page 0 is not the test's write");
        say('m');
        CHECK(hear() == 't', "step t");
        fill_words(v, 0, 0, 512, 5);
        say('y');
        CHECK(hear() == 'q', "step q");
        CHECK(words_intact(v, 0, 0, 512, 6), "page 0 is not the test's second write");
        return 0;
    }
    if (strcmp(scenario, "pwrite") == 0) {
        /* create the name and write every page under this process's cap
         * (the pages it trims go to the slot file), then hold it */
        h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 16u << 20, name);
        CHECK(h && GetLastError() == ERROR_SUCCESS, "CreateFileMappingA");
        char *v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        CHECK(v, "MapViewOfFile");
        for (size_t p = 0; p < 4096; p++)
            fill_words(v, p, 0, 512, 1);
        CHECK(UnmapViewOfFile(v), "UnmapViewOfFile");
        say('w');
        CHECK(hear() == 'x', "step x");
        return 0;
    }
    if (strncmp(scenario, "pend-", 5) == 0) {
        /* the process ends (exit, return from main, vmem_shutdown then
         * exit) while three threads still read the view */
        h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
        CHECK(h, "OpenFileMappingA");
        end_view = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
        CHECK(end_view, "MapViewOfFile");
        MEMORY_BASIC_INFORMATION mbi;
        CHECK(VirtualQuery((const void *)end_view, &mbi, sizeof mbi) == sizeof mbi, "VirtualQuery");
        end_pages = mbi.RegionSize / 4096;
        pthread_t t;
        for (int i = 0; i < 3; i++)
            CHECK(pthread_create(&t, NULL, read_until_the_end, (void *)(uintptr_t)(i + 1)) == 0,
                  "pthread_create");
        /* the readers are well under way (most reads fault) */
        while (__atomic_load_n(&end_reads, __ATOMIC_RELAXED) < 4 * end_pages)
            ;
        say('r');
        if (strcmp(scenario, "pend-shutdown") == 0) {
            vmem_shutdown();
            exit(0);
        }
        if (strcmp(scenario, "pend-ret") == 0)
            return 0;
        exit(0);
    }
    if (strncmp(scenario, "leave-", 6) == 0) {
        /* every page of the section written, then the process ends
         * without unmapping: killed (the test sends SIGKILL), _exit, exec,
         * or a return from main; leave-live maps the first 64 pages and
         * keeps them until told */
        int live = strcmp(scenario, "leave-live") == 0;
        h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
        CHECK(h, "OpenFileMappingA");
        char *v = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, live ? 64 * 4096 : 0);
        CHECK(v, "MapViewOfFile");
        MEMORY_BASIC_INFORMATION mbi;
        CHECK(VirtualQuery(v, &mbi, sizeof mbi) == sizeof mbi, "VirtualQuery");
        size_t pages = mbi.RegionSize / 4096;
        for (size_t pg = 0; pg < pages; pg++) {
            if (live)
                CHECK(words_intact(v, pg, 0, 512, 7), "page %zu before", pg);
            else
                fill_words(v, pg, 0, 512, 7);
        }
        /* a fault of a page this process has not mapped yet (a new view):
         * the view thread serves faults in order, so the last write's
         * fault is all served (page state, count) before this one is --
         * this scenario is about ends with pages counted, not about ends
         * racing a fault being served */
        if (!live) {
            volatile char *again = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 65536);
            CHECK(again, "MapViewOfFile");
            (void)again[0];
        }
        say('w');
        if (live) {
            CHECK(hear() == 'q', "step q");
            for (size_t pg = 0; pg < pages; pg++)
                CHECK(words_intact(v, pg, 0, 512, 7), "page %zu after", pg);
            CHECK(UnmapViewOfFile(v), "UnmapViewOfFile");
            CHECK(CloseHandle(h), "CloseHandle");
            return 0;
        }
        if (strcmp(scenario, "leave-exit") == 0)
            _exit(0);
        if (strcmp(scenario, "leave-exec") == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        if (strcmp(scenario, "leave-ret") == 0)
            return 0;
        hear(); /* leave-kill: until killed */
        return 1;
    }
    fprintf(stderr, "section_peer: no scenario %s\n", scenario);
    return 2;
}
