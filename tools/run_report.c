/*
 * run_report.c -- the report of `vmem run --report`: every libvmem process
 * of the tree leaves its statistics area (<vmemstat.h>) to this process
 * (VMEM_RUN_COLLECTOR), even when killed; as the tree's child subreaper
 * this process reaps orphaned descendants and learns how they ended.  Once
 * the whole tree is gone, each area becomes a block of the report, with a
 * summary across them, and is removed.
 */
#include "run_report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* How each reaped process ended, to name the signal of one killed. */
struct reaped {
    pid_t pid;
    int status;
};
static struct reaped *reaped;
static size_t nreaped, capreaped;

static void remember(pid_t pid, int status)
{
    if (nreaped == capreaped) {
        size_t c = capreaped ? capreaped * 2 : 64;
        struct reaped *r = realloc(reaped, c * sizeof(*r));
        if (!r)
            return; /* that process's end stays "vanished" */
        reaped = r;
        capreaped = c;
    }
    reaped[nreaped++] = (struct reaped){ pid, status };
}

int run_report_prepare(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        perror("vmem run: prctl(PR_SET_CHILD_SUBREAPER)");
        return -1;
    }
    char pid[32];
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    if (setenv("VMEM_RUN_COLLECTOR", pid, 1) != 0) {
        perror("vmem run: setenv");
        return -1;
    }
    return 0;
}

int run_report_wait_rest(pid_t pid, int status)
{
    remember(pid, status);
    for (;;) {
        int st;
        pid_t p = wait4(-1, &st, 0, NULL);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ECHILD)
                return 0;
            perror("vmem run: wait4");
            return -1;
        }
        remember(p, st);
    }
}

struct collected {
    char name[256];
    uint64_t start;
    struct vmem_proc_report r;
};

struct collect_ctx {
    const char *dir;
    long me;
    struct collected *v;
    size_t n, cap;
};

static void take(const char *name, void *arg)
{
    struct collect_ctx *c = arg;
    const struct vmem_statarea *a;
    if (vmem_statarea_open_name(c->dir, name, 0, &a) != 0)
        return;
    if (a->collector == c->me && c->n < c->cap) {
        struct collected *e = &c->v[c->n++];
        snprintf(e->name, sizeof(e->name), "%s", name);
        e->start = a->start_ticks;
        vmem_statarea_read(a, &e->r);
        if (e->r.end == VMEM_END_RUNNING) {
            /* it never reached exit(): killed, or _exit */
            e->r.end = VMEM_END_VANISHED;
            for (size_t i = 0; i < nreaped; i++) {
                if (reaped[i].pid != (pid_t)e->r.pid)
                    continue;
                if (WIFSIGNALED(reaped[i].status)) {
                    e->r.end = VMEM_END_SIGNALED;
                    e->r.end_code = WTERMSIG(reaped[i].status);
                } else if (WIFEXITED(reaped[i].status)) {
                    e->r.end = VMEM_END_EXITED;
                    e->r.end_code = WEXITSTATUS(reaped[i].status);
                }
            }
        }
    }
    vmem_statarea_close(a);
}

static int by_start(const void *x, const void *y)
{
    const struct collected *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->r.pid != b->r.pid)
        return a->r.pid < b->r.pid ? -1 : 1;
    /* the same process before and after an exec: the program it exec'd last */
    return (b->r.end == VMEM_END_EXECED) - (a->r.end == VMEM_END_EXECED);
}

static void collect(int fd, enum vmem_report_format f, unsigned flags)
{
    struct collect_ctx c = { vmem_statarea_dir(), (long)getpid(), NULL, 0, 4096 };
    c.v = calloc(c.cap, sizeof(*c.v));
    if (!c.v) {
        fprintf(stderr, "vmem run: out of memory for the report\n");
        return;
    }
    vmem_statarea_list(c.dir, take, &c);
    qsort(c.v, c.n, sizeof(*c.v), by_start);
    struct vmem_proc_report *r = calloc(c.n ? c.n : 1, sizeof(*r));
    /* none published (VMEM_PUBLISH=off): each reported itself in text */
    if (r && (c.n || f != VMEM_REPORT_TEXT)) {
        for (size_t i = 0; i < c.n; i++)
            r[i] = c.v[i].r;
        int err = vmem_report_write(fd, f, r, c.n, flags | VMEM_REPORT_SUMMARY);
        if (err)
            fprintf(stderr, "vmem run: cannot write the report: %s\n", strerror(err));
        free(r);
    }
    for (size_t i = 0; i < c.n; i++)
        vmem_statarea_remove(c.dir, c.v[i].name);
    free(c.v);
}

void run_report_print(const char *file, enum vmem_report_format f)
{
    int fd = file ? open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : 2;
    if (fd < 0) {
        fprintf(stderr, "vmem run: %s: %s\n", file, strerror(errno));
        return;
    }
    /* appending CSV to a file that has its header already */
    struct stat st;
    int headed = file && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
    collect(fd, f, headed ? VMEM_REPORT_NO_HEADER : 0);
    if (file)
        close(fd);
}
