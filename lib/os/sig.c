/*
 * os/sig.c -- signal masks and dispositions, and the signals the library
 * raises itself.
 *
 * libvmem exports its own sigaction, signal & co. (api/signal_interpose.c),
 * which take the place of libc's for the whole process; the kernel's
 * dispositions are set through libc's, found with dlsym(RTLD_NEXT) (which
 * keeps glibc's restorer and its SA_RESTORER handling, and a sanitizer's
 * interceptor where there is one).  They are looked up before main, so a
 * signal handler never calls dlsym.
 */
#include "os/sig.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#endif

int os_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    return pthread_sigmask(how, set, old);
}

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static const char *const next_names[OS_SIG_NEXT_COUNT] = {
    [OS_SIG_NEXT_SIGACTION] = "sigaction",     [OS_SIG_NEXT_SIGNAL] = "signal",
    [OS_SIG_NEXT_BSD_SIGNAL] = "bsd_signal",   [OS_SIG_NEXT_SSIGNAL] = "ssignal",
    [OS_SIG_NEXT_SYSV_SIGNAL] = "sysv_signal", [OS_SIG_NEXT_SIGSET] = "sigset",
    [OS_SIG_NEXT_SIGIGNORE] = "sigignore",
};
static _Atomic(void *) next_fns[OS_SIG_NEXT_COUNT];

void *os_sig_next(enum os_sig_next which)
{
    void *f = atomic_load_explicit(&next_fns[which], memory_order_acquire);
    if (!f) {
        f = dlsym(RTLD_NEXT, next_names[which]);
        atomic_store_explicit(&next_fns[which], f, memory_order_release);
    }
    return f;
}

__attribute__((constructor)) static void look_up_next(void)
{
    for (int k = 0; k < OS_SIG_NEXT_COUNT; k++)
        os_sig_next((enum os_sig_next)k);
}

int os_sigaction(int sig, const struct sigaction *sa, struct sigaction *old)
{
    sigaction_fn f = (sigaction_fn)os_sig_next(OS_SIG_NEXT_SIGACTION);
    if (!f)
        return ENOSYS;
    return f(sig, sa, old) < 0 ? errno : 0;
}

int os_sig_default(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    return os_sigaction(sig, &sa, NULL);
}

int os_raise(int sig)
{
    return raise(sig) != 0 ? errno : 0;
}

int os_sig_requeue(int sig, const siginfo_t *si)
{
    siginfo_t copy = *si;
    copy.si_signo = sig;
    if (syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), sig, &copy) < 0)
        return errno;
    return 0;
}

int sig_raise_inpage_error(uintptr_t addr)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_signo = SIGBUS;
    si.si_code = BUS_MCEERR_AR;
    si.si_addr = (void *)addr;
    si.si_addr_lsb = 12; /* one 4 KiB page */
    /* A positive si_code may be queued only to one's own thread group. */
    if (syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGBUS, &si) < 0)
        return errno;
    return 0;
}
