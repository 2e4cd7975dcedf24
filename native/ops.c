/* Mount ops, executed by the container child.
 *
 * Where we are: in the container's new mount namespace (already recursively
 * slave), before pivot_root, as full root. The host's file system is still
 * visible, which is why every path of the tree is resolved with openat2()
 * and RESOLVE_IN_ROOT at the moment it is used: a symlink inside the tree
 * (even an absolute one) can then only lead to another place in the tree,
 * never to the host. Mounts are made onto /proc/self/fd/N of such a handle. */
#define _GNU_SOURCE
#include "ops.h"
#include "notify.h"
#include "idmap-userns.h"
#include "own-cgroup.h"
#include "random-name.h"
#include "report.h"
#include "workdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* resolve_extra: RESOLVE_NO_XDEV for paths that must stay on the tree's own
 * mount ('+' paths: never onto /proc, /sys, /dev or a bind of a host file
 * that the setup put in the tree before them). */
static int openat2_in_root(int rootfd, const char *path, int flags, unsigned long long resolve_extra) {
        struct open_how how = {
                .flags = (unsigned long long) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve_extra,
        };
        /* Relative to rootfd; a leading '/' is fine with RESOLVE_IN_ROOT. */
        int fd;
        do
                fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        while (fd < 0 && errno == EAGAIN);
        return fd;
}

int open_in_root(int rootfd, const char *path, int flags) {
        return openat2_in_root(rootfd, path, flags, 0);
}

int open_in_tree(int rootfd, const char *path, int flags) {
        return openat2_in_root(rootfd, path, flags, RESOLVE_NO_XDEV);
}

static void fd_path(int fd, char buf[static 32]) {
        snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/* Splits "/a/b/c" into a malloc'd parent "/a/b" and a pointer to "c". */
static char *split_parent(const char *path, const char **base) {
        char *parent = strdup(path);
        if (!parent)
                return NULL;
        size_t n = strlen(parent);
        while (n > 1 && parent[n - 1] == '/')
                parent[--n] = 0;
        char *slash = strrchr(parent, '/');
        *base = path + (slash - parent) + 1;
        if (slash == parent)
                parent[1] = 0;
        else
                *slash = 0;
        return parent;
}

static int mkdir_in_root_depth(int rootfd, const char *path, mode_t mode, int depth, unsigned long long resolve_extra);

/* The last component of path exists but does not resolve: a dangling
 * symlink. Create its target instead (still resolved inside the root), as
 * the guest would see it: /var/run -> /run, or a link of a hostile tree. */
static int mkdir_symlink_target(int rootfd, int pfd, const char *parent, const char *base, mode_t mode, int depth, unsigned long long resolve_extra) {
        char target[4096];
        ssize_t n = readlinkat(pfd, base, target, sizeof target - 1);
        if (n < 0)
                return -1;
        target[n] = 0;
        char next[8192];
        if (target[0] == '/')
                snprintf(next, sizeof next, "%s", target);
        else
                snprintf(next, sizeof next, "%s/%s", strcmp(parent, "/") == 0 ? "" : parent, target);
        return mkdir_in_root_depth(rootfd, next, mode, depth + 1, resolve_extra);
}

static int mkdir_in_root_depth(int rootfd, const char *path, mode_t mode, int depth, unsigned long long resolve_extra) {
        if (depth > 40) {
                errno = ELOOP;
                return -1;
        }
        int fd = openat2_in_root(rootfd, path, O_PATH | O_DIRECTORY, resolve_extra);
        if (fd >= 0 || errno != ENOENT)
                return fd;
        const char *base;
        char *parent = split_parent(path, &base);
        if (!parent)
                return -1;
        int pfd = strcmp(parent, path) == 0 ? -1 : mkdir_in_root_depth(rootfd, parent, mode, depth, resolve_extra);
        if (pfd < 0) {
                free(parent);
                return -1;
        }
        /* The parent handle is O_PATH; mkdirat accepts it as a directory fd. */
        int r = mkdirat(pfd, base, mode);
        if (r < 0 && errno == EEXIST) {
                struct stat st;
                if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                        fd = mkdir_symlink_target(rootfd, pfd, parent, base, mode, depth, resolve_extra);
                        int e = errno;
                        close(pfd);
                        free(parent);
                        errno = e;
                        return fd;
                }
                r = 0;
        }
        int e = errno;
        close(pfd);
        free(parent);
        if (r < 0) {
                errno = e;
                return -1;
        }
        return openat2_in_root(rootfd, path, O_PATH | O_DIRECTORY, resolve_extra);
}

/* mkdir -p inside the root; returns an O_PATH handle of the directory. */
int mkdir_in_root(int rootfd, const char *path, mode_t mode) {
        return mkdir_in_root_depth(rootfd, path, mode, 0, 0);
}

