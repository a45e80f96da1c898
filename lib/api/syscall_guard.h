/*
 * syscall_guard.h -- the system-call wrappers' test hook.
 */
#ifndef VMEM_SYSCALL_GUARD_H
#define VMEM_SYSCALL_GUARD_H

/* Tests only: called by a guarded wrapper after it has made the buffer's
 * pages present and right before the system call, where a concurrent trim
 * could take them away again.  NULL normally. */
extern void (*syscall_guard_before_call)(void);

#endif
