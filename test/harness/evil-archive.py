#!/usr/bin/env python3
"""Writes a small tar archive with one trick in it, for the import tests.

usage: evil-archive.py KIND OUT OUTSIDE_DIR
KIND: dotdot, absolute, symlink-through, hardlink-out, blockdev, chardev, symlink-dir-swap,
      wide-date, byte-names
"""
import io
import sys
import tarfile

kind, out, outside = sys.argv[1], sys.argv[2], sys.argv[3]


def add(t, name, type_=tarfile.REGTYPE, data=b"pwned\n", linkname="", devmajor=0, devminor=0, mode=0o644, mtime=0):
    info = tarfile.TarInfo(name)
    info.type = type_
    info.mtime = mtime
    info.mode = mode
    info.linkname = linkname
    info.devmajor, info.devminor = devmajor, devminor
    if type_ == tarfile.REGTYPE:
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    else:
        t.addfile(info)


# Names that are no UTF-8 need raw bytes in the headers: GNU format, bytes kept as they are.
fmt = tarfile.GNU_FORMAT if kind == "byte-names" else tarfile.PAX_FORMAT
with tarfile.open(out, "w", format=fmt, encoding="utf-8", errors="surrogateescape") as t:
    add(t, "usr", tarfile.DIRTYPE, mode=0o755)
    add(t, "usr/lib/os-release", data=b"ID=evil\n")
    if kind == "dotdot":
        add(t, "usr/../../" + outside.strip("/") + "/dotdot")
    elif kind == "absolute":
        add(t, outside + "/absolute")
    elif kind == "symlink-through":
        add(t, "escape", tarfile.SYMTYPE, linkname=outside)
        add(t, "escape/through-symlink")
    elif kind == "hardlink-out":
        add(t, "hard", tarfile.LNKTYPE, linkname="../../../../../../etc/passwd")
    elif kind == "blockdev":
        add(t, "dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0, mode=0o660)
    elif kind == "chardev":
        add(t, "dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1, mode=0o640)
    elif kind == "symlink-dir-swap":
        add(t, "etc", tarfile.SYMTYPE, linkname=outside)
        add(t, "etc", tarfile.DIRTYPE, mode=0o755)
        add(t, "etc/swapped")
    elif kind == "wide-date":
        # A year past 9999 widens the date column of this and every later listing line.
        add(t, "usr/lib/far-future", mtime=2**40)
        add(t, "dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0, mode=0o660)
    elif kind == "byte-names":
        # Bytes 0xff and 0xfe are no UTF-8: decoded as UTF-8 both would be U+FFFD, one name.
        add(t, "\udcff", tarfile.SYMTYPE, linkname=outside)
        add(t, "\udcfe")
        add(t, "\udcff/through-symlink")
    else:
        raise SystemExit("unknown kind " + kind)
