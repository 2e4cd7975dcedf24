#pragma once

#include "failure.h"
#include "plan.h"

struct child_args {
        const struct plan *plan;
        int barrier_fd;     /* read end: one 'g' byte means go */
        int err_fd;         /* write end, close-on-exec: a struct failure, or EOF on exec */
        int console_fd;     /* pty peer for /dev/console and stdio, or -1 (pipe mode) */
        const char *console_path; /* the peer's /dev/pts path */
        int notify_fd;      /* the monitor's notify socket, bound by the notify-socket op */
        int pid_fd;         /* with a user namespace: where init's pid goes (the outer child's); else -1 */
        int netready_fd;    /* write end: one byte once the network namespace exists (network.c makes links in it), or -1 */
};

/* Never returns. */
void child_main(const struct child_args *a) __attribute__((noreturn));
