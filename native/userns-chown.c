/* --private-users-ownership=chown: shifting a tree's files into the
 * container's uid range on disk, as systemd-nspawn's path_patch_uid does.
 *
 * Runs in the monitor, real root in the host's namespaces, after the range
 * is taken and the tree opened and checked (main.c), before anything of the
 * container exists. Each id keeps its lower 16 bits and gets the range's
 * upper ones (so a tree of another range is shifted over, and a second pass
 * changes nothing). As nspawn:
 *   - the top directory is first marked busy (owned by 0xFFFE0000 + its low
 *     bits, a range nobody picks) and shifted last, so "the top directory is
 *     of the range" means the whole tree is, and an interrupted run is
 *     redone from the start next time;
 *   - chown clears setuid/setgid bits: the mode is restored after it;
 *   - POSIX ACLs (access, and directories' default) have their user and
 *     group entries shifted too;
 *   - read-only subtrees and kernel file systems (proc, sysfs, ...) are
 *     skipped.
 * Beyond nspawn: chown also drops a file's capabilities (security.capability,
 * the kernel's killpriv), so they are read first and written back (a v3
 * record's root id shifted like an owner); and the walk never leaves the
 * tree's own mount (nspawn crosses into mounts under the tree, which on the
 * host could be anyone's files). Symbolic links are chowned, never followed. */
#define _GNU_SOURCE
#include "userns-chown.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#define BUSY_BASE 0xFFFE0000u
#define HIGH_MASK 0xFFFF0000u
/* Directory depth the walk descends; deeper is refused rather than cut short. */
#define MAX_DEPTH 256

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202 /* not in linux/magic.h */
#endif

/* Kernel file systems whose inodes are not the tree's (nspawn's list). */
static const long long special_fs[] = {
        BINFMTFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC, DEVPTS_SUPER_MAGIC, EFIVARFS_MAGIC,
        HUGETLBFS_MAGIC, MQUEUE_MAGIC, PROC_SUPER_MAGIC, PSTOREFS_MAGIC, SELINUX_MAGIC, SMACK_MAGIC, SECURITYFS_MAGIC,
        BPF_FS_MAGIC, TRACEFS_MAGIC, SYSFS_MAGIC,
};

struct walk {
        uint32_t shift;
        uint64_t mnt_id;        /* the tree's own mount */
        struct failure *f;
};

static uint32_t shifted(uint32_t shift, uint32_t id) {
        return shift | (id & ~HIGH_MASK);
}

/* A path naming the inode behind an O_PATH descriptor, for the *xattr calls
 * (there are no f*xattr calls on O_PATH descriptors). */
