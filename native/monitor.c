/* The monitor: the container's parent after fork.
 *
 * Where we are: the host's namespaces, full root; the child is PID 1 of its
 * own namespace and waits at the barrier. One poll loop serves the control
 * socket (commands from Node), the child's error pipe (a setup failure, or
 * EOF once exec worked), the console, the notify socket and signals. */
#define _GNU_SOURCE
#include "monitor.h"
#include "report.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

enum { P_SIGNAL, P_CONTROL, P_ERR, P_MASTER, P_STDIN, P_NOTIFY, P__MAX };

static int unhex_digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "%0A" escapes in a command argument (newlines cannot travel in a line). */
static void unescape_arg(char *s) {
        char *w = s;
        for (char *r = s; *r; r++) {
                int hi, lo;
                if (*r == '%' && (hi = unhex_digit(r[1])) >= 0 && (lo = unhex_digit(r[2])) >= 0 && (hi | lo)) {
                        *w++ = (char) (hi * 16 + lo);
                        r += 2;
                } else
                        *w++ = *r;
        }
        *w = 0;
}

/* "handover": Node is about to execve into the supervisor. A new socket
 * pair takes over the control channel: events from now on go to it, and
 * its other end waits in our table until the supervisor takes it
 * (pidfd_getfd) and says "attached". The old socket closes here, so
 * Node's end going away with the execve is no sign of Node's death. */
static void hand_over(struct monitor *m) {
        int sv[2];
        if (m->reaped || m->handover_fd >= 0)
                return;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                report_error("control", "handover", "", errno, "cannot make the supervisor's control socket");
                return;
        }
        report_handover(sv[1]);
        close(m->control_fd);
        m->control_fd = sv[0];
        m->handover_fd = sv[1];
        m->cmd_len = 0;
        report_set_fd(sv[0]);
}

/* Commands are lines: "go" (release the barrier), "kill SIGNO",
 * "sdnotify MESSAGE" (percent-escaped, for our own service manager),
 * "handover" and "attached" (the supervisor replaces Node), "quit". */
static void handle_command(struct monitor *m, const char *line) {
        if (strcmp(line, "go") == 0) {
                if (m->barrier_fd >= 0) {
                        (void) write_all(m->barrier_fd, "g", 1);
                        close(m->barrier_fd);
                        m->barrier_fd = -1;
                }
        } else if (strncmp(line, "kill ", 5) == 0) {
                int sig = atoi(line + 5);
                if (sig > 0 && sig < NSIG && !m->reaped)
                        (void) kill(m->child, sig);
        } else if (strcmp(line, "quit") == 0) {
                m->quit = true;
        } else if (strcmp(line, "handover") == 0) {
                hand_over(m);
                /* The rest of what was read came on the old socket. */
                m->discard_read = true;
        } else if (strcmp(line, "attached") == 0) {
                if (m->handover_fd >= 0)
                        close(m->handover_fd);
                m->handover_fd = -1;
        } else if (strncmp(line, "sdnotify ", 9) == 0) {
                char *msg = strdup(line + 9);
                if (msg) {
                        unescape_arg(msg);
                        notify_send_outer(msg);
                        free(msg);
                }
        } else
                report_error("control", "", "", 0, "unknown command from tsnspawn");
}

/* Returns -1 when the control socket closed: Node is gone. */
static int read_control(struct monitor *m) {
        char buf[1024];
        ssize_t n = read(m->control_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
                return 0;
        if (n <= 0)
                return -1;
        for (ssize_t i = 0; i < n; i++) {
                if (buf[i] != '\n') {
                        if (m->cmd_len < sizeof m->cmd - 1)
                                m->cmd[m->cmd_len++] = buf[i];
                        continue;
                }
                m->cmd[m->cmd_len] = 0;
                handle_command(m, m->cmd);
                m->cmd_len = 0;
                if (m->discard_read) {
                        /* Node says nothing after "handover": nothing is lost. */
                        m->discard_read = false;
                        break;
                }
        }
        return 0;
}

static void reap(struct monitor *m) {
        int status;
        pid_t r;
        while ((r = waitpid(-1, &status, WNOHANG)) > 0) {
                if (r != m->child)
                        continue;
                m->reaped = true;
                m->status = status;
        }
}

static int handle_signals(struct monitor *m, int sfd) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == sizeof si) {
                switch (si.ssi_signo) {
                case SIGCHLD:
                        reap(m);
                        break;
                case SIGWINCH:
                        console_sync_winsize(m->console);
                        break;
                default:
                        /* SIGINT/SIGTERM/SIGHUP/SIGQUIT: Node receives them too and
                         * tells us what to do; acting here as well would race it. */
                        break;
                }
        }
        return 0;
}

