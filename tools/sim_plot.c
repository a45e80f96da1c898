/* sim_plot.c -- writes the curves' data to a temporary file and has gnuplot
 * (Debian: gnuplot-nox) draw them. */
#include "sim_plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int sim_have_gnuplot(void)
{
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char dir[4096];
    for (const char *s = path; *s;) {
        size_t len = strcspn(s, ":");
        snprintf(dir, sizeof dir, "%.*s/gnuplot", (int)len, len ? s : ".");
        if (access(dir, X_OK) == 0)
            return 1;
        s += len;
        if (*s == ':')
            s++;
    }
    return 0;
}

int sim_plot(const struct sim_result *res, size_t n, const char *png, const char *title)
{
    char data[] = "/tmp/vmem-sim-plot-XXXXXX";
    int fd = mkstemp(data);
    if (fd < 0) {
        perror("vmem sim: temporary file for the plot");
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    /* one gnuplot data block per policy, in order of first appearance */
    const char *names[64];
    size_t nnames = 0;
    for (size_t i = 0; i < n && nnames < 64; i++) {
        size_t k = 0;
        while (k < nnames && strcmp(names[k], res[i].policy))
            k++;
        if (k == nnames)
            names[nnames++] = res[i].policy;
    }
    for (size_t k = 0; k < nnames; k++) {
        for (size_t i = 0; i < n; i++)
            if (!strcmp(res[i].policy, names[k]))
                fprintf(f, "%zu %llu\n", res[i].frames, (unsigned long long)res[i].faults);
        fprintf(f, "\n\n");
    }
    fclose(f);

    /* gnuplot draws on its standard output when it cannot open the file:
     * that goes nowhere, and the file's size below says what happened. */
    struct stat before;
    int existed = stat(png, &before) == 0;
    FILE *gp = popen("exec gnuplot >/dev/null", "w");
    if (!gp) {
        perror("vmem sim: gnuplot");
        unlink(data);
        return -1;
    }
    fprintf(gp, "set terminal pngcairo size 900,600 noenhanced\n");
    fprintf(gp, "set output '%s'\n", png);
    fprintf(gp, "set title '%s'\n", title);
    fprintf(gp, "set xlabel 'frames'\nset ylabel 'faults'\nset key top right\nset grid\n");
    fprintf(gp, "plot ");
    for (size_t k = 0; k < nnames; k++)
        fprintf(gp, "%s'%s' index %zu with linespoints title '%s'", k ? ", " : "", data, k,
                names[k]);
    fprintf(gp, "\n");
    int status = pclose(gp);
    unlink(data);
    struct stat after;
    if (status != 0 || stat(png, &after) != 0 || after.st_size == 0 ||
        (existed && after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
         after.st_mtim.tv_nsec == before.st_mtim.tv_nsec && after.st_size == before.st_size)) {
        fprintf(stderr, "vmem sim: gnuplot could not write %s (status %d); no plot written\n",
                png, status);
        return -1;
    }
    return 0;
}