static void fd_path(int fd, char buf[static 32]) {
        snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/* POSIX ACL xattr: a 4-byte header, then 8-byte entries {u16 tag, u16 perm, u32 id}. */
#define ACL_EA_VERSION 2
#define ACL_USER_TAG 0x02
#define ACL_GROUP_TAG 0x08

static int shift_acl(const char *path, const char *name, uint32_t shift, struct failure *f) {
        unsigned char buf[4096];
        ssize_t n = getxattr(path, name, buf, sizeof buf);
        if (n < 0) {
                if (errno == ENODATA || errno == EOPNOTSUPP)
                        return 0;
                return fail(f, "userns", "chown", path, errno, "cannot read the ACL %s while chowning the tree", name);
        }
        if (n < 4 || (n - 4) % 8 != 0 || buf[0] != ACL_EA_VERSION)
                return fail(f, "userns", "chown", path, EINVAL, "cannot shift an ACL %s of an unknown format while chowning the tree", name);
        bool changed = false;
        for (ssize_t off = 4; off < n; off += 8) {
                uint16_t tag = (uint16_t) (buf[off] | buf[off + 1] << 8);
                if (tag != ACL_USER_TAG && tag != ACL_GROUP_TAG)
                        continue;
                uint32_t id;
                memcpy(&id, buf + off + 4, 4); /* little endian on disk; so is every host tsnspawn builds for */
                uint32_t to = shifted(shift, id);
                if (to != id) {
                        memcpy(buf + off + 4, &to, 4);
                        changed = true;
                }
        }
        if (changed && setxattr(path, name, buf, (size_t) n, XATTR_REPLACE) < 0)
                return fail(f, "userns", "chown", path, errno, "cannot write the shifted ACL %s while chowning the tree", name);
        return 0;
}

/* vfs_ns_cap_data: magic_etc (revision in the top byte), data[2], rootid (v3 only). */
#define VFS_CAP_REVISION_MASK 0xFF000000u
#define VFS_CAP_REVISION_3 0x03000000u
#define XATTR_CAPS_SZ_3 24

static int patch_inode_at(int fd, const struct stat *st, struct walk *w);

/* Shifts one inode (an O_PATH descriptor fd, stat st) into the range; a
 * failure names the file by its host path, not by the descriptor. */
static int patch_inode(int fd, const struct stat *st, struct walk *w) {
        if (patch_inode_at(fd, st, w) == 0)
                return 0;
        char proc[32];
        fd_path(fd, proc);
        ssize_t n = readlink(proc, w->f->path, sizeof w->f->path - 1);
        w->f->path[n > 0 ? n : 0] = 0;
        size_t len = strlen(w->f->message);
        if (n > 0)
                snprintf(w->f->message + len, sizeof w->f->message - len, " (%s)", w->f->path);
        return -1;
}

static int patch_inode_at(int fd, const struct stat *st, struct walk *w) {
        char path[32];
        fd_path(fd, path);
        uint32_t uid = shifted(w->shift, st->st_uid), gid = shifted(w->shift, st->st_gid);
        bool is_link = S_ISLNK(st->st_mode);
        if (st->st_uid != uid || st->st_gid != gid) {
                /* chown would drop the capabilities: keep them to write back. */
                unsigned char caps[XATTR_CAPS_SZ_3];
                ssize_t ncaps = S_ISREG(st->st_mode) ? getxattr(path, "security.capability", caps, sizeof caps) : -1;
                if (ncaps < 0 && S_ISREG(st->st_mode) && errno != ENODATA && errno != EOPNOTSUPP)
                        return fail(w->f, "userns", "chown", path, errno, "cannot read a file's capabilities while chowning the tree");
                if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                        return fail(w->f, "userns", "chown", path, errno, "cannot chown a file of the tree to %u:%u", uid, gid);
                /* The kernel cleared setuid/setgid: the mode as it was (links have none). */
                if (!is_link && chmod(path, st->st_mode & 07777) < 0)
                        return fail(w->f, "userns", "chown", path, errno, "cannot restore a file's mode after chowning it");
                if (ncaps > 0) {
                        uint32_t magic;
                        memcpy(&magic, caps, 4);
                        if ((magic & VFS_CAP_REVISION_MASK) == VFS_CAP_REVISION_3 && ncaps >= XATTR_CAPS_SZ_3) {
                                uint32_t rootid;
                                memcpy(&rootid, caps + 20, 4);
                                rootid = shifted(w->shift, rootid);
                                memcpy(caps + 20, &rootid, 4);
                        }
                        if (setxattr(path, "security.capability", caps, (size_t) ncaps, 0) < 0)
                                return fail(w->f, "userns", "chown", path, errno, "cannot restore a file's capabilities after chowning it");
                }
        }
        if (is_link)
                return 0;
        if (shift_acl(path, "system.posix_acl_access", w->shift, w->f) < 0)
                return -1;
        if (S_ISDIR(st->st_mode) && shift_acl(path, "system.posix_acl_default", w->shift, w->f) < 0)
                return -1;
        return 0;
}

/* Whether the directory dirfd is where the walk stops: another mount, a
 * kernel file system, or read-only. */
static int skip_dir(int dirfd, struct walk *w, bool *skip) {
        struct statx sx;
        if (statx(dirfd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
                return fail(w->f, "userns", "chown", "", errno, "cannot inspect a directory of the tree");
        if (sx.stx_mnt_id != w->mnt_id) {
                *skip = true;
                return 0;
        }
        struct statfs sfs;
        if (fstatfs(dirfd, &sfs) < 0)
                return fail(w->f, "userns", "chown", "", errno, "cannot inspect the file system of a directory of the tree");
        /* f_flags: the mount's flags (ST_*), as statvfs reports them. */
        *skip = sfs.f_flags & ST_RDONLY;
        for (size_t i = 0; i < sizeof special_fs / sizeof special_fs[0]; i++)
                if ((long long) sfs.f_type == special_fs[i])
                        *skip = true;
        return 0;
}

/* Shifts what is in the directory dirfd (an O_RDONLY descriptor, closed
 * here), depth-first, then the directory itself unless it is the top. */
static int walk_dir(int dirfd, const struct stat *st, struct walk *w, int depth, bool top) {
        bool skip = false;
        if (skip_dir(dirfd, w, &skip) < 0) {
                close(dirfd);
                return -1;
        }
        if (skip) {
                close(dirfd);
                return 0;
        }
        if (depth > MAX_DEPTH) {
                close(dirfd);
                return fail(w->f, "userns", "chown", "", ELOOP, "the tree is more than %d directories deep; chown it by hand or use map", MAX_DEPTH);
        }
        DIR *d = fdopendir(dirfd);
        if (!d) {
                close(dirfd);
                return fail(w->f, "userns", "chown", "", errno, "cannot read a directory of the tree");
        }
        int r = 0;
        while (r == 0) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = fail(w->f, "userns", "chown", "", errno, "cannot read a directory of the tree");
                        break;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                /* Opened first, then inspected and changed by that descriptor:
                 * what is decided about is what is changed, even if the
                 * name is replaced meanwhile (another container may run on
                 * the tree). */
                int fd = openat(dirfd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                struct stat cst;
                if (fd < 0 || fstat(fd, &cst) < 0) {
                        r = fail(w->f, "userns", "chown", de->d_name, errno, "cannot open %s in the tree", de->d_name);
                        if (fd >= 0)
                                close(fd);
                        break;
                }
                if (S_ISDIR(cst.st_mode)) {
                        int sub = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_NOATIME | O_CLOEXEC);
                        if (sub < 0)
                                sub = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        int e = errno;
                        close(fd);
                        if (sub < 0) {
                                r = fail(w->f, "userns", "chown", de->d_name, e, "cannot open the directory %s in the tree", de->d_name);
                                break;
                        }
                        r = walk_dir(sub, &cst, w, depth + 1, false);
                        continue;
                }
                r = patch_inode(fd, &cst, w);
                close(fd);
        }
        if (r == 0 && !top)
                r = patch_inode(dirfd, st, w);
        closedir(d);
        return r;
}

int userns_chown_tree(int treefd, uid_t base, struct failure *f) {
        if ((base & ~HIGH_MASK) != 0 || base == BUSY_BASE)
                return fail(f, "userns", "chown", "", EINVAL, "cannot chown the tree to %u: not the first id of a 64K range", (unsigned) base);
        int top = openat(treefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        if (top < 0 || fstat(top, &st) < 0) {
                int e = errno;
                if (top >= 0)
                        close(top);
                return fail(f, "userns", "chown", "", e, "cannot open the tree to chown it");
        }
        /* nspawn's quick check: a top directory of the range means a tree of it. */
        if (((uint32_t) st.st_uid & HIGH_MASK) == base && ((uint32_t) st.st_gid & HIGH_MASK) == base) {
                close(top);
                return 0;
        }
        struct statx sx;
        if (statx(top, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID)) {
                close(top);
                return fail(f, "userns", "chown", "", errno ? errno : ENOSYS, "cannot find the tree's mount to chown it");
        }
        bool skip = false;
        struct walk w = { .shift = base, .mnt_id = sx.stx_mnt_id, .f = f };
        if (skip_dir(top, &w, &skip) < 0 || skip) {
                close(top);
                return skip ? fail(f, "userns", "chown", "", EROFS, "cannot chown the tree: it is on a read-only or kernel file system (use map or off)") : -1;
        }
        /* Busy first: an interrupted walk leaves a top no range owns. */
        if (((uint32_t) st.st_uid & HIGH_MASK) != BUSY_BASE &&
            fchown(top, shifted(BUSY_BASE, st.st_uid), shifted(BUSY_BASE, st.st_gid)) < 0) {
                int e = errno;
                close(top);
                return fail(f, "userns", "chown", "", e, "cannot mark the tree busy before chowning it");
        }
        int again = fcntl(top, F_DUPFD_CLOEXEC, 3);
        if (again < 0) {
                close(top);
                return fail(f, "userns", "chown", "", errno, "cannot duplicate the tree's descriptor");
        }
        /* walk_dir closes top; the top directory itself is shifted last, by again. */
        if (walk_dir(top, &st, &w, 0, true) < 0) {
                close(again);
                return -1;
        }
        struct stat now;
        int r = fstat(again, &now) < 0 ? fail(f, "userns", "chown", "", errno, "cannot inspect the tree after chowning it") : 0;
        if (r == 0) {
                /* The mode as it was before the busy mark (which may have cleared setgid). */
                now.st_mode = st.st_mode;
                r = patch_inode(again, &now, &w);
        }
        close(again);
        return r;
}
