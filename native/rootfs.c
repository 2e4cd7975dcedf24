/* How the tree becomes the container's root: as it is, or (ephemeral and
 * volatile modes) through mounts that exist only in the container's mount
 * namespace, so they vanish with it, even when tsnspawn is SIGKILLed.
 *
 * Where we are: the container's mount namespace (recursively slave), before
 * the mount ops, full root. The tree is captured as a file descriptor first;
 * then the new root is mounted over the tree's path, which only this
 * namespace sees. Overlay layers are handed to the kernel as descriptors
 * (fsconfig "lowerdir+"/"upperdir"/"workdir" by fd, Linux 6.8+). */
#define _GNU_SOURCE
#include "rootfs.h"

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
static int sys_fsmount(int fd) { return (int) syscall(SYS_fsmount, fd, FSMOUNT_CLOEXEC, 0); }
static int sys_move_mount(int from, const char *to) {
        return (int) syscall(SYS_move_mount, from, "", AT_FDCWD, to, MOVE_MOUNT_F_EMPTY_PATH);
}

/* overlay: lower = the tree (read-only, passed by descriptor), upper and
 * work on a tmpfs mounted over the tree's path; the overlay then goes on
 * top of that tmpfs, at the same path. */
static int overlay_root(const char *root, int treefd, struct failure *f) {
        if (mount("tmpfs", root, "tmpfs", 0, "mode=0755") < 0)
                return fail(f, "root", "tmpfs", root, errno, "cannot mount the tmpfs for the writable layer");
        char upper[4096], work[4096];
        snprintf(upper, sizeof upper, "%s/upper", root);
        snprintf(work, sizeof work, "%s/work", root);
        if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)
                return fail(f, "root", "tmpfs", root, errno, "cannot create the overlay's upper and work directories");
        int fs = sys_fsopen("overlay");
        if (fs < 0)
                return fail(f, "root", "overlay", root, errno, "this kernel has no overlayfs");
        if (sys_fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, treefd) < 0 ||
            sys_fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            sys_fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                int e = errno;
                close(fs);
                return fail(f, "root", "overlay", root, e, "cannot set up an overlay over %s (needs Linux 6.8 or newer)", root);
        }
        int mnt = sys_fsmount(fs);
        int e = errno;
        close(fs);
        if (mnt < 0 || sys_move_mount(mnt, root) < 0)
                return fail(f, "root", "overlay", root, mnt < 0 ? e : errno, "cannot mount the overlay over %s", root);
        close(mnt);
        return 0;
}

/* volatile=yes: an empty tmpfs as root with the tree's /usr bound read-only. */
static int volatile_root(const char *root, int treefd, struct failure *f) {
        if (mount("tmpfs", root, "tmpfs", MS_STRICTATIME, "mode=0755") < 0)
                return fail(f, "root", "tmpfs", root, errno, "cannot mount a tmpfs as the volatile root");
        char usr[4096];
        snprintf(usr, sizeof usr, "%s/usr", root);
        if (mkdir(usr, 0755) < 0 && errno != EEXIST)
                return fail(f, "root", "mkdir", "/usr", errno, "cannot create /usr on the volatile root");
        int usrfd = openat(treefd, "usr", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (usrfd < 0)
                return fail(f, "root", "bind", "/usr", errno, "the tree has no /usr directory to keep");
        char src[32];
        snprintf(src, sizeof src, "/proc/self/fd/%d", usrfd);
        int r = mount(src, usr, NULL, MS_BIND | MS_REC, NULL);
        int e = errno;
        close(usrfd);
        if (r < 0)
                return fail(f, "root", "bind", "/usr", e, "cannot bind the tree's /usr");
        if (mount(NULL, usr, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
                return fail(f, "root", "remount-ro", "/usr", errno, "cannot make /usr read-only");
        /* merged-/usr links, so the guest finds its programs. */
        const char *links[][2] = { { "usr/bin", "bin" }, { "usr/sbin", "sbin" }, { "usr/lib", "lib" }, { "usr/lib64", "lib64" } };
        for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", root, links[i][1]);
                struct stat st;
                if (fstatat(treefd, links[i][0], &st, 0) == 0)
                        (void) symlink(links[i][0], p);
        }
        return 0;
}

int rootfs_prepare(const char *root, enum root_mode mode, struct failure *f) {
        if (mode == ROOT_PLAIN)
                return 0;
        int treefd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return fail(f, "root", "", root, errno, "cannot open the tree %s", root);
        int r = mode == ROOT_OVERLAY ? overlay_root(root, treefd, f) : volatile_root(root, treefd, f);
        close(treefd);
        return r;
}
