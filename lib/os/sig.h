/*
 * os/sig.h -- signal masks and dispositions, and the signals the library
 * raises itself.
 *
 * The return is 0 or a positive errno value.
 */
#ifndef VMEM_OS_SIG_H
#define VMEM_OS_SIG_H

#include <signal.h>
#include <stdint.h>

/* Any thread: pthread_sigmask (how SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK;
 * set or old may be NULL).  Async-signal-safe. */
int os_sigmask(int how, const sigset_t *set, sigset_t *old);

/* Any thread, async-signal-safe: libc's sigaction, the kernel's
 * disposition (sa or old may be NULL), never libvmem's own interposer. */
int os_sigaction(int sig, const struct sigaction *sa, struct sigaction *old);

/* libc's functions that libvmem's interposer (api/signal_interpose.c)
 * takes the place of, for the signals it passes through. */
enum os_sig_next {
    OS_SIG_NEXT_SIGACTION,
    OS_SIG_NEXT_SIGNAL,
    OS_SIG_NEXT_BSD_SIGNAL,
    OS_SIG_NEXT_SSIGNAL,
    OS_SIG_NEXT_SYSV_SIGNAL,
    OS_SIG_NEXT_SIGSET,
    OS_SIG_NEXT_SIGIGNORE,
    OS_SIG_NEXT_COUNT
};

/* Any thread; async-signal-safe once looked up (before main, by a
 * constructor): the next definition of `which` after libvmem's
 * (dlsym(RTLD_NEXT)), or NULL. */
void *os_sig_next(enum os_sig_next which);

/* Any thread, async-signal-safe: gives sig back its default action, as
 * signal(sig, SIG_DFL) does. */
int os_sig_default(int sig);

/* Any thread, async-signal-safe: raises sig in the calling thread (delivered
 * at once unless it is blocked). */
int os_raise(int sig);

/* Any thread, async-signal-safe: queues sig with the siginfo *si (any
 * si_code: the kernel takes it from the process itself) to the calling
 * thread, delivered at once unless sig is blocked. */
int os_sig_requeue(int sig, const siginfo_t *si);

/* Queues SIGBUS with si_code BUS_MCEERR_AR and si_addr `addr` to the calling
 * thread, as the kernel raises it for a poisoned page (an in-page error).
 * Async-signal-safe.  Delivered as soon as SIGBUS is not blocked. */
int sig_raise_inpage_error(uintptr_t addr);

#endif
