/* The supervisor: what holds a running container once Node has started it.
 *
 *   tsnspawn-helper --supervise --monitor-pid PID --monitor-socket @NAME
 *       --machine NAME [--kill-signal SIG] [--ready-sent]
 *       [--keep-unit] [--quiet] [--cgroup DIR]... [--halted SIG]...
 *       [--pending SIG]... [--state PATH] [--propagate DIR] [--events-fd FD [--events-ready-sent]]
 *       [--carry-fd FD]... [--workdir DEV:INO:PATH]... [--tree-lock PATH]...
 *       -- NODE ARG...
 *
 * Node execve()s into this in its own pid once the payload runs, so the
 * pid a shell waits for and systemd knows as MAINPID stays the same, and
 * the monitor (helper) stays its child. Node's control socket closed with
 * the execve; we connect to the monitor's abstract socket NAME, and the
 * monitor accepts us because we have its parent's pid.
 *
 * Here: signals to tsnspawn (the first SIGTERM/SIGINT asks init to halt
 * with the kill signal, the same signal again kills), the notify relay to
 * our service manager, the container's end: its exit status, its last
 * message, its cgroups removed, STOPPING=1; the service manager's
 * watchdog (WATCHDOG=1 at half $WATCHDOG_USEC); systemd's stop requests, which
 * the monitor receives as the scope's controller, treated as SIGTERM. A guest reboot runs Node again
 * (the arguments after "--") to start the same machine anew.
 *
 * Where we are: the host's namespaces, full root, Node's pid. */
#define _GNU_SOURCE
#include "supervise.h"
#include "event-fields.h"
#include "notify.h"
#include "report.h"
#include "tree-lock.h"
#include "workdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CGROUPS 4
/* 133 asks a service manager for a restart (RestartForceExitStatus=), as nspawn's. */
#define EXIT_FORCE_RESTART 133

struct supervisor {
        pid_t monitor;
        const char *monitor_socket; /* "@NAME": the monitor's abstract handover socket */
        int ctl;            /* our end of the control socket */
        const char *machine;
        int kill_signal;    /* 0: kill at once */
        bool ready_sent, keep_unit, quiet;
        const char *cgroups[MAX_CGROUPS];
        int n_cgroups;
        char **node_argv;   /* after "--": Node's command line, for a reboot */
        const char *state;  /* tsnspawn's record of the container (src/runtime/state.ts) */
        const char *propagate; /* /run/systemd/nspawn/propagate/NAME (src/runtime/propagate.ts) */
        int events_fd;      /* --events=FD of tsnspawn (src/runtime/event-stream.ts), or -1 */
        int carry[32];      /* tsnspawn's descriptor numbers the monitor hands back (--carry-fd) */
        int n_carry;
        bool events_ready_sent;
        bool halted[NSIG];  /* which signal already asked init to halt */
        const char *workdirs[16]; /* overlay work directories on the host (DEV:INO:PATH): ours to remove if the monitor cannot */
        int n_workdirs;
        const char *tree_locks[2]; /* the tree's lock files (tree-lock.c): ours to sweep if the monitor cannot */
        int n_tree_locks;
        int pending[8];     /* signals Node received while handing over */
        int n_pending;
        char buf[65536];
        size_t len;
};

enum outcome_kind { OUT_EXITED, OUT_POWEROFF, OUT_REBOOT, OUT_KILLED };

struct outcome {
        enum outcome_kind kind;
        int value; /* exit code or signal */
};

static void send_command(struct supervisor *s, const char *fmt, int arg) {
        char line[64];
        int n = snprintf(line, sizeof line, fmt, arg);
        (void) write_all(s->ctl, line, (size_t) n);
}

