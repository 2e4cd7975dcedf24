/* How the tree becomes the container's root: as it is, or (ephemeral and
 * volatile modes) through mounts that exist only in the container's mount
 * namespace, so they vanish with it, even when tsnspawn is SIGKILLed.
 *
 * Where we are: the container's mount namespace (recursively slave), before
 * the mount ops, full root. The tree is never named by path here: the
 * caller hands us a descriptor of it, checked against the device and inode
 * Node inspected (tree.c), and every mount is made with the new mount API
 * onto that descriptor (move_mount with MOVE_MOUNT_T_EMPTY_PATH). A
 * directory renamed or replaced by a symlink after the check cannot redirect
 * a single mount. The result is a descriptor of the new root mount. */
#define _GNU_SOURCE
#include "rootfs.h"
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_fsopen(const char *fs) { return (int) syscall(SYS_fsopen, fs, FSOPEN_CLOEXEC); }
static int sys_fsconfig(int fd, unsigned cmd, const char *key, const void *val, int aux) {
        return (int) syscall(SYS_fsconfig, fd, cmd, key, val, aux);
}
static int sys_fsmount(int fd, unsigned attrs) { return (int) syscall(SYS_fsmount, fd, FSMOUNT_CLOEXEC, attrs); }
static int sys_open_tree(int dfd, const char *path, unsigned flags) { return (int) syscall(SYS_open_tree, dfd, path, flags); }

