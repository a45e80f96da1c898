/*
 * guard.h -- PAGE_GUARD: a one-shot alarm on first access.
 */
#ifndef VMEM_GUARD_H
#define VMEM_GUARD_H

#include "fault/sigchain.h"

/* SIGSEGV claim: on a guard page of ours, clears PAGE_GUARD from that page
 * (restoring its base protection) and asks for the signal to be delivered
 * to the application, as Windows raises STATUS_GUARD_PAGE_VIOLATION. */
enum sigchain_verdict guard_claim(int sig, siginfo_t *si, void *uctx);

#endif