/* The same, never leaving the tree's own mount (for '+' paths). */
int mkdir_in_tree(int rootfd, const char *path, mode_t mode) {
        return mkdir_in_root_depth(rootfd, path, mode, 0, RESOLVE_NO_XDEV);
}

/* Opens the parent of path (creating it) for *at() calls on the last component. */
static int parent_in_root(int rootfd, const char *path, const char **base) {
        char *parent = split_parent(path, base);
        if (!parent)
                return -1;
        int fd = mkdir_in_root(rootfd, parent, 0755);
        free(parent);
        return fd;
}

static int touch_in_root(int rootfd, const char *path, mode_t mode) {
        int fd = open_in_root(rootfd, path, O_PATH);
        if (fd >= 0 || errno != ENOENT)
                return fd;
        const char *base;
        int pfd = parent_in_root(rootfd, path, &base);
        if (pfd < 0)
                return -1;
        fd = openat(pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
        int e = errno;
        close(pfd);
        if (fd < 0) {
                errno = e;
                return -1;
        }
        close(fd);
        return open_in_root(rootfd, path, O_PATH);
}

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

/* Plan flags to mount(2) flags: one row a flag. */
static const struct {
        unsigned flag;
        unsigned long ms;
} ms_table[] = {
        { F_RO, MS_RDONLY },           { F_NOSUID, MS_NOSUID },         { F_NODEV, MS_NODEV },
        { F_NOEXEC, MS_NOEXEC },       { F_STRICTATIME, MS_STRICTATIME }, { F_SYNC, MS_SYNCHRONOUS },
        { F_DIRSYNC, MS_DIRSYNC },     { F_NOATIME, MS_NOATIME },       { F_NODIRATIME, MS_NODIRATIME },
        { F_RELATIME, MS_RELATIME },   { F_LAZYTIME, MS_LAZYTIME },     { F_SILENT, MS_SILENT },
        { F_NOSYMFOLLOW, MS_NOSYMFOLLOW },
};

static unsigned long ms_flags(unsigned f) {
        unsigned long m = 0;
        for (size_t i = 0; i < sizeof ms_table / sizeof ms_table[0]; i++)
                if (f & ms_table[i].flag)
                        m |= ms_table[i].ms;
        return m;
}

static int is_mount_root(int fd) {
        struct statx stx;
        if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) < 0)
                return -1;
        if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
                errno = ENOTSUP;
                return -1;
        }
        return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

/* Applies read-only and the no* flags to the mount at fd (recursively with F_REC). */
static int set_mount_attrs(int fd, unsigned f) {
        struct mount_attr attr = { 0 };
        if (f & F_RO)
                attr.attr_set |= MOUNT_ATTR_RDONLY;
        if (f & F_NOSUID)
                attr.attr_set |= MOUNT_ATTR_NOSUID;
        if (f & F_NODEV)
                attr.attr_set |= MOUNT_ATTR_NODEV;
        if (f & F_NOEXEC)
                attr.attr_set |= MOUNT_ATTR_NOEXEC;
        if (f & F_RW)
                attr.attr_clr |= MOUNT_ATTR_RDONLY;
        if (!attr.attr_set && !attr.attr_clr)
                return 0;
        unsigned at = AT_EMPTY_PATH | ((f & F_REC) ? AT_RECURSIVE : 0);
        return (int) syscall(SYS_mount_setattr, fd, "", at, &attr, sizeof attr);
}

static int do_bind(int rootfd, const struct op *o, int srcfd, struct failure *fl) {
        const char *name = op_kind_name(o->kind);
        struct stat st;
        if (fstat(srcfd, &st) < 0)
                return fail(fl, "mount", name, o->a, errno, "cannot inspect bind source %s", o->a);
        int dfd;
        if (o->flags & F_MKDIR)
                dfd = S_ISDIR(st.st_mode) ? mkdir_in_root(rootfd, o->b, 0755) : touch_in_root(rootfd, o->b, 0644);
        else
                dfd = open_in_root(rootfd, o->b, O_PATH);
        if (dfd < 0) {
                if (errno == ENOENT && (o->flags & F_OPTIONAL))
                        return 0;
                return fail(fl, "mount", name, o->b, errno, "cannot open bind destination %s in the tree", o->b);
        }
        char src[32], dst[32];
        fd_path(srcfd, src);
        fd_path(dfd, dst);
        unsigned long flags = MS_BIND | ((o->flags & F_REC) ? MS_REC : 0);
        if (mount(src, dst, NULL, flags, NULL) < 0) {
                int e = errno;
                close(dfd);
                return fail(fl, "mount", name, o->b, e, "cannot bind %s to %s", o->a, o->b);
        }
        close(dfd);
        if (!(o->flags & (F_RO | F_RW | F_NOSUID | F_NODEV | F_NOEXEC)))
                return 0;
        /* Re-resolve: the handle must now name the new mount, not what was under it. */
        dfd = open_in_root(rootfd, o->b, O_PATH);
        if (dfd < 0 || set_mount_attrs(dfd, o->flags) < 0) {
                int e = errno;
                if (dfd >= 0)
                        close(dfd);
                return fail(fl, "mount", name, o->b, e, "cannot make %s read-only", o->b);
        }
        close(dfd);
        return 0;
}

