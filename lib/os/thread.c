/*
 * os/thread.c -- the library's own threads.
 */
#include "os/thread.h"

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

static os_thread_creator creator = pthread_create;

void os_thread_set_creator(os_thread_creator c)
{
    creator = c ? c : pthread_create;
}

struct start {
    void *(*fn)(void *);
    void *arg;
    int running;
};

static void *trampoline(void *p)
{
    struct start *s = p;
    void *(*fn)(void *) = s->fn;
    void *arg = s->arg;
    __atomic_store_n(&s->running, 1, __ATOMIC_RELEASE); /* s is gone after this */
    return fn(arg);
}

int os_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    struct start s = { fn, arg, 0 };
    sigset_t all, old;
    sigfillset(&all);
    /* The new thread inherits the mask: blocked from its first instruction,
     * so no signal can reach it before it could block them itself. */
    int e = pthread_sigmask(SIG_SETMASK, &all, &old);
    if (e)
        return e;
    e = creator(t, NULL, trampoline, &s);
    int r = pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* Returns once the thread runs: a thread still starting can hold an
     * allocator's lock (ASan's, whose fork does not take it), and a child
     * the program forks at that moment would hang in its first malloc. */
    while (!e && !__atomic_load_n(&s.running, __ATOMIC_ACQUIRE))
        sched_yield();
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
