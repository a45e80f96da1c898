/*
 * os/self.c -- this process's /proc/self files kept open, checked before
 * every use.
 */
#include "os/self.h"
#include "os/vm.h"

#include <unistd.h>

int os_self_fd(struct os_self_file *f)
{
    if (f->fd == -2)
        return -1; /* could not be opened: not tried again on every use */
    if (f->fd >= 0 && vm_file_id(f->fd) == f->id)
        return f->fd;
    f->fd = -1;
    if (vm_self_open(f->what, &f->fd) != 0) {
        f->fd = -2;
        return -1;
    }
    f->id = vm_file_id(f->fd);
    return f->fd;
}

void os_self_close(struct os_self_file *f)
{
    if (f->fd >= 0 && vm_file_id(f->fd) == f->id)
        close(f->fd);
    f->fd = -1;
}
