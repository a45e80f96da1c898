/*
 * sigchain.c -- chaining fault-signal handlers.
 *
 * Only SIGSEGV and SIGBUS are handled, and of them only what the kernel
 * raised for an access (si_code > 0) may be libvmem's; everything else,
 * a signal sent with kill, tgkill, sigqueue or raise above all, gets what
 * the kernel would have done: the application's handler, called as the
 * kernel would have (sa_mask, SA_NODEFER, SA_RESETHAND, SA_SIGINFO), or
 * its SIG_IGN, or the default action -- the process dies of the signal.
 *
 * Our handlers stay first: the program's sigaction, signal & co. for these
 * two signals (api/signal_interpose.c, sigchain_program_action) record its
 * action as the one chained to and report the one recorded before, as the
 * kernel would have, so the program sees exactly what it installed --
 * SIG_DFL and SIG_IGN included: a fault we do not claim then kills.
 *
 * The chained action is written only under chain_lock (never taken in the
 * handler), with every signal blocked, and published through a sequence
 * count: the handler, in any thread, copies it until it read one version
 * whole.
 *
 * Our handler runs with every asynchronous signal blocked: an application
 * handler (a timer) that interrupted it and touched managed memory would
 * fault with the fault signal still blocked, and the kernel kills a thread
 * that faults so.  The signals are delivered when the handler returns.  An
 * application handler we pass a signal on to runs with the mask it asked
 * for instead.
 */
#include "fault/sigchain.h"
#include "core/mutex.h"
#include "core/runtime.h"
#include "os/sig.h"
#include "os/time.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <ucontext.h>

#define PREV_WORDS ((sizeof(struct sigaction) + sizeof(unsigned long) - 1) / sizeof(unsigned long))

struct chain {
    sigchain_claim_fn claim;
    /* the application's action, word by word; seq is odd while it changes */
    _Atomic unsigned seq;
    _Atomic unsigned long prev[PREV_WORDS];
    /* the application's handler had SA_RESETHAND and ran: its action is now
     * SIG_DFL, as the kernel would have made it */
    _Atomic int prev_reset;
    _Atomic int installed;
};

static struct chain chains[2]; /* [0] SIGSEGV, [1] SIGBUS */
static _Atomic unsigned claims_in_flight; /* threads inside a claim */
static pthread_mutex_t chain_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *sigchain_fork_lock(void) { return &chain_lock; }

static struct chain *chain_of(int sig)
{
    return sig == SIGSEGV ? &chains[0] : sig == SIGBUS ? &chains[1] : NULL;
}

/* chain_lock with every signal blocked: a handler of this thread that calls
 * sigaction cannot come in while it is held. */
static void lock(sigset_t *saved)
{
    sigset_t all;
    sigfillset(&all);
    os_sigmask(SIG_BLOCK, &all, saved);
    mutex_take("chain_lock", &chain_lock);
}

static void unlock(const sigset_t *saved)
{
    mutex_give("chain_lock", &chain_lock);
    os_sigmask(SIG_SETMASK, saved, NULL);
}

/* The chained action, read whole (any thread, in the handler too). */
static void prev_read(struct chain *c, struct sigaction *out)
{
    unsigned long w[PREV_WORDS];
    for (;;) {
        unsigned s1 = atomic_load_explicit(&c->seq, memory_order_acquire);
        if (s1 & 1)
            continue; /* a writer in another thread, signals blocked: brief */
        /* acquire loads of the words (no fence: TSan does not model
         * fences): a word from a newer write brings its odd seq with it */
        for (size_t k = 0; k < PREV_WORDS; k++)
            w[k] = atomic_load_explicit(&c->prev[k], memory_order_acquire);
        if (atomic_load_explicit(&c->seq, memory_order_relaxed) == s1)
            break;
    }
    memcpy(out, w, sizeof(*out));
}

/* Under chain_lock: a new chained action (its SA_RESETHAND not yet run). */
static void prev_write(struct chain *c, const struct sigaction *sa)
{
    unsigned long w[PREV_WORDS] = { 0 };
    memcpy(w, sa, sizeof(*sa));
    unsigned s = atomic_load_explicit(&c->seq, memory_order_relaxed);
    atomic_store_explicit(&c->seq, s + 1, memory_order_relaxed);
    for (size_t k = 0; k < PREV_WORDS; k++)
        atomic_store_explicit(&c->prev[k], w[k], memory_order_release);
    atomic_store_explicit(&c->prev_reset, 0, memory_order_relaxed);
    atomic_store_explicit(&c->seq, s + 2, memory_order_release);
}

/* Calls the application's handler p with the signal mask it would have had
 * had the kernel called it: the interrupted code's, plus its sa_mask, plus
 * the signal unless SA_NODEFER. */
static void call_previous(const struct sigaction *p, int sig, siginfo_t *si, void *uctx)
{
    sigset_t mask, ours;
    if (uctx)
        mask = ((ucontext_t *)uctx)->uc_sigmask;
    else
        os_sigmask(SIG_SETMASK, NULL, &mask);
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&p->sa_mask, s) == 1)
            sigaddset(&mask, s);
    if (!(p->sa_flags & SA_NODEFER))
        sigaddset(&mask, sig);
    os_sigmask(SIG_SETMASK, &mask, &ours);
    unsigned char blocked = as_lock_sigs_blocked;
    as_lock_sigs_blocked = 0;
    if (p->sa_flags & SA_SIGINFO)
        p->sa_sigaction(sig, si, uctx);
    else
        p->sa_handler(sig);
    as_lock_sigs_blocked = blocked;
    os_sigmask(SIG_SETMASK, &ours, NULL);
}