int monitor_run(struct monitor *m) {
        sigset_t mask;
        sigemptyset(&mask);
        int sigs[] = { SIGCHLD, SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
                sigaddset(&mask, sigs[i]);
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                report_error("monitor", "signalfd", "", errno, NULL);
                kill(m->child, SIGKILL);
                return 1;
        }
        struct console *c = m->console;
        bool relay_in = c->mode == CONSOLE_INTERACTIVE;
        console_make_raw(c);
        reap(m); /* a SIGCHLD before the signalfd existed is still pending, but be sure */

        bool control_open = true, relay_out = c->master_fd >= 0;
        while (!m->reaped) {
                struct pollfd p[P__MAX] = {
                        [P_SIGNAL] = { .fd = sfd, .events = POLLIN },
                        [P_CONTROL] = { .fd = control_open ? m->control_fd : -1, .events = POLLIN },
                        [P_ERR] = { .fd = m->err_fd, .events = POLLIN },
                        [P_MASTER] = { .fd = relay_out ? c->master_fd : -1, .events = POLLIN },
                        [P_STDIN] = { .fd = relay_in ? STDIN_FILENO : -1, .events = POLLIN },
                        [P_NOTIFY] = { .fd = m->notify->fd, .events = POLLIN },
                };
                if (poll(p, P__MAX, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[P_SIGNAL].revents)
                        handle_signals(m, sfd);
                if (p[P_CONTROL].revents && read_control(m) < 0) {
                        /* Node is gone: nobody will reap, register or report. */
                        control_open = false;
                        kill(m->child, SIGKILL);
                }
                if (p[P_ERR].revents) {
                        if (failure_receive_and_report(m->err_fd) == 0)
                                report_exec();
                        close(m->err_fd);
                        m->err_fd = -1;
                }
                /* We hold the peer open, so EOF/EIO should not happen; if it
                 * does, stop polling rather than spin. */
                if (p[P_MASTER].revents && console_pump_output(c) < 0)
                        relay_out = false;
                if (p[P_STDIN].revents) {
                        int r = console_pump_input(c);
                        if (r == 1) {
                                kill(m->child, SIGKILL);
                        } else if (r < 0)
                                relay_in = false;
                }
                if (p[P_NOTIFY].revents)
                        notify_receive(m->notify, m->child);
        }
        /* Init is gone; the rest of its namespace dies with it. Report in
         * order: exec (or the failure), then the console's last words, then exit. */
        if (m->err_fd >= 0) {
                if (failure_receive_and_report(m->err_fd) == 0)
                        report_exec();
                close(m->err_fd);
        }
        console_drain(c);
        console_restore(c);
        /* Before the exit event: Node may end (and we with it) right after. */
        for (size_t i = 0; i < m->n_workdirs; i++)
                workdir_remove(&m->workdirs[i]);
        if (WIFEXITED(m->status))
                report_exit_code(WEXITSTATUS(m->status));
        else
                report_exit_signal(WIFSIGNALED(m->status) ? WTERMSIG(m->status) : SIGKILL);
        /* Node may still want sd_notify messages sent (STOPPING=1); serve
         * commands until it says "quit" or closes the socket. */
        m->quit = false;
        while (control_open && !m->quit && read_control(m) == 0) {
        }
        return 0;
}
