/*
 * signal_interpose.c -- libvmem's sigaction, signal, bsd_signal, ssignal,
 * sysv_signal (__sysv_signal), sigset and sigignore, in the place of libc's
 * for the whole process: exported by libvmem.so (a DT_NEEDED library before
 * libc) and by libvmem-preload.so, which links this same file.
 *
 * For SIGSEGV and SIGBUS the program's action becomes the one libvmem's
 * handlers chain to (fault/sigchain.c), so a handler installed after
 * libvmem started never takes libvmem's faults, and the program is told the
 * action it installed before.  The signal() family is built here on that
 * sigaction with glibc's flags, because libc's versions call its internal
 * sigaction, which nothing can interpose.  Every other signal goes to
 * libc's function unchanged.
 */
#include "fault/sigchain.h"
#include "core/vmem_internal.h"
#include "os/sig.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

typedef __sighandler_t (*handler_fn)(int, __sighandler_t);

static int chained(int sig) { return sig == SIGSEGV || sig == SIGBUS; }

/* The program's action for sig through libvmem's chain: 0, or -1 with
 * errno.  This file's own callers use it rather than the exported
 * sigaction, which is the process's (a sanitizer's may come first). */
static int program_action(int sig, const struct sigaction *act, struct sigaction *old)
{
    int err = sigchain_program_action(sig, act, old);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

/* libc's sigaction, defined by its symbol name (as syscall_interpose.c
 * defines read and write): it reaches the kernel through sigchain.c and
 * lib/os/sig.c. */
VMEM_API int interpose_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
    __asm__("sigaction");
VMEM_API int interpose_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return program_action(sig, act, old);
}

/* A handler installed for sig with sa_flags, sa_mask {sig} when `self`:
 * the previous handler, or SIG_ERR. */
static __sighandler_t install(int sig, __sighandler_t h, int flags, int self)
{
    if (h == SIG_ERR) {
        errno = EINVAL;
        return SIG_ERR;
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (self)
        sigaddset(&sa.sa_mask, sig);
    if (program_action(sig, &sa, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* libc's `which` for a signal that is not chained; SIG_ERR if missing. */
static __sighandler_t next(enum os_sig_next which, int sig, __sighandler_t h)
{
    handler_fn f = (handler_fn)os_sig_next(which);
    if (!f) {
        errno = ENOSYS;
        return SIG_ERR;
    }
    return f(sig, h);
}

/* BSD semantics, as glibc's signal: the handler stays, the signal is held
 * while it runs, system calls restart. */
VMEM_API __sighandler_t signal(int sig, __sighandler_t h)
{
    return chained(sig) ? install(sig, h, SA_RESTART, 1) : next(OS_SIG_NEXT_SIGNAL, sig, h);
}

VMEM_API __sighandler_t bsd_signal(int sig, __sighandler_t h)
{
    return chained(sig) ? install(sig, h, SA_RESTART, 1) : next(OS_SIG_NEXT_BSD_SIGNAL, sig, h);
}

VMEM_API __sighandler_t ssignal(int sig, __sighandler_t h)
{
    return chained(sig) ? install(sig, h, SA_RESTART, 1) : next(OS_SIG_NEXT_SSIGNAL, sig, h);
}

/* System V semantics: reset on delivery, not held. */
VMEM_API __sighandler_t sysv_signal(int sig, __sighandler_t h)
{
    return chained(sig) ? install(sig, h, SA_RESETHAND | SA_NODEFER, 0)
                        : next(OS_SIG_NEXT_SYSV_SIGNAL, sig, h);
}

/* What signal() is under strict ISO C (-std=c11 without _DEFAULT_SOURCE). */
VMEM_API __sighandler_t __sysv_signal(int sig, __sighandler_t h)
{
    return sysv_signal(sig, h);
}

/* System V's sigset, as glibc's: SIG_HOLD blocks sig; anything else
 * installs it and unblocks sig; SIG_HOLD is returned if sig was blocked. */
VMEM_API __sighandler_t sigset(int sig, __sighandler_t h)
{
    if (!chained(sig))
        return next(OS_SIG_NEXT_SIGSET, sig, h);
    sigset_t one, was;
    sigemptyset(&one);
    sigaddset(&one, sig);
    if (h == SIG_HOLD) {
        int err = os_sigmask(SIG_BLOCK, &one, &was);
        if (err) {
            errno = err;
            return SIG_ERR;
        }
        if (sigismember(&was, sig))
            return SIG_HOLD;
        struct sigaction old;
        if (program_action(sig, NULL, &old) < 0)
            return SIG_ERR;
        return old.sa_handler;
    }
    __sighandler_t prev = install(sig, h, 0, 0);
    if (prev == SIG_ERR)
        return SIG_ERR;
    int err = os_sigmask(SIG_UNBLOCK, &one, &was);
    if (err) {
        errno = err;
        return SIG_ERR;
    }
    return sigismember(&was, sig) ? SIG_HOLD : prev;
}

VMEM_API int sigignore(int sig)
{
    if (!chained(sig)) {
        int (*f)(int) = (int (*)(int))os_sig_next(OS_SIG_NEXT_SIGIGNORE);
        if (!f) {
            errno = ENOSYS;
            return -1;
        }
        return f(sig);
    }
    return install(sig, SIG_IGN, 0, 0) == SIG_ERR ? -1 : 0;
}
