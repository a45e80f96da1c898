/*
 * ranges.c -- the sorted table of whole ranges (see ranges.h).
 */
#include "ranges.h"
#include "sys.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct range *tab;
static size_t count, cap;

/* First index whose range ends after addr. */
static size_t lower(uintptr_t addr)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tab[mid].base + tab[mid].reserved <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int grow(void)
{
    size_t ncap = cap ? cap * 2 : 1024;
    void *n = preload_sys_mmap(NULL, ncap * sizeof(*tab), PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (n == MAP_FAILED)
        return ENOMEM;
    if (tab) {
        memcpy(n, tab, count * sizeof(*tab));
        preload_sys_munmap(tab, cap * sizeof(*tab));
    }
    tab = n;
    cap = ncap;
    return 0;
}

int ranges_add(const struct range *r)
{
    int err = 0;
    pthread_mutex_lock(&lock);
    if (count == cap && (err = grow()) != 0)
        goto out;
    size_t i = lower(r->base);
    memmove(tab + i + 1, tab + i, (count - i) * sizeof(*tab));
    tab[i] = *r;
    count++;
out:
    pthread_mutex_unlock(&lock);
    return err;
}

static struct range *find_locked(uintptr_t addr)
{
    size_t i = lower(addr);
    if (i < count && tab[i].base <= addr)
        return &tab[i];
    return NULL;
}

int ranges_remove(uintptr_t base)
{
    int err = ENOENT;
    pthread_mutex_lock(&lock);
    struct range *r = find_locked(base);
    if (r && r->base == base) {
        size_t i = (size_t)(r - tab);
        memmove(tab + i, tab + i + 1, (count - i - 1) * sizeof(*tab));
        count--;
        err = 0;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

int ranges_set_bounds(uintptr_t base, uintptr_t lo, uintptr_t hi)
{
    int err = ENOENT;
    pthread_mutex_lock(&lock);
    struct range *r = find_locked(base);
    if (r && r->base == base) {
        r->lo = lo;
        r->hi = hi;
        err = 0;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

int ranges_find(uintptr_t addr, struct range *out)
{
    pthread_mutex_lock(&lock);
    struct range *r = find_locked(addr);
    if (r)
        *out = *r;
    pthread_mutex_unlock(&lock);
    return r != NULL;
}

size_t ranges_overlapping(uintptr_t addr, size_t len, struct range *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = lower(addr); i < count && tab[i].base < addr + len; i++, n++)
        if (n < max)
            out[n] = tab[i];
    pthread_mutex_unlock(&lock);
    return n;
}

void ranges_lock(void) { pthread_mutex_lock(&lock); }
void ranges_unlock(void) { pthread_mutex_unlock(&lock); }
