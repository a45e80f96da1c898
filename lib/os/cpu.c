/*
 * os/cpu.c -- CPU affinity.
 */
#include "os/cpu.h"

#include <unistd.h>

#include <pthread.h>
#include <sched.h>

int os_cpus_allowed(long *cpus, int max)
{
    cpu_set_t allowed;
    int n = 0;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
        for (int c = 0; c < CPU_SETSIZE && n < max; c++)
            if (CPU_ISSET(c, &allowed))
                cpus[n++] = c;
    return n;
}

int os_pin_to_cpu(long cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

long os_cpus_online(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}
