/*
 * vmem -- the command-line front end: one binary, one sub-command per job.
 * Each sub-command lives in its own file (tools/cmd_*.c) and is listed in
 * commands[] below.
 */
#include "vmem_cmd.h"

#include <stdio.h>
#include <string.h>

static const struct vmem_cmd *const commands[] = {
    VMEM_COMMANDS
    NULL,
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vmem COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; commands[i]; i++)
        fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->about);
    fprintf(f, "\n'vmem COMMAND --help' describes each.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; commands[i]; i++)
        if (!strcmp(argv[1], commands[i]->name))
            return commands[i]->main(argc - 1, argv + 1);
    fprintf(stderr, "vmem: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
