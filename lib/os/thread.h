/*
 * os/thread.h -- the library's own threads.
 *
 * Every thread libvmem starts (fault threads, the working-set manager, the
 * page writer) starts here, with every signal blocked: an application
 * handler must never run on a thread of the pager.  A program that must
 * see the library's threads start (the preload library, which marks them so
 * that their mallocs never come from the managed heap) installs its creator
 * once, before the library starts any thread.
 *
 * Returns are 0 or a positive errno value.
 */
#ifndef VMEM_OS_THREAD_H
#define VMEM_OS_THREAD_H

#include <pthread.h>
#include <stdint.h>

typedef int (*os_thread_creator)(pthread_t *t, const pthread_attr_t *attr,
                                 void *(*fn)(void *), void *arg);

/* Before any os_thread_start (not thread-safe against it): creator NULL
 * restores pthread_create. */
void os_thread_set_creator(os_thread_creator creator);

/* Any thread: starts fn(arg) with every signal blocked and returns once
 * the new thread runs (fn called); the caller's mask is unchanged on
 * return. */
int os_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* A thread started by os_thread_start and not yet joined. */
int os_thread_join(pthread_t t);

/* Any thread, once per key (pthread_once): a key whose destructor runs at
 * the exit of each thread that set a value. */
int os_thread_key_create(pthread_key_t *key, void (*destructor)(void *));

/* Any thread: its value of key (its destructor then runs at its exit).  On
 * one of the first keys glibc stores without allocating. */
int os_thread_key_set(pthread_key_t key, const void *value);

/* Any thread: how many times the calling thread has slept (its voluntary
 * context switches, getrusage RUSAGE_THREAD); 0 if the kernel will not
 * say.  Each sleep ends with a wake-up, so the difference across a wait is
 * the wake-ups the thread had in it. */
uint64_t os_thread_sleeps(void);

#endif
