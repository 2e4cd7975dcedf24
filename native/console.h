#pragma once

#include "plan.h"

#include <stdbool.h>
#include <termios.h>

struct console {
        enum console_mode mode;
        int master_fd;      /* our side of the pty, or -1 in pipe mode */
        int peer_fd;        /* the container's side, or -1 */
        char peer_path[64]; /* its /dev/pts path in the host's mount table */
        bool raw;           /* our stdin was switched to raw mode */
        struct termios saved;
        int escapes;        /* ^] seen in the current window */
        long long escape_window_start_ms;
};

int console_open(struct console *c, enum console_mode mode);
/* Copies our terminal's window size to the pty. */
void console_sync_winsize(struct console *c);
/* Interactive mode: switch our stdin to raw; restored by console_restore. */
void console_make_raw(struct console *c);
void console_restore(struct console *c);
/* Relays what the container wrote. Returns -1 once the pty reports EOF/EIO. */
int console_pump_output(struct console *c);
/* Relays our stdin to the container. Returns 1 when ^] was pressed three
 * times within a second, -1 on EOF of stdin, else 0. */
int console_pump_input(struct console *c);
/* After init exited: hang up our copy of the peer and drain what's left. */
void console_drain(struct console *c);