/* Attaches the detached mount mnt on top of the directory (or mount) at fd. */
static int attach_onto(int mnt, int fd) {
        return (int) syscall(SYS_move_mount, mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* A new file system as a detached mount: fsopen, options, fsmount. */
static int new_mount(const char *fstype, const char *const options[][2], unsigned attrs) {
        int fs = sys_fsopen(fstype);
        if (fs < 0)
                return -1;
        for (size_t i = 0; options && options[i][0]; i++)
                if (sys_fsconfig(fs, FSCONFIG_SET_STRING, options[i][0], options[i][1], 0) < 0)
                        goto fail;
        if (sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                goto fail;
        int mnt = sys_fsmount(fs, attrs);
        int e = errno;
        close(fs);
        errno = e;
        return mnt;
fail:
        e = errno;
        close(fs);
        errno = e;
        return -1;
}

/* Attaches the detached mount mnt (or its creation's failure) over the
 * tree; returns mnt, or -1 with f set (op and message name the step). */
static int attach_over_tree(int mnt, int treefd, const char *op, const char *what, struct failure *f) {
        if (mnt < 0)
                return fail(f, "root", op, "/", errno, "cannot %s", what);
        if (attach_onto(mnt, treefd) < 0) {
                int e = errno;
                close(mnt);
                return fail(f, "root", op, "/", e, "cannot %s", what);
        }
        return mnt;
}

/* A tmpfs (mode 0755) attached over the tree: the container's writable
 * base; under a user namespace owned by the container's root. Sized as
 * nspawn sizes a volatile root (TMPFS_LIMITS.volatile in
 * src/plan/mount-table.ts: 25% of RAM, 1M inodes), so a guest that writes
 * without end gets ENOSPC instead of taking half the host's memory. */
static int tmpfs_over_tree(int treefd, unsigned attrs, const struct idmap *im, struct failure *f) {
        char id[16];
        snprintf(id, sizeof id, "%u", im ? (unsigned) im->base : 0u);
        const char *const opts[][2] = { { "mode", "0755" }, { "size", "25%" }, { "nr_inodes", "1m" }, { "uid", id }, { "gid", id }, { NULL, NULL } };
        return attach_over_tree(new_mount("tmpfs", opts, attrs), treefd, "tmpfs", "mount a tmpfs over the tree for the container's root", f);
}

/* A detached copy of the directory at fd (with what is mounted below it),
 * idmapped to the container's user namespace when im says so: its files'
 * owners on disk (0, 1, ...) appear as the container's (host BASE, BASE+1,
 * ...) and what the container creates is stored as 0, 1, ... again. */
static int clone_tree(int fd, const struct idmap *im) {
        int mnt = sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (mnt < 0 || !im || im->userns_fd < 0)
                return mnt;
        struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64) im->userns_fd };
        if (syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0) {
                int e = errno;
                close(mnt);
                errno = e;
                return -1;
        }
        return mnt;
}

/* plain: the tree bound onto itself (pivot_root needs a mount point). */
static int plain_root(int treefd, const struct idmap *im, struct failure *f) {
        return attach_over_tree(clone_tree(treefd, im), treefd, "bind",
                                im && im->userns_fd >= 0 ? "mount the tree idmapped (does its file system support idmapped mounts? else use --private-users-ownership=chown)"
                                                        : "bind the tree onto itself",
                                f);
}

/* overlay: lower = the tree (by descriptor), upper and work on a tmpfs
 * attached over the tree; the overlay then goes on top of that tmpfs. */
static int overlay_root(int treefd, const struct idmap *im, struct failure *f) {
        /* Idmapped, the lower layer is the tree's idmapped copy, attached
         * over the tree first (overlayfs takes attached layers only). */
        int lower = treefd, mapped = -1;
        if (im && im->userns_fd >= 0) {
                mapped = plain_root(treefd, im, f);
                if (mapped < 0)
                        return -1;
                lower = mapped;
        }
        int base = tmpfs_over_tree(lower, 0, im, f);
        if (base < 0) {
                if (mapped >= 0)
                        close(mapped);
                return -1;
        }
        int r = -1, up = -1, wk = -1, mnt = -1;
        if (mkdirat(base, "upper", 0755) < 0 || mkdirat(base, "work", 0700) < 0 ||
            (up = openat(base, "upper", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
            (wk = openat(base, "work", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                fail(f, "root", "tmpfs", "/", errno, "cannot create the overlay's upper and work directories");
                goto out;
        }
        char upper[32], work[32];
        snprintf(upper, sizeof upper, "/proc/self/fd/%d", up);
        snprintf(work, sizeof work, "/proc/self/fd/%d", wk);
        int fs = sys_fsopen("overlay");
        if (fs < 0) {
                fail(f, "root", "overlay", "/", errno, "this kernel has no overlayfs");
                goto out;
        }
        if (sys_fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, lower) < 0 || sys_fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            sys_fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 || sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
            (mnt = sys_fsmount(fs, 0)) < 0) {
                int e = errno;
                close(fs);
                fail(f, "root", "overlay", "/", e, "cannot set up an overlay over the tree (needs Linux 6.8 or newer)");
                goto out;
        }
        close(fs);
        if (attach_onto(mnt, base) < 0) {
                fail(f, "root", "overlay", "/", errno, "cannot mount the overlay over the tree");
                close(mnt);
                goto out;
        }
        r = mnt;
out:
        if (up >= 0)
                close(up);
        if (wk >= 0)
                close(wk);
        if (mapped >= 0)
                close(mapped);
        close(base);
        return r;
}

/* volatile=yes: an empty tmpfs as root with the tree's /usr bound read-only. */
static int volatile_root(int treefd, const struct idmap *im, struct failure *f) {
        int root = tmpfs_over_tree(treefd, MOUNT_ATTR_STRICTATIME, im, f);
        if (root < 0)
                return -1;
        int usrfd = -1, usr = -1, dst = -1;
        if (mkdirat(root, "usr", 0755) < 0) {
                fail(f, "root", "mkdir", "/usr", errno, "cannot create /usr on the volatile root");
                goto bad;
        }
        usrfd = openat(treefd, "usr", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (usrfd < 0) {
                fail(f, "root", "bind", "/usr", errno, "the tree has no /usr directory to keep");
                goto bad;
        }
        usr = clone_tree(usrfd, im);
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        dst = openat(root, "usr", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (usr < 0 || dst < 0 || syscall(SYS_mount_setattr, usr, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0 || attach_onto(usr, dst) < 0) {
                fail(f, "root", "bind", "/usr", errno, "cannot bind the tree's /usr read-only");
                goto bad;
        }
        close(usr);
        close(dst);
        /* merged-/usr links, so the guest finds its programs. */
        static const char *const links[][2] = { { "usr/bin", "bin" }, { "usr/sbin", "sbin" }, { "usr/lib", "lib" }, { "usr/lib64", "lib64" } };
        for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
                struct stat st;
                if (fstatat(usrfd, links[i][0] + 4, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        (void) symlinkat(links[i][0], root, links[i][1]);
        }
        close(usrfd);
        return root;
bad:
        if (usrfd >= 0)
                close(usrfd);
        if (usr >= 0)
                close(usr);
        if (dst >= 0)
                close(dst);
        close(root);
        return -1;
}

/* The pivot over base (the tree's directory, or with pv->last the root
 * mode's mount of it): a copy of new_root (idmapped as im says) attached
 * over base, and with old_root a copy of all of base attached at old_root
 * inside it. Paths resolve inside base (RESOLVE_IN_ROOT). Returns the new
 * root's mount. */
static int pivot_over(int base, const struct pivot *pv, const struct idmap *im, struct failure *f) {
        int dir = open_in_root(base, pv->new_root, O_PATH | O_DIRECTORY);
        if (dir < 0)
                return fail(f, "root", "pivot-root", pv->new_root, errno, "cannot open %s in the tree for --pivot-root", pv->new_root);
        int newmnt = clone_tree(dir, im);
        int e = errno;
        close(dir);
        if (newmnt < 0)
                return fail(f, "root", "pivot-root", pv->new_root, e, "cannot make %s a mount for --pivot-root", pv->new_root);
        int oldmnt = -1, dst = -1;
        if (pv->old_root) {
                struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
                oldmnt = clone_tree(base, im);
                if (oldmnt < 0 || (pv->old_read_only && syscall(SYS_mount_setattr, oldmnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof ro) < 0)) {
                        fail(f, "root", "pivot-root", pv->old_root, errno, "cannot make a mount of the whole tree for --pivot-root's %s", pv->old_root);
                        goto bad;
                }
        }
        if (attach_onto(newmnt, base) < 0) {
                fail(f, "root", "pivot-root", pv->new_root, errno, "cannot mount %s as the container's root", pv->new_root);
                goto bad;
        }
        if (oldmnt >= 0) {
                dst = open_in_root(newmnt, pv->old_root, O_PATH | O_DIRECTORY);
                if (dst < 0 || attach_onto(oldmnt, dst) < 0) {
                        fail(f, "root", "pivot-root", pv->old_root, errno, "cannot mount the old root at %s in the new root", pv->old_root);
                        goto bad;
                }
                close(dst);
                close(oldmnt);
        }
        return newmnt;
bad:
        e = errno;
        if (dst >= 0)
                close(dst);
        if (oldmnt >= 0)
                close(oldmnt);
        close(newmnt);
        errno = e;
        return -1;
}

static int mode_root(int treefd, enum root_mode mode, const struct idmap *im, struct failure *f) {
        switch (mode) {
        case ROOT_OVERLAY:
                return overlay_root(treefd, im, f);
        case ROOT_VOLATILE:
                return volatile_root(treefd, im, f);
        case ROOT_PLAIN:
                break;
        }
        return plain_root(treefd, im, f);
}

int rootfs_mount(int treefd, enum root_mode mode, const struct idmap *im, const struct pivot *pv, struct failure *f) {
        if (!pv)
                return mode_root(treefd, mode, im, f);
        if (pv->last) {
                /* The whole tree as the root mode makes it (idmapped there), then the pivot inside. */
                int base = mode_root(treefd, mode, im, f);
                if (base < 0)
                        return -1;
                int root = pivot_over(base, pv, NULL, f);
                close(base);
                return root;
        }
        /* The pivot first (the copies idmapped), then the root mode on the new root. */
        int root = pivot_over(treefd, pv, im, f);
        if (root < 0 || mode == ROOT_PLAIN)
                return root;
        struct idmap mapped = { .userns_fd = -1, .base = im ? im->base : 0 };
        int moded = mode_root(root, mode, im ? &mapped : NULL, f);
        close(root);
        return moded;
}
