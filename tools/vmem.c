/*
 * vmem -- the command-line front end: one binary, one sub-command per job.
 * Each sub-command lives in its own file (tools/cmd_*.c) and is listed in
 * commands[] below; they all read their options with tools/opt.h.
 */
#include "vmem_cmd.h"

#include <stdio.h>
#include <string.h>

#ifndef VMEM_VERSION
#error "VMEM_VERSION (meson's project version) is defined by tools/meson.build"
#endif

static const struct vmem_cmd *const commands[] = {
    VMEM_COMMANDS
    NULL,
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vmem COMMAND [ARGS...]\n"
               "       vmem help [COMMAND]\n"
               "       vmem --version\n"
               "\ncommands:\n");
    for (size_t i = 0; commands[i]; i++)
        fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->about);
    fprintf(f, "\n'vmem COMMAND --help' (or 'vmem help COMMAND') describes each; sizes\n"
               "are bytes or take a binary unit: 4096, 64K, 1.5M, 256MiB, 2G.\n");
}

static const struct vmem_cmd *find(const char *name)
{
    for (size_t i = 0; commands[i]; i++)
        if (!strcmp(name, commands[i]->name))
            return commands[i];
    return NULL;
}

static int unknown(const char *name)
{
    fprintf(stderr, "vmem: unknown command '%s'\ntry 'vmem --help'\n", name);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *a = argv[1];
    if (!strcmp(a, "--help") || !strcmp(a, "-h") || (!strcmp(a, "help") && argc == 2)) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(a, "--version") || !strcmp(a, "version")) {
        if (argc > 2) {
            fprintf(stderr, "vmem: '%s' takes no arguments\n", a);
            return 2;
        }
        printf("vmem (libvmem) %s\n", VMEM_VERSION);
        return 0;
    }
    if (!strcmp(a, "help")) {
        /* vmem help CMD = vmem CMD --help */
        if (argc > 3) {
            fprintf(stderr, "vmem: help takes one command name\ntry 'vmem --help'\n");
            return 2;
        }
        const struct vmem_cmd *c = find(argv[2]);
        if (!c)
            return unknown(argv[2]);
        char *hargv[] = { argv[2], "--help", NULL };
        return c->main(2, hargv);
    }
    if (a[0] == '-') {
        fprintf(stderr, "vmem: unknown option '%s'\ntry 'vmem --help'\n", a);
        return 2;
    }
    const struct vmem_cmd *c = find(a);
    if (!c)
        return unknown(a);
    return c->main(argc - 1, argv + 1);
}
