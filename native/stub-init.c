/* The stub init of --as-pid2, after systemd-nspawn's: it keeps PID 1's
 * duties (reaping, the halt/poweroff/reboot signals) for a payload that is
 * no init. Host state must not show through /proc/1: the environment the
 * helper was started with is overwritten in place. */
#define _GNU_SOURCE
#include "stub-init.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The payload's grace period after a halt signal, as nspawn's DEFAULT_TIMEOUT_USEC. */
#define STOP_TIMEOUT_SEC 90
/* systemd's EXIT_EXCEPTION: the payload died of a signal, or did not stop in time. */
#define EXIT_EXCEPTION 255

/* /proc/1/environ reads the process's original environment block: blank it
 * and leave only container= and container_uuid= there. */
static void scrub_environment(const char *uuid) {
        if (!environ || !environ[0])
                return;
        char *start = environ[0], *end = start;
        for (char **e = environ; *e; e++)
                if (*e + strlen(*e) + 1 > end)
                        end = *e + strlen(*e) + 1;
        size_t size = (size_t) (end - start);
        memset(start, 0, size);
        snprintf(start, size, "container=tsnspawn");
        size_t used = strlen(start) + 1;
        if (used < size)
                snprintf(start + used, size - used, "container_uuid=%s", uuid);
        environ = NULL;
}

enum stub_state { RUNNING, POWEROFF, REBOOT };

static enum stub_state state_for(int sig) {
        if (sig == SIGRTMIN + 3 || sig == SIGRTMIN + 4 || sig == SIGRTMIN + 13 || sig == SIGRTMIN + 14)
                return POWEROFF;
        if (sig == SIGINT || sig == SIGRTMIN + 5 || sig == SIGRTMIN + 6 || sig == SIGRTMIN + 15 || sig == SIGRTMIN + 16)
                return REBOOT;
        return RUNNING;
}

void stub_init(pid_t payload, const char *uuid) {
        /* All signals are blocked (since before the fork); these are the ones we act on. */
        sigset_t wait_for;
        sigemptyset(&wait_for);
        sigaddset(&wait_for, SIGCHLD);
        for (int sig = 1; sig < NSIG; sig++)
                if (state_for(sig) != RUNNING)
                        sigaddset(&wait_for, sig);
        close_range(0, ~0U, 0);
        scrub_environment(uuid);
        prctl(PR_SET_NAME, "(stub-init)", 0, 0, 0);

        enum stub_state state = RUNNING;
        time_t deadline = 0;
        for (;;) {
                siginfo_t si = { 0 };
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 && errno != ECHILD)
                        _exit(EXIT_EXCEPTION);
                bool timed_out = deadline && time(NULL) >= deadline;
                if (si.si_pid == payload || timed_out) {
                        if (state == REBOOT)
                                reboot(RB_AUTOBOOT); /* in a PID namespace: the monitor sees PID 1 end by SIGHUP */
                        else if (state == POWEROFF)
                                reboot(RB_POWER_OFF); /* ... by SIGINT */
                        _exit(!timed_out && si.si_code == CLD_EXITED ? si.si_status : EXIT_EXCEPTION);
                }
                if (si.si_pid != 0)
                        continue; /* reaped an orphan: look for more */
                struct timespec left = { .tv_sec = deadline ? deadline - time(NULL) : 3600 };
                if (left.tv_sec < 0)
                        left.tv_sec = 0;
                int sig = sigtimedwait(&wait_for, &si, &left);
                if (sig < 0 || sig == SIGCHLD || state != RUNNING)
                        continue;
                state = state_for(sig);
                /* Shells ignore SIGTERM but not SIGHUP; SIGTERM first for those that handle both. */
                kill(payload, SIGTERM);
                kill(payload, SIGCONT);
                kill(payload, SIGHUP);
                deadline = time(NULL) + STOP_TIMEOUT_SEC;
        }
}