__attribute__((format(printf, 2, 3))) static void info(const struct supervisor *s, const char *fmt, ...) {
        if (s->quiet)
                return;
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* nspawn: the first SIGTERM/SIGINT asks init to halt (when there is a kill
 * signal); the same signal again, or any without one, kills. */
static void on_signal(struct supervisor *s, int sig) {
        if (s->kill_signal && !s->halted[sig]) {
                s->halted[sig] = true;
                info(s, "Trying to halt container. Send %s again to trigger immediate termination.", sig == SIGINT ? "SIGINT" : "SIGTERM");
                send_command(s, "kill %d\n", s->kill_signal);
        } else
                send_command(s, "kill %d\n", SIGKILL);
}

/* --events: one JSON object a line, as src/runtime/event-stream.ts writes them. */
static void emit_event(const struct supervisor *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit_event(const struct supervisor *s, const char *fmt, ...) {
        if (s->events_fd < 0)
                return;
        struct strbuf sb = { 0 };
        char body[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(body, sizeof body, fmt, ap);
        va_end(ap);
        sb_addf(&sb, "{\"event\":%s}\n", body);
        (void) write_all(s->events_fd, sb.data, sb.len);
        sb_free(&sb);
}

static void emit_status_event(const struct supervisor *s, const char *text) {
        if (s->events_fd < 0)
                return;
        struct strbuf sb = { 0 };
        sb_adds(&sb, "{\"event\":\"status\",\"text\":");
        sb_add_json(&sb, text);
        sb_adds(&sb, "}\n");
        (void) write_all(s->events_fd, sb.data, sb.len);
        sb_free(&sb);
}

/* sd_notify towards our service manager, as notify-relay.ts did in Node. */
static void relay_from_guest(struct supervisor *s, const char *message) {
        char *copy = strdup(message), *save = NULL;
        if (!copy)
                return;
        for (char *line = strtok_r(copy, "\n\r", &save); line; line = strtok_r(NULL, "\n\r", &save)) {
                if (strcmp(line, "READY=1") == 0 && !s->events_ready_sent) {
                        s->events_ready_sent = true;
                        emit_event(s, "\"ready\"");
                }
                if (strncmp(line, "STATUS=", 7) == 0)
                        emit_status_event(s, line + 7);
                if (strcmp(line, "READY=1") == 0 && !s->ready_sent) {
                        s->ready_sent = true;
                        notify_send_outer("READY=1");
                } else if (strncmp(line, "STATUS=", 7) == 0) {
                        char *out;
                        if (asprintf(&out, "STATUS=Container running: %s", line + 7) >= 0) {
                                notify_send_outer(out);
                                free(out);
                        }
                }
        }
        free(copy);
}

/* Death by SIGINT is the kernel's mark of a halt/poweroff of a PID
 * namespace's init, SIGHUP of a reboot (outcome.ts has the same rules). */
static struct outcome classify(const char *line) {
        long v;
        if (event_int(line, "signal", &v)) {
                if (v == SIGINT)
                        return (struct outcome){ OUT_POWEROFF, 0 };
                if (v == SIGHUP)
                        return (struct outcome){ OUT_REBOOT, 0 };
                return (struct outcome){ OUT_KILLED, (int) v };
        }
        return (struct outcome){ OUT_EXITED, event_int(line, "code", &v) ? (int) v : 1 };
}

static int exit_status(const struct supervisor *s, struct outcome o) {
        switch (o.kind) {
        case OUT_EXITED:
                return o.value == EXIT_FORCE_RESTART ? 1 : o.value;
        case OUT_POWEROFF:
                return 0;
        case OUT_REBOOT:
                return s->keep_unit ? EXIT_FORCE_RESTART : 0;
        case OUT_KILLED:
                break;
        }
        return 1;
}

static void signal_name(int sig, char *buf, size_t len) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev)
                snprintf(buf, len, "%s", abbrev);
        else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
                snprintf(buf, len, sig == SIGRTMIN ? "RTMIN" : "RTMIN+%d", sig - SIGRTMIN);
        else
                snprintf(buf, len, "%d", sig);
}

/* The closing line, as outcome.ts words it (a kill is shown even with -q). */
static void say_outcome(const struct supervisor *s, struct outcome o) {
        char code[16];
        switch (o.kind) {
        case OUT_EXITED:
                if (o.value == 0)
                        info(s, "Container %s exited successfully.", s->machine);
                else
                        info(s, "Container %s failed with error code %d.", s->machine, o.value);
                break;
        case OUT_POWEROFF:
                info(s, "Container %s has been shut down.", s->machine);
                break;
        case OUT_REBOOT:
                info(s, "Container %s is being rebooted.", s->machine);
                break;
        case OUT_KILLED:
                signal_name(o.value, code, sizeof code);
                fprintf(stderr, "tsnspawn: container %s terminated by signal %s.\n", s->machine, code);
                break;
        }
}

static void remove_cgroup_tree(const char *dir) {
        DIR *d = opendir(dir);
        if (d) {
                struct dirent *e;
                while ((e = readdir(d)))
                        if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                                char sub[4096];
                                snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
                                remove_cgroup_tree(sub);
                        }
                closedir(d);
        }
        (void) rmdir(dir);
}

