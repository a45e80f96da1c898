/*
 * os/sig.c -- signal masks and dispositions, and the signals the library
 * raises itself.
 */
#include "os/sig.h"

#include <errno.h>
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

int os_sigaction(int sig, const struct sigaction *sa, struct sigaction *old)
{
    return sigaction(sig, sa, old) < 0 ? errno : 0;
}

int os_sig_default(int sig)
{
    return signal(sig, SIG_DFL) == SIG_ERR ? errno : 0;
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
