/*
 * test_datagram.c -- datagrams received into managed memory that is not
 * present, where the kernel cannot fault it in (fault mode signal, or a
 * process without the right to kernel-mode userfaultfd faults): the
 * receive wrappers must deliver every datagram, in order, bytes exact.  A
 * datagram the kernel has dequeued is gone, so a receive that fails with
 * EFAULT and is retried would lose it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vmem.h>

#include "os/uffd.h"
#include "core/runtime.h"
#include "api/syscall_guard.h"

#define PG  ((size_t)4096)
#define MIB ((size_t)1 << 20)
#define COUNT 40
#define LEN 1000

/* As nobody, before the runtime starts; skips where nothing is guarded. */
static void setup_unprivileged(void)
{
    if (getuid() == 0) {
        cr_assert_eq(setgid(65534), 0);
        cr_assert_eq(setuid(65534), 0);
    }
    setenv("VMEM_PAGEFILE", "/var/tmp", 1);
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel: no userfaultfd, nothing is guarded");
    if (c.fault_mode == VMEM_FAULT_THREAD && (vmem_rt.uffd_have & UFFD_HAVE_KERNEL_MODE))
        cr_skip_test("this process may take kernel-mode userfaultfd faults "
                     "(vm.unprivileged_userfaultfd=1?): nothing to test");
}

static void fill(uint8_t *b, int i, size_t len)
{
    for (size_t k = 0; k < len; k++)
        b[k] = (uint8_t)(i * 37 + k * 11 + 1);
}

static void check(const uint8_t *b, int i, ssize_t got)
{
    cr_assert_eq(got, (ssize_t)LEN, "datagram %d: received %zd bytes (errno %d)", i, got, errno);
    uint8_t want[LEN];
    fill(want, i, LEN);
    /* the first byte tells which datagram arrived */
    cr_assert_eq(b[0], want[0], "datagram %d: received another one (first byte %#x, want %#x)",
                 i, b[0], want[0]);
    cr_assert_eq(memcmp(b, want, LEN), 0, "datagram %d: bytes differ", i);
}

/* A UDP socket pair on the loopback; out[0] receives, out[1] sends. */
static void udp_pair(int out[2])
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    out[0] = socket(AF_INET, SOCK_DGRAM, 0);
    out[1] = socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert(out[0] >= 0 && out[1] >= 0);
    cr_assert_eq(bind(out[0], (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(out[0], (struct sockaddr *)&a, &al), 0);
    cr_assert_eq(connect(out[1], (struct sockaddr *)&a, sizeof a), 0);
}

static void send_all(int fd)
{
    uint8_t b[LEN];
    for (int i = 0; i < COUNT; i++) {
        fill(b, i, LEN);
        cr_assert_eq(send(fd, b, LEN, 0), (ssize_t)LEN);
    }
}

enum how { RECV, RECVFROM, READ, READV, HOWS };

/* the source address recvfrom gives; 0: none (an unnamed Unix socket) */
static int want_family = AF_INET;

static ssize_t receive(int fd, enum how how, uint8_t *buf, uint8_t *meta)
{
    switch (how) {
    case RECV:
        return recv(fd, buf, LEN + 100, 0);
    case RECVFROM: {
        /* the source address and its length in managed memory too */
        socklen_t *len = (socklen_t *)(meta + 512);
        *len = sizeof(struct sockaddr_in);
        memset(meta, 0, sizeof(struct sockaddr_in));
        ssize_t r = recvfrom(fd, buf, LEN + 100, 0, (struct sockaddr *)meta, len);
        if (r >= 0 && !want_family && *len != 0)
            cr_assert_fail("recvfrom: a source address of length %u", (unsigned)*len);
        int family = ((struct sockaddr *)meta)->sa_family;
        if (r >= 0 && want_family && (*len != sizeof(struct sockaddr_in) || family != want_family))
            cr_assert_fail("recvfrom: no source address (length %u)", (unsigned)*len);
        return r;
    }
    case READ:
        return read(fd, buf, LEN + 100);
    default: {
        struct iovec v[2] = { { buf, 100 }, { buf + 100, LEN } };
        return readv(fd, v, 2);
    }
    }
}

/* The buffer's page, made not present again right before each receive
 * (what a trim racing with the wrapper does). */
static uint8_t *victim;
static int armed;

static void take_page_away(void)
{
    if (!armed)
        return;
    armed = 0;
    uintptr_t pg = (uintptr_t)victim & ~(uintptr_t)(PG - 1);
    cr_assert(VirtualFree((void *)pg, PG, MEM_DECOMMIT));
    cr_assert_eq(VirtualAlloc((void *)pg, PG, MEM_COMMIT, PAGE_READWRITE), (void *)pg);
}

static void run_raced(int fds[2])
{
    uint8_t *m = VirtualAlloc(NULL, 16 * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(m);
    send_all(fds[1]);
    syscall_guard_before_call = take_page_away;
    for (int i = 0; i < COUNT; i++) {
        enum how how = (enum how)(i % HOWS);
        /* a buffer across a page boundary, its second page the one taken */
        uint8_t *buf = m + (size_t)(i % 4) * 2 * PG + PG - 64;
        victim = buf + 64;
        armed = 1;
        ssize_t got = receive(fds[0], how, buf, m + 12 * PG);
        check(buf, i, got);
    }
    syscall_guard_before_call = NULL;
    close(fds[0]);
    close(fds[1]);
}

Test(datagram, udp_receive_racing_a_trim)
{
    setup_unprivileged();
    int fds[2];
    udp_pair(fds);
    run_raced(fds);
}

Test(datagram, unix_datagram_receive_racing_a_trim)
{
    setup_unprivileged();
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, fds), 0);
    want_family = 0;
    run_raced(fds);
}

/* Into pages the cap really pushed out. */
Test(datagram, udp_receive_into_paged_out_memory)
{
    setup_unprivileged();
    cr_assert_eq(vmem_set_max_resident(MIB), 0, "cannot start paging");
    size_t n = 4 * MIB / PG;
    uint8_t *m = VirtualAlloc(NULL, n * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(m);
    memset(m, 0x55, n * PG);
    int fds[2];
    udp_pair(fds);
    send_all(fds[1]);
    for (int i = 0; i < COUNT; i++) {
        /* the oldest pages are the trimmed ones */
        uint8_t *buf = m + (size_t)i * 3 * PG + PG - 300;
        ssize_t got = receive(fds[0], (enum how)(i % HOWS), buf, m + (size_t)(i * 3 + 2) * PG);
        check(buf, i, got);
    }
    for (int i = 0; i < COUNT; i++)
        cr_assert_eq(m[(size_t)i * 3 * PG + 100], 0x55, "a byte outside the buffers changed");
    close(fds[0]);
    close(fds[1]);
}
