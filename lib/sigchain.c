/*
 * sigchain.c -- chaining fault-signal handlers.
 *
 * Only SIGSEGV and SIGBUS are handled.  The saved previous action of each is
 * written before our handler is installed, and only under chain_lock (an
 * API-call lock, never taken in the handler), so the handler reads a
 * consistent record.
 */
#include "sigchain.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

struct chain {
    sigchain_claim_fn claim;
    struct sigaction prev;
    int installed;
};

static struct chain chains[2]; /* [0] SIGSEGV, [1] SIGBUS */
static pthread_mutex_t chain_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *sigchain_fork_lock(void) { return &chain_lock; }

static struct chain *chain_of(int sig)
{
    return sig == SIGSEGV ? &chains[0] : sig == SIGBUS ? &chains[1] : NULL;
}

static void forward(struct chain *c, int sig, siginfo_t *si, void *uctx, int must_see)
{
    const struct sigaction *p = &c->prev;
    if (p->sa_flags & SA_SIGINFO) {
        if (p->sa_sigaction) {
            p->sa_sigaction(sig, si, uctx);
            return;
        }
    } else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
        p->sa_handler(sig);
        return;
    }
    /* No application handler: restore the default action.  Returning
     * retries the faulting access, which faults again and kills the
     * process with the true fault address.  A guard page is accessible now,
     * so for it the signal is raised instead (delivered once we return). */
    signal(sig, SIG_DFL);
    if (must_see)
        raise(sig);
}

static void handler(int sig, siginfo_t *si, void *uctx)
{
    int saved_errno = errno;
    struct chain *c = chain_of(sig);
    enum sigchain_verdict v = c->claim ? c->claim(sig, si, uctx) : SIGCHAIN_NOT_OURS;
    if (v != SIGCHAIN_HANDLED)
        forward(c, sig, si, uctx, v == SIGCHAIN_DELIVER);
    errno = saved_errno;
}

static int install_locked(int sig, struct chain *c)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, NULL, &old) < 0)
        return errno;
    if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == handler)
        return 0;
    c->prev = old;
    if (sigaction(sig, &sa, NULL) < 0)
        return errno;
    c->installed = 1;
    return 0;
}

int sigchain_install(int sig, sigchain_claim_fn claim)
{
    struct chain *c = chain_of(sig);
    if (!c)
        return EINVAL;
    pthread_mutex_lock(&chain_lock);
    c->claim = claim;
    int err = install_locked(sig, c);
    pthread_mutex_unlock(&chain_lock);
    return err;
}

void sigchain_ensure(int sig)
{
    struct chain *c = chain_of(sig);
    if (!c || !c->installed)
        return;
    pthread_mutex_lock(&chain_lock);
    install_locked(sig, c);
    pthread_mutex_unlock(&chain_lock);
}
