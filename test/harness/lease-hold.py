#!/usr/bin/env python3
"""Holds a file still for a test: takes a write lease on argv[1] (fcntl
F_SETLEASE) and prints "held"; the first open of the file by anyone else
then blocks in the kernel (until the lease is released, or
/proc/sys/fs/lease-break-time runs out) and we print "opened". The lease is
released when our stdin closes. A deterministic point inside another
program's work, without timing: it is inside its open() of that file."""
import fcntl
import os
import signal
import sys

fd = os.open(sys.argv[1], os.O_RDONLY)
# The kernel tells the holder that someone opens the file with SIGIO.
signal.signal(signal.SIGIO, lambda *_: print("opened", flush=True))
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
print("held", flush=True)
sys.stdin.read()
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
