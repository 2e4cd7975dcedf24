#!/usr/bin/env python3
"""An attacker's watcher for the race tests: waits (inotify) for an event on
a name in a directory, then performs file operations at once, as whoever
runs it (the tests run it as an unprivileged user).

usage: swap-on-event.py DIR EVENT NAME TIMEOUT_S ACTION...
EVENT: open (a file of that name opened), create (an entry created)
NAME: an exact name, or PREFIX* for any name starting with PREFIX
ACTION: rename:SRC:DST  symlink:TARGET:LINK  exchange:A:B (both names swapped
        in one step, renameat2 RENAME_EXCHANGE); paths may use {name}, the
        name that matched

Prints "ready" once watching, then "fired NAME" after the actions (or
"timeout"). Exits 0 when it fired.
"""
import ctypes
import os
import select
import struct
import sys

IN_OPEN, IN_CREATE = 0x20, 0x100
libc = ctypes.CDLL(None, use_errno=True)

watch_dir, event, pattern, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
actions = sys.argv[5:]
mask = {"open": IN_OPEN, "create": IN_CREATE}[event]

fd = libc.inotify_init1(os.O_CLOEXEC)
if fd < 0 or libc.inotify_add_watch(fd, watch_dir.encode(), mask) < 0:
    sys.exit(f"inotify: {os.strerror(ctypes.get_errno())}")
print("ready", flush=True)


def matches(name):
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


def fire(name):
    for action in actions:
        kind, a, b = action.split(":", 2)
        a, b = a.replace("{name}", name), b.replace("{name}", name)
        if kind == "rename":
            os.rename(a, b)
        elif kind == "symlink":
            os.symlink(a, b)
        elif kind == "exchange":
            if libc.renameat2(-100, a.encode(), -100, b.encode(), 2) < 0:  # AT_FDCWD, RENAME_EXCHANGE
                sys.exit(f"renameat2: {os.strerror(ctypes.get_errno())}")
    print(f"fired {name}", flush=True)
    sys.exit(0)


while True:
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        print("timeout", flush=True)
        sys.exit(1)
    buf = os.read(fd, 65536)
    off = 0
    while off < len(buf):
        _, ev_mask, _, length = struct.unpack_from("iIII", buf, off)
        name = buf[off + 16 : off + 16 + length].rstrip(b"\0").decode("utf-8", "surrogateescape")
        off += 16 + length
        if ev_mask & mask and matches(name):
            fire(name)
