/*
 * sigchain.h -- SIGSEGV/SIGBUS handlers that take what is libvmem's and pass
 * everything else to the handler that was there before, never swallowing a
 * signal that is not ours.
 */
#ifndef VMEM_SIGCHAIN_H
#define VMEM_SIGCHAIN_H

#include <pthread.h>
#include <signal.h>

enum sigchain_verdict {
    SIGCHAIN_NOT_OURS = 0, /* pass on to the previous handler */
    SIGCHAIN_HANDLED,      /* resolved: return and retry the access */
    SIGCHAIN_DELIVER,      /* ours, but the application must see it (a guard
                              page): pass on; with no application handler
                              the process dies of the signal */
};

typedef enum sigchain_verdict (*sigchain_claim_fn)(int sig, siginfo_t *si, void *uctx);

/* Installs the chaining handler for sig (SIGSEGV or SIGBUS) with `claim`
 * deciding; remembers the previous action.  Idempotent. */
int sigchain_install(int sig, sigchain_claim_fn claim);

/* Waits until no thread is inside a claim (any signal, any thread).  A
 * claim that starts afterwards sees what the caller changed before (the
 * runtime's state, the regions): shutdown calls it before it frees what a
 * claim in flight may still use.  Never from a signal handler. */
void sigchain_quiesce(void);

/* In a forked child: the claims the parent's other threads had in flight
 * are not the child's. */
void sigchain_forget_in_child(void);

/* Re-installs the handler if the application replaced it since, keeping the
 * application's as the one chained to.  Cheap (one sigaction call). */
void sigchain_ensure(int sig);

/* The program's sigaction(sig, act, old), any thread, in a signal handler
 * too: for SIGSEGV and SIGBUS once our handler is installed, act (if any)
 * becomes the action chained to and *old (if any) is the one recorded
 * before -- SIG_DFL after its SA_RESETHAND ran; otherwise, and for every
 * other signal, libc's sigaction.  0 or an errno value. */
int sigchain_program_action(int sig, const struct sigaction *act, struct sigaction *old);

/* Its lock, for the fork handlers only (fork_paging.c: the order). */
pthread_mutex_t *sigchain_fork_lock(void);

#endif