static int op_bind(int rootfd, const struct op *o, const struct op_context *ctx, struct failure *fl);

/* Without a cgroup namespace the hierarchy at o->a is the host's whole
 * tree: our own cgroup in it is bound onto itself (writable), as nspawn's
 * mount_systemd_cgroup_writable; the plan's next op makes the rest
 * read-only. In the root cgroup there is nothing to do. */
static int op_bind_own_cgroup(int rootfd, const struct op *o, struct failure *fl) {
        int fd = open_in_root(rootfd, o->a, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return fail(fl, "mount", "bind-inner", o->a, errno, "cannot open the cgroup hierarchy %s", o->a);
        char own[PATH_MAX];
        int r = own_cgroup_path(fd, own, sizeof own);
        int e = errno;
        close(fd);
        if (r < 0)
                return fail(fl, "mount", "bind-inner", o->a, e, "cannot find our own cgroup for %s in /proc/self/cgroup", o->a);
        if (strcmp(own, "/") == 0)
                return 0;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s%s", o->a, own) >= (int) sizeof path)
                return fail(fl, "mount", "bind-inner", o->a, ENAMETOOLONG, "our cgroup's path in %s is too long", o->a);
        struct op own_op = *o;
        own_op.a = own_op.b = path;
        own_op.flags &= ~F_OWN_CGROUP;
        return op_bind(rootfd, &own_op, NULL, fl);
}

/* --bind=SRC:DST:idmap under -U: a copy of the source's mount idmapped to
 * the container's user namespace (host ids 0.. appear as the container's
 * 0..), attached at the destination by descriptor. rootidmap and
 * owneridmap (nspawn's): idmapped by a namespace of its own that maps the
 * source's owner alone, to the container's root or to the owner of the
 * destination (as the outer child sees it: a host id of the container's
 * range); every other id shows as nobody. nspawn maps the owner's uid for
 * both the uid and the gid; the source's own gid is mapped here, the same
 * for a user with a group of its own. */
static int idmapped_bind(int rootfd, const struct op *o, int srcfd, const struct op_context *ctx, struct failure *fl) {
        const char *name = op_kind_name(o->kind);
        const char *option = (o->flags & F_ROOTIDMAP) ? "rootidmap" : (o->flags & F_OWNERIDMAP) ? "owneridmap" : "idmap";
        if (!ctx || ctx->userns_fd < 0)
                return fail(fl, "mount", name, o->b, EINVAL, "an idmapped bind (%s, %s) needs a user namespace (-U)", o->b, option);
        struct stat st;
        if (fstat(srcfd, &st) < 0)
                return fail(fl, "mount", name, o->a, errno, "cannot inspect bind source %s", o->a);
        int dfd = (o->flags & F_MKDIR) ? (S_ISDIR(st.st_mode) ? mkdir_in_root(rootfd, o->b, 0755) : touch_in_root(rootfd, o->b, 0644))
                                       : open_in_root(rootfd, o->b, O_PATH);
        if (dfd < 0)
                return fail(fl, "mount", name, o->b, errno, "cannot open bind destination %s in the tree", o->b);
        int usernsfd = ctx->userns_fd, own = -1;
        if (o->flags & (F_ROOTIDMAP | F_OWNERIDMAP)) {
                struct stat dst;
                if (fstat(dfd, &dst) < 0) {
                        int e = errno;
                        close(dfd);
                        return fail(fl, "mount", name, o->b, e, "cannot inspect bind destination %s", o->b);
                }
                uid_t to_uid = (o->flags & F_ROOTIDMAP) ? ctx->owner : dst.st_uid;
                gid_t to_gid = (o->flags & F_ROOTIDMAP) ? (gid_t) ctx->owner : dst.st_gid;
                own = usernsfd = idmap_userns_one(st.st_uid, to_uid, st.st_gid, to_gid);
                if (own < 0) {
                        int e = errno;
                        close(dfd);
                        return fail(fl, "mount", name, o->b, e, "cannot make the user namespace of %s's idmapping (%s)", o->b, option);
                }
        }
        int mnt = (int) syscall(SYS_open_tree, srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | ((o->flags & F_REC) ? AT_RECURSIVE : 0));
        struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP | ((o->flags & F_RO) ? MOUNT_ATTR_RDONLY : 0), .userns_fd = (__u64) usernsfd };
        int r = mnt < 0 ? -1 : (int) syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH | ((o->flags & F_REC) ? AT_RECURSIVE : 0), &a, sizeof a);
        if (r == 0)
                r = (int) syscall(SYS_move_mount, mnt, "", dfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        int e = errno;
        if (mnt >= 0)
                close(mnt);
        if (own >= 0)
                close(own);
        close(dfd);
        if (r < 0)
                return fail(fl, "mount", name, o->b, e, "cannot bind %s to %s idmapped (%s; does its file system support idmapped mounts?)", o->a, o->b, option);
        return 0;
}

