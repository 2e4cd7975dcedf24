#!/usr/bin/env python3
"""Prints one line per path of a tree: type, owner, mode, size, link target,
device numbers and extended attributes, sorted, for comparing two trees."""
import os
import stat
import sys

root = sys.argv[1]
out = []
for dirpath, dirnames, filenames in os.walk(root):
    for name in sorted(dirnames + filenames) + ([] if dirpath != root else ["."]):
        path = os.path.join(dirpath, name) if name != "." else root
        st = os.lstat(path)
        rel = os.path.relpath(path, root)
        kind = stat.S_IFMT(st.st_mode)
        fields = [rel, oct(kind), str(st.st_uid), str(st.st_gid), oct(stat.S_IMODE(st.st_mode))]
        if stat.S_ISREG(st.st_mode):
            fields.append(str(st.st_size))
        if stat.S_ISLNK(st.st_mode):
            fields.append("-> " + os.readlink(path))
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            fields.append(f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}")
        try:
            attrs = sorted(os.listxattr(path, follow_symlinks=False))
            for a in attrs:
                fields.append(f"{a}={os.getxattr(path, a, follow_symlinks=False).hex()}")
        except OSError:
            pass
        out.append(" ".join(fields))
out = sorted(set(out))
sys.stdout.write("\n".join(out) + "\n")