/* The kernel frees a cgroup a moment after its last process is reaped (cgroup.ts). */
static void release_cgroups(const struct supervisor *s) {
        for (int attempt = 0; attempt < 50; attempt++) {
                bool left = false;
                for (int i = 0; i < s->n_cgroups; i++) {
                        remove_cgroup_tree(s->cgroups[i]);
                        left |= access(s->cgroups[i], F_OK) == 0;
                }
                if (!left)
                        return;
                nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
        }
        for (int i = 0; i < s->n_cgroups; i++)
                if (access(s->cgroups[i], F_OK) == 0)
                        fprintf(stderr, "tsnspawn: could not remove the container's cgroup %s: processes remain in it\n", s->cgroups[i]);
}

/* The record goes, and with it the propagation directory for machinectl
 * bind (empty unless machined died half way; then it stays and says so). */
static void forget_state(const struct supervisor *s) {
        if (s->state)
                (void) unlink(s->state);
        if (s->propagate && rmdir(s->propagate) < 0 && errno != ENOENT)
                fprintf(stderr, "tsnspawn: could not remove %s: %s\n", s->propagate, strerror(errno));
}

static void wait_monitor(const struct supervisor *s) {
        while (waitpid(s->monitor, NULL, 0) < 0 && errno == EINTR) {
        }
}

/* The container ended: report, clean up, and exit or start it again. */
static int finish(struct supervisor *s, struct outcome o) {
        bool reboot_here = o.kind == OUT_REBOOT && !s->keep_unit;
        /* Unless the guest reboots in place, the service is stopping now. */
        if (!reboot_here)
                notify_send_outer(o.kind == OUT_REBOOT ? "STOPPING=1\nSTATUS=Restarting..." : "STOPPING=1\nSTATUS=Terminating...");
        send_command(s, "quit\n", 0);
        close(s->ctl);
        wait_monitor(s);
        release_cgroups(s);
        say_outcome(s, o);
        if (reboot_here)
                emit_event(s, "\"rebooting\"");
        else {
                static const char *const kinds[] = { [OUT_EXITED] = "exited", [OUT_POWEROFF] = "poweroff", [OUT_REBOOT] = "reboot", [OUT_KILLED] = "killed" };
                int status = exit_status(s, o);
                if (o.kind == OUT_EXITED)
                        emit_event(s, "\"exited\",\"status\":%d,\"outcome\":\"exited\",\"code\":%d", status, o.value);
                else if (o.kind == OUT_KILLED)
                        emit_event(s, "\"exited\",\"status\":%d,\"outcome\":\"killed\",\"signal\":%d", status, o.value);
                else
                        emit_event(s, "\"exited\",\"status\":%d,\"outcome\":\"%s\"", status, kinds[o.kind]);
        }
        if (!reboot_here) {
                /* Node, run again for a reboot, writes it anew. */
                forget_state(s);
                return exit_status(s, o);
        }
        /* Node starts the same machine again (TSNSPAWN_REBOOT: with the name and
         * UUID it left in TSNSPAWN_MACHINE_STATE). */
        setenv("TSNSPAWN_REBOOT", "1", 1);
        execv(s->node_argv[0], s->node_argv);
        fprintf(stderr, "tsnspawn: cannot run %s again for the reboot of %s: %s\n", s->node_argv[0], s->machine, strerror(errno));
        return 1;
}

