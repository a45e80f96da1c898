/* opt.c -- the vmem command's option parser (opt.h). */
#include "opt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <vmem.h>

void opt_init(struct opt_parser *p, const char *cmd, const struct opt_def *defs, int argc,
              char **argv, int stop_at_operand)
{
    memset(p, 0, sizeof(*p));
    p->cmd = cmd;
    p->defs = defs;
    p->argc = argc;
    p->argv = argv;
    p->stop_at_operand = stop_at_operand;
    p->next = 1;
}

void opt_error(const struct opt_parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vmem %s: ", p->cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry 'vmem %s --help'\n", p->cmd);
}

static int find_long(const struct opt_parser *p, const char *name, size_t len)
{
    for (int i = 0; p->defs[i].name; i++)
        if (strlen(p->defs[i].name) == len && !strncmp(p->defs[i].name, name, len))
            return i;
    return -1;
}

static int find_short(const struct opt_parser *p, char c)
{
    for (int i = 0; p->defs[i].name; i++)
        if (p->defs[i].short_name == c)
            return i;
    return -1;
}

/* The rest of a bundle "-xyz" from x on. */
static int next_short(struct opt_parser *p)
{
    char c = *p->bundle++;
    snprintf(p->name, sizeof(p->name), "-%c", c);
    int k = find_short(p, c);
    if (k < 0) {
        p->bundle = NULL;
        opt_error(p, "unknown option '-%c'", c);
        return OPT_ERROR;
    }
    if (p->defs[k].arg == OPT_VALUE) {
        if (*p->bundle) {
            p->value = p->bundle; /* -oFILE */
        } else if (p->next < p->argc) {
            p->value = p->argv[p->next++];
        } else {
            p->bundle = NULL;
            opt_error(p, "option '-%c' (--%s) needs a value", c, p->defs[k].name);
            return OPT_ERROR;
        }
        p->bundle = NULL;
    } else if (!*p->bundle) {
        p->bundle = NULL;
    }
    return k;
}

int opt_next(struct opt_parser *p)
{
    p->value = NULL;
    if (p->bundle)
        return next_short(p);
    if (p->next >= p->argc)
        return OPT_END;
    const char *a = p->argv[p->next];
    if (p->operands_only || a[0] != '-' || !a[1]) {
        if (p->stop_at_operand)
            return OPT_END;
        p->value = a;
        p->next++;
        return OPT_OPERAND;
    }
    p->next++;
    if (!strcmp(a, "--")) {
        if (p->stop_at_operand)
            return OPT_END;
        p->operands_only = 1;
        return opt_next(p);
    }
    if (a[1] != '-') {
        p->bundle = a + 1;
        return next_short(p);
    }
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    snprintf(p->name, sizeof(p->name), "--%.*s", (int)(len < 60 ? len : 60), name);
    int k = find_long(p, name, len);
    if (k < 0) {
        opt_error(p, "unknown option '%.*s'", (int)(len + 2), a);
        return OPT_ERROR;
    }
    switch (p->defs[k].arg) {
    case OPT_FLAG:
        if (eq) {
            opt_error(p, "option '%s' takes no value", p->name);
            return OPT_ERROR;
        }
        break;
    case OPT_OPTIONAL:
        p->value = eq ? eq + 1 : NULL;
        break;
    case OPT_VALUE:
        if (eq) {
            p->value = eq + 1;
        } else if (p->next < p->argc) {
            p->value = p->argv[p->next++];
        } else {
            opt_error(p, "option '%s' needs a value", p->name);
            return OPT_ERROR;
        }
        break;
    }
    return k;
}

static void human(uint64_t v, char *out, size_t len)
{
    static const char units[] = "BKMGT";
    int u = 0;
    while (u < 4 && v && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    snprintf(out, len, "%" PRIu64 "%s", v, u ? (char[]){ units[u], 0 } : "");
}

int opt_size(const struct opt_parser *p, uint64_t min, uint64_t max, const char *zero_why,
             uint64_t *out)
{
    uint64_t v;
    int err = vmem_parse_size(p->value, &v);
    if (err) {
        opt_error(p, "%s '%s': %s", p->name, p->value,
                  err == ERANGE ? "too large" :
                  "not a size (bytes, or with a unit: 4096, 64K, 1.5M, 256MiB, 2G)");
        return -1;
    }
    if (v == 0 && zero_why) {
        opt_error(p, "%s '%s': %s", p->name, p->value, zero_why);
        return -1;
    }
    if (v < min || v > max) {
        char lo[32], hi[32];
        human(min, lo, sizeof(lo));
        human(max, hi, sizeof(hi));
        opt_error(p, "%s '%s': must be from %s to %s", p->name, p->value, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int opt_uint(const struct opt_parser *p, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    int err = vmem_parse_uint(p->value, 0, UINT64_MAX, &v);
    if (err) {
        opt_error(p, "%s '%s': %s", p->name, p->value,
                  err == ERANGE ? "too large" : "not a decimal number");
        return -1;
    }
    if (v < min || v > max) {
        opt_error(p, "%s '%s': must be from %" PRIu64 " to %" PRIu64, p->name, p->value, min,
                  max);
        return -1;
    }
    *out = v;
    return 0;
}

int opt_output(const struct opt_parser *p, const char *path)
{
    if (!*path) {
        opt_error(p, "%s: no file name", p->name);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
        close(fd);
        unlink(path);
        return 0;
    }
    if (errno == EEXIST)
        fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "vmem %s: %s %s: %s\n", p->cmd, p->name, path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}