/* The inaccessible node of a file type, by its name in /run/host/inaccessible (mount-table.ts INACCESSIBLE_NODES). */
static const char *inaccessible_node_name(mode_t mode) {
        switch (mode & S_IFMT) {
        case S_IFREG: return "reg";
        case S_IFDIR: return "dir";
        case S_IFIFO: return "fifo";
        case S_IFSOCK: return "sock";
        case S_IFCHR: return "chr";
        case S_IFBLK: return "blk";
        default: return NULL;
        }
}

/* --inaccessible: the target's type is read where it is resolved in the
 * root (a symlink in the tree is followed inside it, as nspawn's
 * chase_symlinks_and_stat), and the node of that type from the directory
 * o->a is bound over it. */
static int op_bind_by_type(int rootfd, const struct op *o, struct failure *fl) {
        int dfd = open_in_root(rootfd, o->b, O_PATH);
        struct stat st;
        if (dfd < 0 || fstat(dfd, &st) < 0) {
                int e = errno;
                if (dfd >= 0)
                        close(dfd);
                return fail(fl, "mount", "bind-inner", o->b, e, "cannot make %s inaccessible: cannot open it in the tree", o->b);
        }
        close(dfd);
        const char *node = inaccessible_node_name(st.st_mode);
        char source[PATH_MAX];
        if (!node || snprintf(source, sizeof source, "%s/%s", o->a, node) >= (int) sizeof source)
                return fail(fl, "mount", "bind-inner", o->b, EINVAL, "cannot make %s inaccessible: no inaccessible node of its type", o->b);
        struct op typed = *o;
        typed.a = source;
        typed.flags &= ~(F_BY_TYPE | F_MKDIR);
        return op_bind(rootfd, &typed, NULL, fl);
}

/* The rest of path below dir ("/a" below "/a" is "/"), or NULL. */
static const char *path_below(const char *path, const char *dir) {
        for (;;) {
                while (*path == '/')
                        path++;
                while (*dir == '/')
                        dir++;
                if (!*dir)
                        return *path ? path - 1 : "/";
                size_t n = strcspn(dir, "/");
                if (strncmp(path, dir, n) != 0 || (path[n] && path[n] != '/'))
                        return NULL;
                path += n;
                dir += n;
        }
}

/* A '+' bind source: on the tree's own mount; with --pivot-root=PATH:OLDROOT
 * a path below OLDROOT crosses onto the old root's mount, which is the whole
 * tree, and is resolved there (on its own mount again). */
static int open_plus_source(int rootfd, const char *path, const struct op_context *ctx) {
        int fd = open_in_tree(rootfd, path, O_PATH);
        if (fd >= 0 || errno != EXDEV || !ctx || !ctx->old_root)
                return fd;
        const char *rest = path_below(path, ctx->old_root->path);
        if (!rest) {
                errno = EXDEV;
                return -1;
        }
        return open_in_tree(ctx->old_root->fd, rest, O_PATH);
}

static int op_bind(int rootfd, const struct op *o, const struct op_context *ctx, struct failure *fl) {
        if (o->flags & F_OWN_CGROUP)
                return op_bind_own_cgroup(rootfd, o, fl);
        if (o->flags & F_BY_TYPE)
                return op_bind_by_type(rootfd, o, fl);
        /* bind: a host path; bind-inner: a path in the container, on the
         * tree's own mount only when it comes from the user ('+', F_TREE). */
        int srcfd = o->kind == OP_BIND       ? open(o->a, O_PATH | O_CLOEXEC)
                    : (o->flags & F_TREE) ? open_plus_source(rootfd, o->a, ctx)
                                          : open_in_root(rootfd, o->a, O_PATH);
        if (srcfd < 0) {
                if (errno == ENOENT && (o->flags & F_OPTIONAL))
                        return 0;
                return fail(fl, "mount", op_kind_name(o->kind), o->a, errno, "cannot open bind source %s", o->a);
        }
        int r = (o->flags & (F_IDMAP | F_ROOTIDMAP | F_OWNERIDMAP)) ? idmapped_bind(rootfd, o, srcfd, ctx, fl) : do_bind(rootfd, o, srcfd, fl);
        close(srcfd);
        return r;
}

