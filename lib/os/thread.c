/*
 * os/thread.c -- the library's own threads.
 */
#include "os/thread.h"

#include <signal.h>
#include <sys/resource.h>

static os_thread_creator creator = pthread_create;

void os_thread_set_creator(os_thread_creator c)
{
    creator = c ? c : pthread_create;
}

int os_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    /* The new thread inherits the mask: blocked from its first instruction,
     * so no signal can reach it before it could block them itself. */
    int e = pthread_sigmask(SIG_SETMASK, &all, &old);
    if (e)
        return e;
    e = creator(t, NULL, fn, arg);
    int r = pthread_sigmask(SIG_SETMASK, &old, NULL);
    return e ? e : r;
}

int os_thread_join(pthread_t t)
{
    return pthread_join(t, NULL);
}

int os_thread_key_create(pthread_key_t *key, void (*destructor)(void *))
{
    return pthread_key_create(key, destructor);
}

int os_thread_key_set(pthread_key_t key, const void *value)
{
    return pthread_setspecific(key, value);
}

uint64_t os_thread_sleeps(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) < 0)
        return 0;
    return (uint64_t)ru.ru_nvcsw;
}
