/* tsnspawn exec's parent side while the command runs: signals to us reach
 * the command, and with -t the pty is relayed to our terminal (in raw
 * mode, the window size kept in sync), with console.c's code, as the
 * monitor relays the container's console.
 *
 * Where we are: the container's mount, UTS, IPC and network namespaces,
 * the host's pid namespace (the command is our child there), full root.
 *
 * Which signals are forwarded: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
 * SIGUSR2, and SIGWINCH with -t (as the new window size). Without -t the
 * command shares our process group, so a signal the terminal sends (^C,
 * ^\, a hangup: si_code SI_KERNEL) reaches it already; only those sent to
 * us by a process (kill, systemd) are passed on, or it would get two. */
#define _GNU_SOURCE
#include "console.h"
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Our stdin ended (a pipe into -t): the command reads end-of-file too, as
 * when someone types ^D, if its pty is in canonical mode (else it has no
 * end-of-file to give). */
static void pass_eof(struct console *con) {
        struct termios t;
        if (tcgetattr(con->master_fd, &t) == 0 && (t.c_lflag & ICANON))
                (void) !write(con->master_fd, &t.c_cc[VEOF], 1);
}

static bool forwarded(int sig) {
        return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT || sig == SIGUSR1 || sig == SIGUSR2;
}

/* What is left in the pty once the command exited; a process it left
 * running may hold the pty open, so stop at the first empty read. */
static void drain(struct console *con) {
        int flags = fcntl(con->master_fd, F_GETFL);
        if (flags >= 0)
                (void) fcntl(con->master_fd, F_SETFL, flags | O_NONBLOCK);
        while (console_pump_output(con) == 0) {
                struct pollfd p = { .fd = con->master_fd, .events = POLLIN };
                if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
                        break;
        }
}

int exec_wait(pid_t child, struct console *con) {
        sigset_t mask;
        sigprocmask(SIG_BLOCK, NULL, &mask); /* exec.c blocked ours before the fork */
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        bool pty = con != NULL;
        bool in_open = pty, out_open = pty;
        if (pty) {
                /* The command has its copy; ours would keep the pty from hanging up. */
                close(con->peer_fd);
                con->peer_fd = -1;
                console_make_raw(con);
        }
        int status = 0;
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = out_open ? con->master_fd : -1, .events = POLLIN },
                };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR) && console_pump_output(con) < 0)
                        out_open = false; /* EIO: the last process of the command's closed it */
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        int r = console_pump_input(con);
                        if (r < 0) {
                                in_open = false;
                                pass_eof(con);
                        }
                        else if (r == 1)
                                kill(child, SIGKILL); /* ^] three times, as on the console */
                }
                if (!(p[0].revents & POLLIN))
                        continue;
                struct signalfd_siginfo si;
                if (read(sfd, &si, sizeof si) != (ssize_t) sizeof si)
                        continue;
                int sig = (int) si.ssi_signo;
                if (sig == SIGWINCH && pty)
                        console_sync_winsize(con); /* the kernel tells the command's foreground group */
                else if (forwarded(sig) && (pty || si.ssi_code != SI_KERNEL))
                        kill(child, sig);
                else if (sig == SIGCHLD) {
                        pid_t r = waitpid(child, &status, WNOHANG);
                        if (r == child)
                                break;
                }
        }
        if (pty) {
                drain(con);
                console_restore(con);
        }
        close(sfd);
        return status;
}
