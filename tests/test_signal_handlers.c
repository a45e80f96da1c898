/*
 * test_signal_handlers.c -- an application signal handler (a 10 kHz timer,
 * as a profiler has) that touches managed memory which needs a fault, while
 * the interrupted thread is inside libvmem: in its SIGBUS handler (fault
 * mode signal) or in an API call that holds or waits for the address-space
 * lock.  Every access must be served and every byte must read back.
 */
#include <memoryapi.h>
#include <vmem.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#define HPAGES 512      /* 2 MiB the handler writes to */
#define MPAGES 512      /* 2 MiB the main thread pages through */
#define ITERATIONS 500

static unsigned char *hmem, *mmem, *api;
static volatile uint32_t ticks[HPAGES];
static volatile uint32_t tick;

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    uint32_t k = tick++ % HPAGES;
    /* a page the cap has most likely pushed out: a fault */
    volatile uint32_t *w = (volatile uint32_t *)(hmem + (size_t)k * PG + 16);
    *w = *w + 1;
    ticks[k]++;
    errno = saved;
}

static int scenario(void *arg)
{
    int use_cap = (int)(uintptr_t)arg;
    if (use_cap && vmem_set_max_resident(MIB))
        return 2;
    hmem = VirtualAlloc(NULL, HPAGES * PG, MEM_COMMIT, PAGE_READWRITE);
    mmem = VirtualAlloc(NULL, MPAGES * PG, MEM_COMMIT, PAGE_READWRITE);
    api = VirtualAlloc(NULL, 64 * PG, MEM_RESERVE, PAGE_READWRITE);
    if (!hmem || !mmem || !api)
        return 3;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL))
        return 4;
    struct itimerval it = { { 0, 100 }, { 0, 100 } };
    if (setitimer(ITIMER_REAL, &it, NULL))
        return 5;
    /* at least ITERATIONS rounds, and until 300 timer signals have come
     * (the timer keeps firing: this ends however fast the rounds are) */
    for (uint32_t i = 0; i < ITERATIONS || tick < 300; i++) {
        /* faults of this thread (SIGBUS handler in signal mode) ... */
        uint32_t k = (i * 7) % MPAGES;
        ((volatile uint32_t *)(mmem + (size_t)k * PG))[1] = i;
        if (((volatile uint32_t *)(mmem + (size_t)k * PG))[1] != i)
            return 6;
        /* ... and API calls taking the lock exclusive */
        size_t a = (i % 16) * 4 * PG;
        DWORD old;
        if (VirtualAlloc(api + a, 4 * PG, MEM_COMMIT, PAGE_READWRITE) != api + a ||
            !VirtualProtect(api + a, 4 * PG, PAGE_READONLY, &old) ||
            !VirtualFree(api + a, 4 * PG, MEM_DECOMMIT))
            return 7;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    uint32_t total = 0;
    for (size_t k = 0; k < HPAGES; k++) {
        uint32_t got = *(volatile uint32_t *)(hmem + k * PG + 16);
        if (got != ticks[k]) {
            fprintf(stderr, "page %zu: the handler's count %u reads back as %u\n", k,
                    (unsigned)ticks[k], (unsigned)got);
            return 8;
        }
        total += ticks[k];
    }
    if (total < 300) {
        fprintf(stderr, "only %u of the timer signals were counted\n", (unsigned)total);
        return 9;
    }
    return 0;
}

Test(signal_handlers, timer_handler_touches_paged_memory)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    int cap = c.fault_mode != VMEM_FAULT_KERNEL;
    thread_run(scenario, (void *)(uintptr_t)cap,
              "a 10 kHz SIGALRM handler touching paged memory");
}

/* Without a cap: the handler's accesses are demand-zero faults only. */
Test(signal_handlers, timer_handler_touches_fresh_memory)
{
    thread_run(scenario, (void *)(uintptr_t)0, "a 10 kHz SIGALRM handler touching fresh memory");
}
