/* The monitor: the container's parent after fork.
 *
 * Where we are: the host's namespaces, full root; the child is PID 1 of its
 * own namespace and waits at the barrier. One poll loop serves the control
 * socket (commands from Node), the child's error pipe (a setup failure, or
 * EOF once exec worked), the console, the notify socket and signals. */
#define _GNU_SOURCE
#include "monitor.h"
#include "bus-register.h"
#include "bus-redial.h"
#include "device-policy.h"
#include "port.h"
#include "random-name.h"
#include "report.h"
#include "tree-lock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

enum { P_SIGNAL, P_CONTROL, P_LISTEN, P_ERR, P_MASTER, P_STDIN, P_NOTIFY, P_BUS, P_BUS_REDIAL, P_NET, P__MAX };

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

/* "handover": Node is about to execve into the supervisor, which must
 * then reach us. We listen on an abstract socket with a random name
 * (reported in the "handover" event) and take the first connection that
 * comes from our parent's pid: the supervisor is Node's pid after the
 * execve. (Taking a socket out of our table with pidfd_getfd would need
 * ptrace rights that container managers' seccomp filters deny, nspawn's
 * among them.) Events meanwhile are held, in order. Node's socket closes
 * here, so Node's end going away with the execve is no sign of its death. */
static void hand_over(struct monitor *m) {
        char name[64];
        if (m->reaped || m->listen_fd >= 0)
                return;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || random_name(name, sizeof name, "tsnspawn-supervise-") < 0) {
                report_error("control", "handover", "", errno, "cannot make the supervisor's control socket");
                if (fd >= 0)
                        close(fd);
                return;
        }
        /* Abstract: sun_path[0] is NUL; the name follows. */
        size_t n = strlen(name);
        memcpy(sa.sun_path + 1, name, n);
        socklen_t len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + n);
        if (bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, 4) < 0) {
                report_error("control", "handover", "", errno, "cannot listen for the supervisor");
                close(fd);
                return;
        }
        char shown[72];
        snprintf(shown, sizeof shown, "@%s", name);
        report_handover(shown);
        report_hold();
        close(m->control_fd);
        m->control_fd = -1;
        m->listen_fd = fd;
        m->cmd_len = 0;
}

/* tsnspawn's descriptors Node's execve did not keep (plan.h's carry), to
 * the supervisor first, in the plan's order, with one byte of data. */
static void send_carried_fds(const struct monitor *m, int fd) {
        size_t n = m->plan->n_carry;
        if (n == 0)
                return;
        int fds[32];
        for (size_t i = 0; i < n; i++)
                fds[i] = m->plan->carry[i].fd;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof fds)];
        } control = { 0 };
        struct iovec iov = { .iov_base = "F", .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n * sizeof(int));
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
                report_warning("cannot hand tsnspawn's descriptors (--events, socket activation) to the supervisor", errno);
}

/* A connection on the handover socket: the supervisor's, or refused. */
static void accept_supervisor(struct monitor *m) {
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != getppid()) {
                close(fd);
                return;
        }
        close(m->listen_fd);
        m->listen_fd = -1;
        m->control_fd = fd;
        send_carried_fds(m, fd);
        report_set_fd(fd);
}

/* Commands are lines: "go" (release the barrier), "kill SIGNO",
 * "sdnotify MESSAGE" (percent-escaped, for our own service manager),
 * "handover" (the supervisor replaces Node), "quit". */