/* Handles complete lines from the monitor; returns >= 0 (exit status) when done. */
static int handle_events(struct supervisor *s) {
        char *start = s->buf, *nl;
        while ((nl = memchr(start, '\n', s->len - (size_t) (start - s->buf)))) {
                *nl = 0;
                if (event_is(start, "notify")) {
                        char *msg = event_string(start, "message");
                        if (msg) {
                                relay_from_guest(s, msg);
                                free(msg);
                        }
                } else if (event_is(start, "stop"))
                        /* machinectl terminate: systemd asked the monitor, the scope's controller. */
                        on_signal(s, SIGTERM);
                else if (event_is(start, "warning")) {
                        char *msg = event_string(start, "message");
                        fprintf(stderr, "tsnspawn: %s\n", msg ? msg : start);
                        free(msg);
                } else if (event_is(start, "exit"))
                        return finish(s, classify(start));
                else if (event_is(start, "error")) {
                        char *msg = event_string(start, "message");
                        fprintf(stderr, "tsnspawn: %s\n", msg ? msg : start);
                        free(msg);
                }
                start = nl + 1;
        }
        s->len -= (size_t) (start - s->buf);
        memmove(s->buf, start, s->len);
        if (s->len == sizeof s->buf)
                s->len = 0; /* a line longer than any event: drop it */
        return -1;
}

/* Connects to the monitor's handover socket ("@NAME": abstract); the
 * monitor takes the connection because it comes from its parent's pid. */
/* A descriptor of ours out of the way of tsnspawn's own numbers (carry). */
static int move_high(int fd) {
        if (fd < 0)
                return fd;
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);
        close(fd);
        return high;
}

/* The descriptors Node's execve closed, from the monitor, back at their numbers. */
static int take_carried_fds(struct supervisor *s) {
        if (s->n_carry == 0)
                return 0;
        char byte;
        int fds[32];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof fds)];
        } control;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
        ssize_t n;
        do
                n = recvmsg(s->ctl, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        struct cmsghdr *c = n == 1 ? CMSG_FIRSTHDR(&mh) : NULL;
        if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN((size_t) s->n_carry * sizeof(int))) {
                errno = EPROTO;
                return -1;
        }
        memcpy(fds, CMSG_DATA(c), (size_t) s->n_carry * sizeof(int));
        /* First all out of the way, then each to its number (dup2 leaves it open across exec). */
        for (int i = 0; i < s->n_carry; i++)
                fds[i] = move_high(fds[i]);
        for (int i = 0; i < s->n_carry; i++) {
                if (fds[i] < 0 || dup2(fds[i], s->carry[i]) < 0)
                        return -1;
                close(fds[i]);
        }
        return 0;
}

/* Connects to the monitor's handover socket ("@NAME": abstract); the
 * monitor accepts us because we have its parent's pid. */
static int attach(struct supervisor *s) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(s->monitor_socket);
        if (s->monitor_socket[0] != '@' || n > sizeof sa.sun_path) {
                errno = EINVAL;
                return -1;
        }
        memcpy(sa.sun_path + 1, s->monitor_socket + 1, n - 1);
        s->ctl = move_high(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (s->ctl < 0 || connect(s->ctl, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0)
                return -1;
        return take_carried_fds(s);
}

/* The signals the supervisor reads from a signalfd; blocked first thing. */
static sigset_t handled_signals(void) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGCHLD);
        return mask;
}