/* What the kernel would have done with the signal had libvmem not been
 * there: the application's handler, or its SIG_IGN for a signal sent by a
 * process (a fault the kernel raised kills even when ignored), or the
 * default action.  `sent`: si_code <= 0 (kill, tgkill, sigqueue, raise). */
static void forward(struct chain *c, int sig, siginfo_t *si, void *uctx, int sent)
{
    struct sigaction p;
    prev_read(c, &p);
    int dfl = atomic_load_explicit(&c->prev_reset, memory_order_relaxed) || p.sa_handler == SIG_DFL ||
              ((p.sa_flags & SA_SIGINFO) && !p.sa_sigaction);
    if (!dfl && p.sa_handler == SIG_IGN) {
        if (sent)
            return;
        dfl = 1;
    }
    if (!dfl) {
        if (p.sa_flags & SA_RESETHAND)
            atomic_store(&c->prev_reset, 1); /* before the call, as the kernel resets it */
        call_previous(&p, sig, si, uctx);
        return;
    }
    /* The default action: the process dies of this signal, with this
     * siginfo (the fault address, or the sender), dumping core where the
     * system says so.  Queued again to this thread and unblocked, it is
     * delivered before this returns; returning instead would drop a sent
     * signal, and a fault not retried would never come back. */
    os_sig_default(sig);
    if (os_sig_requeue(sig, si) != 0)
        os_raise(sig); /* the same death, without the original siginfo */
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    os_sigmask(SIG_UNBLOCK, &one, NULL);
}

static void handler(int sig, siginfo_t *si, void *uctx)
{
    int saved_errno = errno;
    unsigned char blocked = as_lock_sigs_blocked;
    as_lock_sigs_blocked = 1; /* sa_mask blocks the asynchronous signals */
    struct chain *c = chain_of(sig);
    /* Only a fault the kernel raised can be libvmem's: a signal a process
     * sent (si_code <= 0) is the application's, whatever its si_addr says. */
    int sent = si->si_code <= 0;
    enum sigchain_verdict v = SIGCHAIN_NOT_OURS;
    if (!sent && c->claim) {
        /* counted before the claim reads the runtime's state: shutdown
         * changes the state, then waits for the count (sigchain_quiesce) */
        atomic_fetch_add(&claims_in_flight, 1);
        atomic_thread_fence(memory_order_seq_cst);
        v = c->claim(sig, si, uctx);
        atomic_fetch_sub(&claims_in_flight, 1);
    }
    if (v != SIGCHAIN_HANDLED)
        forward(c, sig, si, uctx, sent);
    as_lock_sigs_blocked = blocked;
    errno = saved_errno;
}

static int install_locked(int sig, struct chain *c)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    /* SIGSEGV on the alternate stack, for a program that handles its
     * stack's overflow.  SIGBUS (our faults in fault mode signal) on the
     * thread's stack: the program's alternate stack may be managed memory
     * itself (python's faulthandler allocates it with PyMem_Malloc), and in
     * fault mode signal the kernel cannot write a signal frame to a page
     * not installed -- the process would die instead of paging it in. */
    sa.sa_flags = SA_SIGINFO | SA_RESTART | (sig == SIGSEGV ? SA_ONSTACK : 0);
    /* every signal but the synchronous ones (see above) */
    sigfillset(&sa.sa_mask);
    sigdelset(&sa.sa_mask, SIGSEGV);
    sigdelset(&sa.sa_mask, SIGBUS);
    sigdelset(&sa.sa_mask, SIGILL);
    sigdelset(&sa.sa_mask, SIGFPE);
    sigdelset(&sa.sa_mask, SIGTRAP);
    sigdelset(&sa.sa_mask, SIGSYS);
    int err = os_sigaction(sig, NULL, &old);
    if (err)
        return err;
    if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == handler)
        return 0;
    prev_write(c, &old);
    if ((err = os_sigaction(sig, &sa, NULL)) != 0)
        return err;
    atomic_store(&c->installed, 1);
    return 0;
}

void sigchain_quiesce(void)
{
    atomic_thread_fence(memory_order_seq_cst); /* the caller's state change, then the count */
    while (atomic_load(&claims_in_flight))
        os_nap_ns(20 * 1000);
}

void sigchain_forget_in_child(void)
{
    atomic_store(&claims_in_flight, 0);
}

int sigchain_install(int sig, sigchain_claim_fn claim)
{
    struct chain *c = chain_of(sig);
    if (!c)
        return EINVAL;
    sigset_t saved;
    lock(&saved);
    c->claim = claim;
    int err = install_locked(sig, c);
    unlock(&saved);
    return err;
}

void sigchain_ensure(int sig)
{
    struct chain *c = chain_of(sig);
    if (!c || !atomic_load(&c->installed))
        return;
    sigset_t saved;
    lock(&saved);
    install_locked(sig, c);
    unlock(&saved);
}

int sigchain_program_action(int sig, const struct sigaction *act, struct sigaction *old)
{
    struct chain *c = chain_of(sig);
    if (!c)
        return os_sigaction(sig, act, old);
    /* the caller's structures are copied with no lock held: they may be
     * managed memory that needs a fault */
    struct sigaction in, out;
    if (act)
        in = *act;
    memset(&out, 0, sizeof(out));
    sigset_t saved;
    int err = 0;
    lock(&saved);
    if (atomic_load(&c->installed)) {
        prev_read(c, &out);
        if (atomic_load(&c->prev_reset))
            out.sa_handler = SIG_DFL;
        if (act)
            prev_write(c, &in);
    } else {
        /* libvmem not started (or this signal not used): the kernel's */
        err = os_sigaction(sig, act ? &in : NULL, &out);
    }
    unlock(&saved);
    if (err)
        return err;
    if (old)
        *old = out;
    return 0;
}