/* A fresh file system attached at dfd with the new mount API: no
 * /proc/self/fd path is needed, so this works before a /proc exists (the
 * first mount inside a user namespace, after the pivot, is /proc itself).
 * data's comma-separated options become fsconfig keys and flags. */
static int mount_fresh_at(int dfd, const char *fstype, unsigned flags, const char *data) {
        int fs = (int) syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
        if (fs < 0)
                return -1;
        char *opts = strdup(data ? data : ""), *save = NULL;
        int r = opts ? 0 : -1;
        for (char *o = opts ? strtok_r(opts, ",", &save) : NULL; r == 0 && o; o = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(o, '=');
                if (eq) {
                        *eq = 0;
                        r = (int) syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, o, eq + 1, 0);
                } else
                        r = (int) syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, o, NULL, 0);
        }
        free(opts);
        unsigned attrs = ((flags & F_RO) ? MOUNT_ATTR_RDONLY : 0) | ((flags & F_NOSUID) ? MOUNT_ATTR_NOSUID : 0) |
                         ((flags & F_NODEV) ? MOUNT_ATTR_NODEV : 0) | ((flags & F_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0) |
                         ((flags & F_STRICTATIME) ? MOUNT_ATTR_STRICTATIME : 0);
        int mnt = -1;
        if (r == 0 && (r = (int) syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) == 0 &&
            (mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs)) >= 0)
                r = (int) syscall(SYS_move_mount, mnt, "", dfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        else
                r = -1;
        int e = errno;
        if (mnt >= 0)
                close(mnt);
        close(fs);
        errno = e;
        return r;
}

static int op_mount(int rootfd, const struct op *o, const struct op_context *ctx, struct failure *fl) {
        int dfd = (o->flags & F_MKDIR) ? mkdir_in_root(rootfd, o->b, 0755) : open_in_root(rootfd, o->b, O_PATH | O_DIRECTORY);
        if (dfd < 0) {
                if (errno == ENOENT && (o->flags & F_OPTIONAL))
                        return 0;
                return fail(fl, "mount", "mount", o->b, errno, "cannot open mount point %s in the tree", o->b);
        }
        char dst[32];
        fd_path(dfd, dst);
        const char *data = o->c && o->c[0] && strcmp(o->c, "-") != 0 ? o->c : NULL;
        /* A tmpfs the setup makes for a container with a user namespace
         * belongs to the container's root, unless the user said otherwise. */
        char owned[4096];
        if (ctx->owner != (uid_t) -1 && strcmp(o->a, "tmpfs") == 0 && !(data && (strstr(data, "uid=") || strstr(data, "gid=")))) {
                snprintf(owned, sizeof owned, "%s%suid=%u,gid=%u", data ? data : "", data ? "," : "", (unsigned) ctx->owner, (unsigned) ctx->owner);
                data = owned;
        }
        int r = access("/proc/self/fd", F_OK) == 0 ? mount(o->a, dst, o->a, ms_flags(o->flags), data) : mount_fresh_at(dfd, o->a, o->flags, data);
        int e = errno;
        close(dfd);
        if (r < 0)
                return fail(fl, "mount", "mount", o->b, e, "cannot mount %s on %s", o->a, o->b);
        return 0;
}

static int op_remount_ro(int rootfd, const struct op *o, struct failure *fl) {
        int fd = open_in_root(rootfd, o->a, O_PATH);
        if (fd < 0) {
                if (errno == ENOENT && (o->flags & F_OPTIONAL))
                        return 0;
                return fail(fl, "mount", "remount-ro", o->a, errno, "cannot open %s in the tree", o->a);
        }
        /* mount_setattr on a plain directory would change the mount that
         * contains it, so insist on a mount point. */
        int root = is_mount_root(fd);
        if (root <= 0) {
                int e = root < 0 ? errno : EINVAL;
                close(fd);
                return fail(fl, "mount", "remount-ro", o->a, e, "%s is not a mount point", o->a);
        }
        int r = set_mount_attrs(fd, o->flags | F_RO);
        int e = errno;
        close(fd);
        if (r < 0)
                return fail(fl, "mount", "remount-ro", o->a, e, "cannot make %s read-only", o->a);
        return 0;
}

/* Puts a new file at pfd/base without writing into what is there: a
 * hard link in the tree to a host file (or any file) must not become the
 * target of our bytes or our chmod. The content goes into a file of a
 * random name made beside it (O_EXCL), which is then renamed over base. A
 * symlink at base is refused with ELOOP (callers decide whether that is
 * an error). fill writes the content to fd. */
