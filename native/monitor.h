#pragma once

#include "bus.h"
#include "console.h"
#include "notify.h"
#include "plan.h"
#include "workdir.h"

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

struct monitor {
        const struct plan *plan;
        pid_t child;
        int control_fd;
        int barrier_fd;
        int err_fd;
        struct console *console;
        struct notify *notify;
        struct bus *bus;    /* the scope's controller on the system bus, or NULL */
        bool registered;    /* we registered the container: let go of it (bus_unregister) at the end */
        bool own_devices;   /* systemd does not enforce its device policy: we do, at "go" (device-policy.c) */
        struct workdir *workdirs; /* overlay work directories to remove once init is gone */
        size_t n_workdirs;
        bool reaped;
        int status;
        bool quit;          /* Node is done with us after the exit event */
        int listen_fd;      /* the handover socket until the supervisor connected, else -1 */
        bool discard_read;  /* the control socket was just replaced */
        struct network *net; /* links and --port rules to remove once init is gone, or NULL */
        char cmd[4096];
        size_t cmd_len;
};

/* The signals the monitor reads from its signalfd: blocked from its
 * start (a pre-forked one's too), so none is lost or acts by default. */
sigset_t monitor_signals(void);

/* Runs until the container's init has exited and been reported. */
int monitor_run(struct monitor *m);