static long long now_ms(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (long long) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* $WATCHDOG_USEC from our service manager, meant for us ($WATCHDOG_PID
 * unset or ours: we are the pid systemd started), in ms; 0: none. */
static long long watchdog_interval_ms(void) {
        const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
        if (!usec || !getenv("NOTIFY_SOCKET") || (pid && atol(pid) != getpid()))
                return 0;
        long long v = atoll(usec) / 1000;
        return v > 0 ? v : 0;
}

/* The container cannot be held any more: it ends, and what it leaves goes.
 * The monitor removes the overlay work directories once init is gone; a
 * monitor that was killed did not: they go here, after the cgroups (the
 * container's mounts with its last process). One that cannot go keeps
 * the record, whose stale sweep tries again at the next start. */
static int give_up(struct supervisor *s) {
        emit_event(s, "\"exited\",\"status\":1,\"outcome\":\"failed\"");
        kill(s->monitor, SIGKILL);
        wait_monitor(s);
        release_cgroups(s);
        for (int i = 0; i < s->n_tree_locks; i++)
                tree_lock_sweep(s->tree_locks[i]);
        bool all_gone = true;
        for (int i = 0; i < s->n_workdirs; i++)
                if (!workdir_remove_recorded(s->workdirs[i])) {
                        all_gone = false;
                        fprintf(stderr, "tsnspawn: could not remove the overlay work directory %s; the next start tries again\n", strchr(strchr(s->workdirs[i], ':') + 1, ':') + 1);
                }
        if (all_gone)
                forget_state(s);
        return 1;
}

/* The monitor closed our channel without the container's end: how it
 * ended is the cause worth naming (a SIGKILL from outside, a crash). */
static void say_monitor_lost(struct supervisor *s) {
        int st = 0;
        pid_t r;
        while ((r = waitpid(s->monitor, &st, 0)) < 0 && errno == EINTR) {
        }
        char how[32] = "";
        if (r == s->monitor && WIFSIGNALED(st)) {
                char name[20];
                signal_name(WTERMSIG(st), name, sizeof name);
                snprintf(how, sizeof how, "SIG%s", name);
        }
        else if (r == s->monitor)
                snprintf(how, sizeof how, "exit %d", WEXITSTATUS(st));
        if (how[0])
                fprintf(stderr, "tsnspawn: the helper ended unexpectedly (%s) before reporting the end of container %s\n", how, s->machine);
        else
                fprintf(stderr, "tsnspawn: the helper ended without reporting the end of container %s\n", s->machine);
}

static int run(struct supervisor *s) {
        sigset_t mask = handled_signals();
        signal(SIGPIPE, SIG_IGN);
        int sfd = move_high(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
        if (sfd < 0 || attach(s) < 0) {
                fprintf(stderr, "tsnspawn: cannot take over the container %s from Node: %s\n", s->machine, strerror(errno));
                return give_up(s);
        }
        for (int i = 0; i < s->n_pending; i++)
                on_signal(s, s->pending[i]);
        long long watchdog_ms = watchdog_interval_ms();
        long long next_ping = watchdog_ms > 0 ? now_ms() : 0;
        for (;;) {
                /* The service manager's watchdog: WATCHDOG=1 at half its interval while this loop runs. */
                int timeout = -1;
                if (watchdog_ms > 0) {
                        long long now = now_ms();
                        if (now >= next_ping) {
                                notify_send_outer("WATCHDOG=1");
                                next_ping = now + watchdog_ms / 2;
                        }
                        timeout = (int) (next_ping - now > 0 ? next_ping - now : 0);
                }
                struct pollfd p[2] = { { .fd = s->ctl, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                if (poll(p, 2, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == sizeof si)
                                if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
                                        on_signal(s, (int) si.ssi_signo);
                }
                if (p[0].revents) {
                        ssize_t n = read(s->ctl, s->buf + s->len, sizeof s->buf - s->len);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break; /* the monitor is gone without reporting the end */
                        s->len += (size_t) n;
                        int status = handle_events(s);
                        if (status >= 0)
                                return status;
                }
        }
        say_monitor_lost(s);
        return give_up(s);
}

static int parse_int_arg(const char *v) {
        char *end;
        long n = strtol(v, &end, 10);
        return *v && !*end && n >= 0 && n < 1 << 30 ? (int) n : -1;
}

int supervise_main(int argc, char **argv) {
        /* Signals wait for the signalfd from here on (run() reads them). */
        sigset_t mask = handled_signals();
        sigprocmask(SIG_BLOCK, &mask, NULL);
        struct supervisor s = { .monitor = -1, .ctl = -1, .events_fd = -1 };
        int i;
        for (i = 0; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (strcmp(a, "--") == 0) {
                        s.node_argv = argv + i + 1;
                        break;
                } else if (strcmp(a, "--ready-sent") == 0)
                        s.ready_sent = true;
                else if (strcmp(a, "--keep-unit") == 0)
                        s.keep_unit = true;
                else if (strcmp(a, "--quiet") == 0)
                        s.quiet = true;
                else if (v && strcmp(a, "--monitor-pid") == 0 && ++i)
                        s.monitor = parse_int_arg(v);
                else if (v && strcmp(a, "--monitor-socket") == 0 && ++i)
                        s.monitor_socket = v;
                else if (v && strcmp(a, "--state") == 0 && ++i)
                        s.state = v;
                else if (v && strcmp(a, "--propagate") == 0 && ++i)
                        s.propagate = v;
                else if (v && strcmp(a, "--events-fd") == 0 && ++i)
                        s.events_fd = parse_int_arg(v);
                else if (strcmp(a, "--events-ready-sent") == 0)
                        s.events_ready_sent = true;
                else if (v && strcmp(a, "--carry-fd") == 0 && ++i && parse_int_arg(v) >= 3 && s.n_carry < 32)
                        s.carry[s.n_carry++] = parse_int_arg(v);
                else if (v && strcmp(a, "--machine") == 0 && ++i)
                        s.machine = v;
                else if (v && strcmp(a, "--kill-signal") == 0 && ++i)
                        s.kill_signal = parse_int_arg(v);
                else if (v && strcmp(a, "--workdir") == 0 && ++i && workdir_recorded_valid(v) &&
                         s.n_workdirs < (int) (sizeof s.workdirs / sizeof s.workdirs[0]))
                        s.workdirs[s.n_workdirs++] = v;
                else if (v && strcmp(a, "--tree-lock") == 0 && ++i && s.n_tree_locks < 2)
                        s.tree_locks[s.n_tree_locks++] = v;
                else if (v && strcmp(a, "--cgroup") == 0 && ++i && s.n_cgroups < MAX_CGROUPS)
                        s.cgroups[s.n_cgroups++] = v;
                else if (v && strcmp(a, "--halted") == 0 && ++i && parse_int_arg(v) > 0 && parse_int_arg(v) < NSIG)
                        s.halted[parse_int_arg(v)] = true;
                else if (v && strcmp(a, "--pending") == 0 && ++i && parse_int_arg(v) > 0 && parse_int_arg(v) < NSIG &&
                         s.n_pending < (int) (sizeof s.pending / sizeof s.pending[0]))
                        s.pending[s.n_pending++] = parse_int_arg(v);
                else
                        break;
        }
        if (!s.node_argv || !s.node_argv[0] || s.monitor <= 0 || !s.monitor_socket || !s.machine || s.kill_signal < 0 || s.kill_signal >= NSIG) {
                fprintf(stderr, "tsnspawn-helper: bad --supervise arguments (near '%s')\n", i < argc ? argv[i] : "");
                return 2;
        }
        return run(&s);
}
