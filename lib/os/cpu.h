/*
 * os/cpu.h -- the CPUs the process may run on, and pinning a thread to one.
 */
#ifndef VMEM_OS_CPU_H
#define VMEM_OS_CPU_H

/* Any thread: the numbers of up to `max` CPUs this process may run on, in
 * cpus; returns how many (0 if the kernel would not say). */
int os_cpus_allowed(long *cpus, int max);

/* Any thread: the number of CPUs online, at least 1. */
long os_cpus_online(void);

/* The calling thread: runs only on CPU `cpu` from now on.  0 or errno. */
int os_pin_to_cpu(long cpu);

#endif
