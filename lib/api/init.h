/*
 * init.h -- starting the runtime on first use (init.c).  vmem_init,
 * vmem_shutdown and the other public calls of init.c are declared in
 * <vmem.h>.
 */
#ifndef VMEM_INIT_H
#define VMEM_INIT_H

/* Starts the runtime from the environment if it is not running.  Returns 0
 * or the errno of the failure (which was also reported on stderr). */
int runtime_ensure(void);

#endif
