/*
 * trace_text.c -- the text trace format: one page number per line, decimal
 * or 0x hex, optionally prefixed by "R " or "W " (read/write, not kept);
 * blank lines and lines starting with '#' are ignored.
 */
#include "trace.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int trace_text_line(const char *line, uint64_t out[1], int *n, char *why, size_t whylen)
{
    *n = 0;
    const char *s = line + strspn(line, " \t");
    if (!*s || *s == '#')
        return 0;
    if ((s[0] == 'R' || s[0] == 'W' || s[0] == 'r' || s[0] == 'w') &&
        (s[1] == ' ' || s[1] == '\t'))
        s += 1 + strspn(s + 1, " \t");
    /* the token: up to white space */
    size_t toklen = strcspn(s, " \t");
    const char *rest = s + toklen + strspn(s + toklen, " \t");
    int base = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10;
    const char *digits = base == 16 ? s + 2 : s;
    size_t ndigits = toklen - (size_t)(digits - s);
    int ok = ndigits > 0 && !*rest;
    for (size_t i = 0; ok && i < ndigits; i++)
        ok = base == 16 ? isxdigit((unsigned char)digits[i]) : isdigit((unsigned char)digits[i]);
    if (ok) {
        errno = 0;
        char *end;
        unsigned long long v = strtoull(digits, &end, base);
        if (errno == ERANGE) {
            snprintf(why, whylen, "page number out of range: '%.*s'", (int)toklen, s);
            return -1;
        }
        out[0] = v;
        *n = 1;
        return 0;
    }
    /* name the offending text, trimmed and cut short */
    const char *show = *rest ? line + strspn(line, " \t") : s;
    size_t showlen = strlen(show);
    while (showlen && isspace((unsigned char)show[showlen - 1]))
        showlen--;
    snprintf(why, whylen, "not a page number: '%.*s'", (int)(showlen > 64 ? 64 : showlen),
             show);
    return -1;
}
