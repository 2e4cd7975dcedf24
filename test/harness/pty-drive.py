#!/usr/bin/env python3
"""Runs a command on a fresh pty, the way a person at a terminal would.

usage: pty-drive.py ROWS COLS [--after MARKER --send DATA]... -- COMMAND...

Sets the window size, waits for each MARKER to appear in the output before
typing its DATA (Python escapes allowed, e.g. \\x1d), copies all output to
stdout and exits with the command's exit status. Used by the console tests:
Node has no pty of its own.
"""
import os
import pty
import select
import struct
import sys
import termios
import fcntl
import time


def main() -> int:
    args = sys.argv[1:]
    sep = args.index("--")
    opts, command = args[:sep], args[sep + 1 :]
    rows, cols = int(opts[0]), int(opts[1])
    steps = []
    i = 2
    while i < len(opts):
        if opts[i] == "--after":
            steps.append((opts[i + 1].encode(), opts[i + 3].encode().decode("unicode_escape").encode("latin-1")))
            i += 4
        else:
            raise SystemExit(f"pty-drive: unknown option {opts[i]}")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if fd in r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            seen += data
        while steps and steps[0][0] in seen:
            marker, payload = steps.pop(0)
            seen = seen[seen.index(marker) + len(marker) :]
            time.sleep(0.2)  # let the program switch its terminal to raw mode
            for b in payload:
                os.write(fd, bytes([b]))
                time.sleep(0.05)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8


if __name__ == "__main__":
    sys.exit(main())
