/* The container's console: a pty whose peer becomes /dev/console and the
 * payload's stdio; the monitor relays between it and our own stdio.
 *
 *   interactive  stdin -> pty -> stdout, our terminal in raw mode
 *   read-only    pty -> stdout only
 *   passive      pty output is read and dropped (the guest never blocks)
 *   pipe         no pty: the payload inherits our stdin/stdout/stderr */
#define _GNU_SOURCE
#include "console.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define ESCAPE_BYTE 0x1d        /* ^] */
#define ESCAPE_COUNT 3
#define ESCAPE_WINDOW_MS 1000

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int console_open(struct console *c, enum console_mode mode) {
        *c = (struct console){ .mode = mode, .master_fd = -1, .peer_fd = -1 };
        if (mode == CONSOLE_PIPE)
                return 0;
        c->master_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (c->master_fd < 0 || grantpt(c->master_fd) < 0 || unlockpt(c->master_fd) < 0)
                return -1;
        /* TIOCGPTPEER opens the peer through the master: no path lookup in /dev/pts. */
        c->peer_fd = ioctl(c->master_fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (c->peer_fd < 0 || ptsname_r(c->master_fd, c->peer_path, sizeof c->peer_path) != 0)
                return -1;
        if (mode == CONSOLE_INTERACTIVE)
                console_sync_winsize(c);
        else {
                /* Output goes to a pipe or file, not a terminal: keep the
                 * guest's "\n" as is instead of the tty's "\r\n". */
                struct termios t;
                if (tcgetattr(c->peer_fd, &t) == 0) {
                        t.c_oflag &= ~(tcflag_t) ONLCR;
                        (void) tcsetattr(c->peer_fd, TCSANOW, &t);
                }
        }
        return 0;
}

void console_sync_winsize(struct console *c) {
        struct winsize ws;
        if (c->master_fd < 0)
                return;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                (void) ioctl(c->master_fd, TIOCSWINSZ, &ws);
}

void console_make_raw(struct console *c) {
        if (c->mode != CONSOLE_INTERACTIVE || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &c->saved) < 0)
                return;
        struct termios raw = c->saved;
        /* Fully raw, output too: the guest's own pty already turned "\n" into "\r\n". */
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
                c->raw = true;
}

void console_restore(struct console *c) {
        if (c->raw)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
        c->raw = false;
}

int console_pump_output(struct console *c) {
        char buf[16384];
        ssize_t n = read(c->master_fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0)
                return -1;
        if (c->mode != CONSOLE_PASSIVE)
                /* A closed stdout must not stop the guest: drop what can't be written. */
                (void) write_all(STDOUT_FILENO, buf, (size_t) n);
        return 0;
}

int console_pump_input(struct console *c) {
        char buf[4096];
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0)
                return -1;
        for (ssize_t i = 0; i < n; i++) {
                if (buf[i] != ESCAPE_BYTE)
                        continue;
                long long t = now_ms();
                if (c->escapes == 0 || t - c->escape_window_start_ms > ESCAPE_WINDOW_MS) {
                        c->escapes = 0;
                        c->escape_window_start_ms = t;
                }
                if (++c->escapes >= ESCAPE_COUNT)
                        return 1;
        }
        (void) write_all(c->master_fd, buf, (size_t) n);
        return 0;
}

void console_drain(struct console *c) {
        if (c->master_fd < 0)
                return;
        /* With the last peer closed, the master reads what is buffered and
         * then EIO; the kernel flushes pending input before reporting it. */
        if (c->peer_fd >= 0) {
                close(c->peer_fd);
                c->peer_fd = -1;
        }
        int flags = fcntl(c->master_fd, F_GETFL);
        if (flags >= 0)
                (void) fcntl(c->master_fd, F_SETFL, flags & ~O_NONBLOCK);
        while (console_pump_output(c) == 0) {
        }
}