static int replace_file_at(int pfd, const char *base, mode_t mode, int (*fill)(int fd, const void *arg), const void *arg) {
        struct stat st;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                errno = ELOOP;
                return -1;
        }
        char tmp[64];
        int fd = -1;
        for (int tries = 0; fd < 0 && tries < 8; tries++) {
                if (random_name(tmp, sizeof tmp, ".#tsnspawn-") < 0)
                        return -1;
                fd = openat(pfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
                if (fd < 0 && errno != EEXIST)
                        return -1;
        }
        if (fd < 0)
                return -1;
        int r = fill(fd, arg) < 0 || fchmod(fd, mode & 07777) < 0 ? -1 : 0;
        int e = errno;
        close(fd);
        if (r == 0 && renameat(pfd, tmp, pfd, base) < 0) {
                r = -1;
                e = errno;
        }
        if (r < 0) {
                (void) unlinkat(pfd, tmp, 0);
                errno = e;
        }
        return r;
}

static int fill_string(int fd, const void *arg) {
        const char *s = arg ? arg : "";
        return write_all(fd, s, strlen(s));
}

static int fill_from_fd(int fd, const void *arg) {
        int in = *(const int *) arg;
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
                if (write_all(fd, buf, (size_t) n) < 0)
                        return -1;
        return n < 0 ? -1 : 0;
}

static int op_node(int rootfd, const struct op *o, struct failure *fl) {
        const char *name = op_kind_name(o->kind);
        const char *path = o->kind == OP_SYMLINK ? o->b : o->a;
        const char *base;
        int pfd = parent_in_root(rootfd, path, &base);
        if (pfd < 0)
                return fail(fl, "mount", name, path, errno, "cannot create the parent directory of %s", path);
        int r = 0, e = 0;
        switch (o->kind) {
        case OP_SYMLINK:
                r = symlinkat(o->a, pfd, base);
                break;
        case OP_MKNOD:
                r = mknodat(pfd, base, o->mode, makedev(o->major, o->minor));
                /* Exact permission bits, on the node itself: never through a
                 * symlink put in its place meanwhile. */
                if (r == 0)
                        r = fchmodat(pfd, base, o->mode & 07777, AT_SYMLINK_NOFOLLOW);
                break;
        case OP_WRITE:
                r = replace_file_at(pfd, base, o->mode, fill_string, o->c);
                break;
        default:
                r = -1;
                errno = EINVAL;
        }
        e = errno;
        close(pfd);
        if (r < 0)
                return fail(fl, "mount", name, path, e, "cannot create %s", path);
        return 0;
}

