/* vmem_cmd.h -- the sub-commands of the vmem tool. */
#ifndef VMEM_CMD_H
#define VMEM_CMD_H

struct vmem_cmd {
    const char *name;
    const char *about; /* one line for `vmem --help` */
    int (*main)(int argc, char **argv); /* argv[0] is the command's name */
};

extern const struct vmem_cmd vmem_cmd_run;
extern const struct vmem_cmd vmem_cmd_sim;
extern const struct vmem_cmd vmem_cmd_trace;
extern const struct vmem_cmd vmem_cmd_bench;
extern const struct vmem_cmd vmem_cmd_stat;
extern const struct vmem_cmd vmem_cmd_top;
extern const struct vmem_cmd vmem_cmd_map;

/* One line per sub-command, each defined in tools/cmd_NAME.c. */
#define VMEM_COMMANDS \
    &vmem_cmd_bench,  \
    &vmem_cmd_map,    \
    &vmem_cmd_run,    \
    &vmem_cmd_sim,    \
    &vmem_cmd_stat,   \
    &vmem_cmd_top,    \
    &vmem_cmd_trace,

#endif
