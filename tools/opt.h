/*
 * opt.h -- the one option parser of every `vmem` sub-command, so that they
 * all read their arguments alike:
 *   --name=VALUE and --name VALUE; -x VALUE and -xVALUE for the options
 *   with a short name; flags may be bundled (-hd); an optional value only
 *   with '=' (--report=FILE); "--" ends the options; "-" alone is an
 *   operand.  Long names are matched exactly (no abbreviations).
 * An unknown option, a missing value or a value given to a flag is an error
 * of one line naming the option, followed by "try 'vmem CMD --help'".
 * Sizes and numbers go through vmem_parse_size/vmem_parse_uint (<vmem.h>),
 * the grammar of the VMEM_* variables.
 */
#ifndef VMEM_OPT_H
#define VMEM_OPT_H

#include <stddef.h>
#include <stdint.h>

enum opt_arg {
    OPT_FLAG,     /* no value */
    OPT_VALUE,    /* a value: --name=V, --name V, -x V, -xV */
    OPT_OPTIONAL, /* a value only as --name=V */
};

struct opt_def {
    const char *name;  /* long name without "--" */
    char short_name;   /* 0: none */
    enum opt_arg arg;
};

/* opt_next's results besides an index into defs[] */
#define OPT_END     (-1) /* no more options; operands from p->next on */
#define OPT_OPERAND (-2) /* p->value is an operand (only without stop_at_operand) */
#define OPT_ERROR   (-3) /* the error was printed */

struct opt_parser {
    const char *cmd;            /* the sub-command, for messages */
    const struct opt_def *defs; /* terminated by a NULL name */
    int argc;
    char **argv;                /* argv[0] is the sub-command's name */
    int stop_at_operand;        /* the first operand ends the options (run, trace) */
    /* state */
    int next;                   /* the next argv index to read */
    int operands_only;          /* after "--" */
    const char *bundle;         /* the rest of a short-option bundle */
    const char *value;          /* the value of the option or operand returned */
    char name[64];              /* the option as written: "--policy", "-o" */
};

void opt_init(struct opt_parser *p, const char *cmd, const struct opt_def *defs, int argc,
              char **argv, int stop_at_operand);

/* The next option (its index in defs), OPT_OPERAND, OPT_END or OPT_ERROR. */
int opt_next(struct opt_parser *p);

/* "vmem CMD: MESSAGE" and "try 'vmem CMD --help'" on stderr. */
void opt_error(const struct opt_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The value of the option just returned as a size of at least min bytes
 * (0 < min: zero_why says why 0 is refused, e.g. "0 is not a cap"), at
 * most max.  0, or -1 after printing an error that names the option. */
int opt_size(const struct opt_parser *p, uint64_t min, uint64_t max, const char *zero_why,
             uint64_t *out);

/* The value as a decimal number in [min, max]; 0 or -1 (error printed). */
int opt_uint(const struct opt_parser *p, uint64_t min, uint64_t max, uint64_t *out);

/* path, the value of an output option (p->name), can be written: it is
 * created and removed again if it did not exist, else opened for writing
 * without being changed.  Checked before any work, so that an output is
 * not refused only after minutes of it.  0, or -1 after an error naming the
 * option and the path. */
int opt_output(const struct opt_parser *p, const char *path);

#endif