static int op_console(int rootfd, const struct op *o, const struct op_context *ctx, struct failure *fl) {
        if (ctx->console_fd < 0 || !ctx->console_path)
                return fail(fl, "mount", "console", o->a, EBADF, "no console pty was allocated");
        /* The peer fd belongs to the host's mount namespace, which mount(2)
         * refuses as a bind source; our copy of /dev/pts has the same pty.
         * Compare device numbers so the path cannot name another one. */
        int srcfd = open(ctx->console_path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        struct stat a, b;
        if (srcfd < 0 || stat(ctx->console_path, &a) < 0 || fstat(ctx->console_fd, &b) < 0 || a.st_rdev != b.st_rdev) {
                int e = srcfd < 0 ? errno : EXDEV;
                if (srcfd >= 0)
                        close(srcfd);
                return fail(fl, "mount", "console", ctx->console_path, e, "cannot open the console pty %s", ctx->console_path);
        }
        int dfd = touch_in_root(rootfd, o->a, 0600);
        if (dfd < 0) {
                int e = errno;
                close(srcfd);
                return fail(fl, "mount", "console", o->a, e, "cannot create %s", o->a);
        }
        char src[32], dst[32];
        fd_path(srcfd, src);
        fd_path(dfd, dst);
        int r = mount(src, dst, NULL, MS_BIND, NULL);
        int e = errno;
        close(dfd);
        close(srcfd);
        if (r < 0)
                return fail(fl, "mount", "console", o->a, e, "cannot bind the console pty to %s", o->a);
        return 0;
}

/* Copies a host file into the tree; the last component is never followed
 * (a symlink there fails with ELOOP, which F_OPTIONAL tolerates, as nspawn
 * leaves a guest's resolv.conf symlink alone), and never written into: the
 * copy replaces it (a hard link to a host file stays untouched). */
static int op_copy(int rootfd, const struct op *o, struct failure *fl) {
        int in = open(o->a, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                if (errno == ENOENT && (o->flags & F_OPTIONAL))
                        return 0;
                return fail(fl, "mount", "copy", o->a, errno, "cannot open %s", o->a);
        }
        const char *base;
        int pfd = parent_in_root(rootfd, o->b, &base);
        int r = pfd < 0 ? -1 : replace_file_at(pfd, base, o->mode, fill_from_fd, &in);
        int e = errno;
        if (pfd >= 0)
                close(pfd);
        close(in);
        if (r < 0) {
                if ((e == ELOOP || e == ENOENT) && (o->flags & F_OPTIONAL))
                        return 0;
                return fail(fl, "mount", "copy", o->b, e, "cannot copy %s to %s in the tree", o->a, o->b);
        }
        return 0;
}

/* A layer of an overlay: a host path, or with a leading '+' a path inside
 * the container's tree (nspawn's convention), resolved in the root and on
 * the tree's own mount only: a link of a hostile tree cannot lead it onto
 * /proc, /sys or a bind of a host file the setup made before (EXDEV).
 * create: make it (an upper directory). */
static int open_layer(int rootfd, const char *path, bool create) {
        if (path[0] != '+')
                return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return create ? mkdir_in_tree(rootfd, path + 1, 0755) : open_in_tree(rootfd, path + 1, O_PATH | O_DIRECTORY);
}

/* --overlay/--overlay-ro: lower trees (lowest first, newline separated)
 * under an upper layer (a directory with its work directory, a tmpfs of
 * our namespace when empty, none when "-"), mounted at a path inside.
 * A '+' upper gets its work directory beside it (o->c is unused then).
 * Layers in the tree are handed to overlayfs as /proc/self/fd paths of
 * descriptors resolved in the root, so a symlink in the tree cannot lead
 * to the host. */
static int op_overlay_layers(int rootfd, const struct op *o, struct failure *fl, int layer_fds[2]);

static int op_overlay(int rootfd, const struct op *o, struct failure *fl) {
        int layer_fds[2] = { -1, -1 };
        int r = op_overlay_layers(rootfd, o, fl, layer_fds);
        for (int i = 0; i < 2; i++)
                if (layer_fds[i] >= 0)
                        close(layer_fds[i]);
        return r;
}

static int op_overlay_layers(int rootfd, const struct op *o, struct failure *fl, int layer_fds[2]) {
        int dfd = mkdir_in_root(rootfd, o->a, 0755);
        if (dfd < 0)
                return fail(fl, "mount", "overlay", o->a, errno, "cannot create %s in the tree", o->a);
        char dst[32];
        fd_path(dfd, dst);
        char upper[4200], work[4200];
        const char *up = o->b, *wk = NULL;
        int ufd = -1, wfd = -1;
        if (o->workdir) {
                /* Made by the monitor: a host upper, or a '+' one on a plain root. */
                wfd = workdir_reopen(o, rootfd, &ufd);
                if (wfd < 0) {
                        int e = errno;
                        close(dfd);
                        if (e == ESTALE)
                                return fail(fl, "mount", "overlay", up, 0, "the upper tree %s or the work directory beside it was replaced while the container started; nothing was mounted",
                                            up[0] == '+' ? up + 1 : up);
                        return fail(fl, "mount", "overlay", up, e, "cannot open the upper tree %s again", up[0] == '+' ? up + 1 : up);
                }
        } else if (up[0] == '+') {
                /* A '+' upper on a tmpfs root: made here, gone with the container. */
                ufd = open_layer(rootfd, up, true);
                struct workdir w;
                wfd = ufd < 0 ? -1 : workdir_create(ufd, rootfd, &w, false);
                if (wfd < 0) {
                        int e = errno;
                        if (ufd >= 0)
                                close(ufd);
                        close(dfd);
                        if (ufd < 0)
                                return fail(fl, "mount", "overlay", up, e, "cannot create %s in the tree", up + 1);
                        return fail(fl, "mount", "overlay", up, e, "cannot create a work directory beside %s in the tree", up + 1);
                }
                close(w.parent_fd);
        }
        if (wfd >= 0) {
                /* Kept open until the mount is made: the paths name these descriptors. */
                layer_fds[0] = ufd;
                layer_fds[1] = wfd;
                fd_path(ufd, upper);
                fd_path(wfd, work);
                up = upper;
                wk = work;
        } else if (strcmp(up, "") == 0) {
                /* A writable layer that lives only as long as the container. */
                if (mount("tmpfs", dst, "tmpfs", 0, "mode=0755") < 0) {
                        close(dfd);
                        return fail(fl, "mount", "overlay", o->a, errno, "cannot mount a tmpfs for the overlay at %s", o->a);
                }
                close(dfd);
                dfd = open_in_root(rootfd, o->a, O_PATH | O_DIRECTORY);
                fd_path(dfd, dst);
                snprintf(upper, sizeof upper, "%s/upper", dst);
                snprintf(work, sizeof work, "%s/work", dst);
                if (dfd < 0 || mkdirat(dfd, "upper", 0755) < 0 || mkdirat(dfd, "work", 0700) < 0) {
                        int e = errno;
                        if (dfd >= 0)
                                close(dfd);
                        return fail(fl, "mount", "overlay", o->a, e, "cannot prepare the overlay's tmpfs at %s", o->a);
                }
                up = upper;
                wk = work;
        }
        int fs = (int) syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs < 0) {
                close(dfd);
                return fail(fl, "mount", "overlay", o->a, errno, "this kernel has no overlayfs");
        }
        /* lowerdir+ adds below what was added before: walk from the top. */
        char *lowers = strdup(o->d);
        size_t n = 0;
        char *list[OVERLAY_MAX_LOWERS];
        /* The decoder refused more (plan.c). */
        for (char *save = NULL, *l = strtok_r(lowers, "\n", &save); l && n < OVERLAY_MAX_LOWERS; l = strtok_r(NULL, "\n", &save))
                list[n++] = l;
        int r = 0, e = 0;
        for (size_t i = n; i-- > 0 && r == 0;) {
                /* "?": a layer that may be missing (a '+' upper turned lower under -x). */
                bool optional = list[i][0] == '?';
                if (optional)
                        list[i]++;
                int lfd = open_layer(rootfd, list[i], false);
                if (lfd < 0 && optional && errno == ENOENT)
                        continue;
                if (lfd < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_FD, "lowerdir+", NULL, lfd) < 0) {
                        r = -1;
                        e = errno;
                        snprintf(upper, sizeof upper, "%s", list[i]);
                }
                if (lfd >= 0)
                        close(lfd);
        }
        free(lowers);
        if (r < 0) {
                close(fs);
                close(dfd);
                return fail(fl, "mount", "overlay", upper, e, "cannot use %s as an overlay layer for %s", upper, o->a);
        }
        if (strcmp(up, "-") != 0 &&
            (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", up, 0) < 0 ||
             syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", wk, 0) < 0)) {
                e = errno;
                close(fs);
                close(dfd);
                return fail(fl, "mount", "overlay", o->a, e, "cannot use %s as the overlay's upper layer", up);
        }
        int mnt = -1;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 || (mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0)) < 0 ||
            syscall(SYS_move_mount, mnt, "", dfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
                e = errno;
                if (mnt >= 0)
                        close(mnt);
                close(fs);
                close(dfd);
                return fail(fl, "mount", "overlay", o->a, e, "cannot mount the overlay at %s", o->a);
        }
        close(mnt);
        close(fs);
        close(dfd);
        return 0;
}

