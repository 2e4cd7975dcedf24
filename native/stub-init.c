/* The stub init of --as-pid2, after systemd-nspawn's: it keeps PID 1's
 * duties (reaping, the halt/poweroff/reboot signals) for a payload that is
 * no init. Host state must not show through /proc/1: the arguments and the
 * environment the helper was started with are overwritten in place. */
#define _GNU_SOURCE
#include "stub-init.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The payload's grace period after a halt signal, as nspawn's DEFAULT_TIMEOUT_USEC. */
#define STOP_TIMEOUT_SEC 90
/* systemd's EXIT_EXCEPTION: the payload died of a signal, or did not stop in time. */
#define EXIT_EXCEPTION 255

/* Fields 48-51 of /proc/self/stat: where the kernel shows our arguments and
 * environment from (/proc/PID/cmdline, /proc/PID/environ). */
static int memory_areas(unsigned long *arg_start, unsigned long *arg_end, unsigned long *env_start, unsigned long *env_end) {
        char buf[2048];
        FILE *f = fopen("/proc/self/stat", "re");
        if (!f)
                return -1;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')'); /* the command name may hold spaces */
        if (!p)
                return -1;
        /* p ends field 2; each step moves to the space before the next field, up to field 48. */
        for (int field = 2; field < 48 && p; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p, " %lu %lu %lu %lu", arg_start, arg_end, env_start, env_end) != 4)
                return -1;
        return 0;
}

/* Blanks an area and writes strings into it (each NUL-terminated, as long as they fit). */
static void overwrite(unsigned long start, unsigned long end, const char *const strings[]) {
        if (end <= start)
                return;
        char *area = (char *) start;
        size_t size = end - start, used = 0;
        memset(area, 0, size);
        for (size_t i = 0; strings[i]; i++) {
                size_t len = strlen(strings[i]) + 1;
                if (used + len > size)
                        break;
                memcpy(area + used, strings[i], len);
                used += len;
        }
}

/* /proc/1/cmdline and /proc/1/environ showed the helper's arguments (a host
 * pid) and environment (the host's): only the stub's name and the
 * container's variables remain. */
static void scrub_process_areas(const char *uuid) {
        unsigned long arg_start, arg_end, env_start, env_end;
        if (memory_areas(&arg_start, &arg_end, &env_start, &env_end) < 0)
                return;
        char uuid_var[80];
        snprintf(uuid_var, sizeof uuid_var, "container_uuid=%s", uuid);
        overwrite(arg_start, arg_end, (const char *const[]) { "(stub-init)", NULL });
        overwrite(env_start, env_end, (const char *const[]) { "container=tsnspawn", uuid_var, NULL });
}

static time_t monotonic_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec;
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
        /* Inherited dispositions must not make the kernel reap the payload behind our back. */
        signal(SIGCHLD, SIG_DFL);
        close_range(0, ~0U, 0);
        scrub_process_areas(uuid);
        prctl(PR_SET_NAME, "(stub-init)", 0, 0, 0);

        enum stub_state state = RUNNING;
        time_t deadline = 0;
        for (;;) {
                siginfo_t si = { 0 };
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 && errno != ECHILD)
                        _exit(EXIT_FAILURE);
                bool timed_out = deadline && monotonic_now() >= deadline;
                if (si.si_pid == payload || timed_out) {
                        /* In a PID namespace reboot() ends us: by SIGHUP for a reboot, SIGINT for a poweroff,
                         * which the monitor reads as such. If it fails (no CAP_SYS_BOOT), that is a failure. */
                        if (state == REBOOT) {
                                reboot(RB_AUTOBOOT);
                                _exit(EXIT_FAILURE);
                        }
                        if (state == POWEROFF) {
                                reboot(RB_POWER_OFF);
                                _exit(EXIT_FAILURE);
                        }
                        _exit(!timed_out && si.si_code == CLD_EXITED ? si.si_status : EXIT_EXCEPTION);
                }
                if (si.si_pid != 0)
                        continue; /* reaped an orphan: look for more */
                struct timespec left = { .tv_sec = deadline ? deadline - monotonic_now() : 3600 };
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
                deadline = monotonic_now() + STOP_TIMEOUT_SEC;
        }
}