static void handle_command(struct monitor *m, const char *line) {
        if (strcmp(line, "go") == 0) {
                struct failure f = { 0 };
                /* Init sits in its final cgroup now: the policy goes there before it runs. */
                if (m->barrier_fd >= 0 && m->own_devices && device_policy_apply(m->child, &f) < 0) {
                        report_error(f.step, f.op, f.path, f.err, f.message);
                        kill(m->child, SIGKILL);
                        close(m->barrier_fd);
                        m->barrier_fd = -1;
                }
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
        } else if (strncmp(line, "sdnotify ", 9) == 0) {
                char *msg = strdup(line + 9);
                if (msg) {
                        unescape_arg(msg);
                        /* From Node, which is the pid systemd knows. */
                        notify_send_outer_as(getppid(), msg);
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

/* The bus cannot be had again (bus-redial.c said so): on without it. */
static void drop_bus(struct monitor *m) {
        bus_close(m->bus);
        m->bus = NULL;
}

/* systemd's stop requests become "stop" events: whoever holds the control
 * channel (Node or the supervisor) treats one like a SIGTERM to tsnspawn.
 * A closed connection (the bus restarted) is dialled again. */
static void receive_bus(struct monitor *m, struct bus_redial *redial) {
        enum bus_result r = bus_receive(m->bus);
        if (r == BUS_STOP_REQUESTED)
                report_stop();
        else if (r == BUS_CLOSED && !bus_redial_lost(redial, m->bus, errno))
                drop_bus(m);
        if (m->bus)
                bus_redial_check(redial, m->bus);
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

sigset_t monitor_signals(void) {
        sigset_t mask;
        sigemptyset(&mask);
        int sigs[] = { SIGCHLD, SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
                sigaddset(&mask, sigs[i]);
        return mask;
}

int monitor_run(struct monitor *m) {
        sigset_t mask = monitor_signals();
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
        struct bus_redial redial = BUS_REDIAL_INIT;
        while (!m->reaped) {
                struct pollfd p[P__MAX] = {
                        [P_SIGNAL] = { .fd = sfd, .events = POLLIN },
                        [P_CONTROL] = { .fd = control_open ? m->control_fd : -1, .events = POLLIN },
                        [P_LISTEN] = { .fd = m->listen_fd, .events = POLLIN },
                        [P_ERR] = { .fd = m->err_fd, .events = POLLIN },
                        [P_MASTER] = { .fd = relay_out ? c->master_fd : -1, .events = POLLIN },
                        [P_STDIN] = { .fd = relay_in ? STDIN_FILENO : -1, .events = POLLIN },
                        [P_NOTIFY] = { .fd = m->notify->fd, .events = POLLIN },
                        [P_BUS] = { .fd = m->bus ? m->bus->fd : -1, .events = POLLIN },
                        [P_BUS_REDIAL] = { .fd = m->bus && redial.waiting ? redial.timer_fd : -1, .events = POLLIN },
                        [P_NET] = { .fd = m->net ? m->net->watch_fd : -1, .events = POLLIN },
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
                if (p[P_LISTEN].revents)
                        accept_supervisor(m);
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
                if (p[P_BUS].revents)
                        receive_bus(m, &redial);
                if (p[P_BUS_REDIAL].revents && !bus_redial_attempt(&redial, m->bus, m->plan->reg.bus_socket))
                        drop_bus(m);
                if (p[P_NET].revents)
                        port_on_event(m->net);
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
        /* Before the exit event: Node may end (and we with it) right after,
         * and a guest reboot's next start takes the tree's lock again. */
        tree_lock_release();
        for (size_t i = 0; i < m->n_workdirs; i++)
                workdir_remove(&m->workdirs[i]);
        /* Links, zone bridge and --port rules: gone before tsnspawn exits,
         * whoever holds the control socket (Node or the supervisor). */
        if (m->net)
                network_teardown(m->net);
        /* The machine's name is free again by the time tsnspawn exits. */
        if (m->bus && m->registered && m->bus->fd >= 0)
                bus_unregister(m->bus, &m->plan->reg);
        bus_redial_done(&redial);
        if (WIFEXITED(m->status))
                report_exit_code(WEXITSTATUS(m->status));
        else
                report_exit_signal(WIFSIGNALED(m->status) ? WTERMSIG(m->status) : SIGKILL);
        /* Node may still want sd_notify messages sent (STOPPING=1); serve
         * commands until it says "quit" or closes the socket. */
        m->quit = false;
        while (control_open && !m->quit) {
                if (m->listen_fd >= 0) {
                        /* Ended during the handover: the supervisor hears of it once it connects. */
                        struct pollfd lp = { .fd = m->listen_fd, .events = POLLIN };
                        if (poll(&lp, 1, -1) < 0 && errno != EINTR)
                                break;
                        accept_supervisor(m);
                } else if (read_control(m) != 0)
                        break;
        }
        return 0;
}