int run_op(int rootfd, const struct op *o, const struct op_context *ctx, struct failure *fl) {
        switch (o->kind) {
        case OP_MKDIR: {
                int fd = mkdir_in_root(rootfd, o->a, o->mode);
                if (fd < 0)
                        return fail(fl, "mount", "mkdir", o->a, errno, "cannot create directory %s", o->a);
                close(fd);
                return 0;
        }
        case OP_TOUCH: {
                int fd = touch_in_root(rootfd, o->a, o->mode);
                if (fd < 0)
                        return fail(fl, "mount", "touch", o->a, errno, "cannot create %s", o->a);
                close(fd);
                return 0;
        }
        case OP_BIND:
        case OP_BIND_INNER:
                return op_bind(rootfd, o, ctx, fl);
        case OP_MOUNT:
                return op_mount(rootfd, o, ctx, fl);
        case OP_REMOUNT_RO:
                return op_remount_ro(rootfd, o, fl);
        case OP_SYMLINK:
        case OP_MKNOD:
        case OP_WRITE:
                return op_node(rootfd, o, fl);
        case OP_CONSOLE:
                return op_console(rootfd, o, ctx, fl);
        case OP_NOTIFY_SOCKET:
                return notify_bind_in_root(rootfd, ctx->notify_fd, o->a, fl);
        case OP_UNLINK: {
                const char *base;
                int pfd = parent_in_root(rootfd, o->a, &base);
                int r = pfd < 0 ? -1 : unlinkat(pfd, base, 0);
                int e = errno;
                if (pfd >= 0)
                        close(pfd);
                if (r < 0 && !(e == ENOENT && (o->flags & F_OPTIONAL)))
                        return fail(fl, "mount", "unlink", o->a, e, "cannot remove %s", o->a);
                return 0;
        }
        case OP_COPY:
                return op_copy(rootfd, o, fl);
        case OP_OVERLAY:
                return op_overlay(rootfd, o, fl);
        case OP__MAX:
                break;
        }
        return fail(fl, "mount", "?", "", EINVAL, "unknown op");
}
