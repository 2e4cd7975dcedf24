/* Overlay work directories on the host: made by the monitor before the
 * container exists, removed by it after the container is gone.
 *
 * Where we are: the monitor, in the host's namespaces with full root. The
 * directories around an upper tree may belong to an unprivileged user, so
 * nothing here goes by a predictable name or a path: the name is random and
 * made with mkdirat (an existing entry, say a planted symlink, is an
 * error), and the directory is handed to the child and later removed
 * through descriptors. */
#define _GNU_SOURCE
#include "workdir.h"
#include "ops.h"
#include "random-name.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Tells Node about the work directory named w->name in the directory at
 * parent_fd: made says whether it exists now (with its identity). */
static void announce(int parent_fd, const struct workdir *w, bool made) {
        char link[32], dir[4096], path[4096 + sizeof w->name + 1];
        snprintf(link, sizeof link, "/proc/self/fd/%d", parent_fd);
        ssize_t n = readlink(link, dir, sizeof dir - 1);
        if (n <= 0)
                return;
        dir[n] = 0;
        snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, w->name);
        report_workdir(path, (unsigned long long) w->dev, (unsigned long long) w->ino, made);
}

int workdir_create(int upper_fd, int treefd, struct workdir *w, bool report) {
        struct stat us, rs;
        if (fstat(upper_fd, &us) < 0 || (treefd >= 0 && fstat(treefd, &rs) < 0))
                return -1;
        if (treefd >= 0 && us.st_dev == rs.st_dev && us.st_ino == rs.st_ino) {
                errno = EINVAL;
                return -1;
        }
        w->parent_fd = openat(upper_fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (w->parent_fd < 0)
                return -1;
        for (int tries = 0; tries < 8; tries++) {
                if (random_name(w->name, sizeof w->name, ".#tsnspawn-work-") < 0)
                        break;
                /* The name first: a SIGKILL right after mkdirat leaves no directory Node never heard of. */
                if (report)
                        announce(w->parent_fd, w, false);
                if (mkdirat(w->parent_fd, w->name, 0700) < 0) {
                        if (errno == EEXIST)
                                continue;
                        break;
                }
                int fd = openat(w->parent_fd, w->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct stat st;
                if (fd >= 0 && fstat(fd, &st) == 0) {
                        w->dev = st.st_dev;
                        w->ino = st.st_ino;
                        if (report)
                                announce(w->parent_fd, w, true);
                        return fd;
                }
                /* Made a moment ago and already no directory of ours: replaced. */
                int e = fd < 0 && (errno == ENOTDIR || errno == ELOOP || errno == ENOENT) ? ESTALE : errno;
                if (fd >= 0)
                        close(fd);
                (void) unlinkat(w->parent_fd, w->name, AT_REMOVEDIR);
                errno = e;
                break;
        }
        int e = errno;
        close(w->parent_fd);
        w->parent_fd = -1;
        errno = e;
        return -1;
}

static bool is_mount_point(int fd) {
        struct statx stx;
        return statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0 && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Empties the directory open at dfd (readable), staying on device dev. */
static void remove_contents(int dfd, dev_t dev, int depth) {
        if (depth > 256)
                return;
        int rfd = dup(dfd);
        DIR *d = rfd < 0 ? NULL : fdopendir(rfd);
        if (!d) {
                if (rfd >= 0)
                        close(rfd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                struct stat st;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (!S_ISDIR(st.st_mode)) {
                        (void) unlinkat(dfd, de->d_name, 0);
                        continue;
                }
                int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        continue;
                struct stat ss;
                if (fstat(sub, &ss) == 0 && ss.st_dev == dev && ss.st_ino == st.st_ino && !is_mount_point(sub))
                        remove_contents(sub, dev, depth + 1);
                close(sub);
                (void) unlinkat(dfd, de->d_name, AT_REMOVEDIR);
        }
        closedir(d);
}

void workdir_remove(struct workdir *w) {
        if (w->parent_fd < 0)
                return;
        int fd = openat(w->parent_fd, w->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == w->dev && st.st_ino == w->ino) {
                remove_contents(fd, w->dev, 0);
                (void) unlinkat(w->parent_fd, w->name, AT_REMOVEDIR);
        }
        if (fd >= 0)
                close(fd);
        close(w->parent_fd);
        w->parent_fd = -1;
}

static bool parse_recorded(const char *r, unsigned long long *dev, unsigned long long *ino, const char **path) {
        char *end;
        errno = 0;
        *dev = strtoull(r, &end, 10);
        if (end == r || *end != ':' || errno)
                return false;
        const char *i = end + 1;
        *ino = strtoull(i, &end, 10);
        if (end == i || *end != ':' || errno)
                return false;
        *path = end + 1;
        const char *slash = strrchr(*path, '/');
        return (*path)[0] == '/' && slash && strlen(slash + 1) < sizeof ((struct workdir *) 0)->name &&
               strncmp(slash + 1, ".#tsnspawn-work-", 16) == 0;
}

bool workdir_recorded_valid(const char *recorded) {
        unsigned long long dev, ino;
        const char *path;
        return parse_recorded(recorded, &dev, &ino, &path);
}

bool workdir_remove_recorded(const char *recorded) {
        unsigned long long dev, ino;
        const char *path;
        if (!parse_recorded(recorded, &dev, &ino, &path))
                return true;
        const char *slash = strrchr(path, '/');
        char parent[4096];
        size_t n = slash == path ? 1 : (size_t) (slash - path);
        if (n >= sizeof parent)
                return true;
        memcpy(parent, path, n);
        parent[n] = 0;
        struct workdir w = { .dev = (dev_t) dev, .ino = (ino_t) ino };
        snprintf(w.name, sizeof w.name, "%s", slash + 1);
        w.parent_fd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (w.parent_fd < 0)
                return errno == ENOENT;
        int pfd = dup(w.parent_fd);
        workdir_remove(&w);
        struct stat st;
        bool gone = pfd < 0 || fstatat(pfd, w.name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != (dev_t) dev || st.st_ino != (ino_t) ino;
        if (pfd >= 0)
                close(pfd);
        return gone;
}

/* Whether the monitor makes this op's upper and work directories: a host
 * upper, or a '+' upper on a plain root (on a tmpfs root the child makes
 * them, and they vanish with the container). */
static bool monitor_makes_upper(const struct plan *p, const struct op *o) {
        if (o->kind != OP_OVERLAY || strcmp(o->b, "") == 0 || strcmp(o->b, "-") == 0)
                return false;
        return o->b[0] != '+' || p->root_mode == ROOT_PLAIN;
}

int workdir_prepare_overlays(struct plan *p, int treefd, struct workdir **list, size_t *n, struct failure *f) {
        *list = NULL;
        *n = 0;
        for (size_t i = 0; i < p->n_ops; i++) {
                struct op *o = &p->ops[i];
                if (!monitor_makes_upper(p, o))
                        continue;
                bool in_tree = o->b[0] == '+';
                o->upper_fd = in_tree ? mkdir_in_tree(treefd, o->b + 1, 0755) : open(o->b, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (o->upper_fd < 0)
                        return in_tree ? fail(f, "mount", "overlay", o->b, errno, "cannot create %s in the tree", o->b + 1)
                                       : fail(f, "mount", "overlay", o->b, errno, "cannot open the upper tree %s", o->b);
                struct workdir *grown = realloc(*list, (*n + 1) * sizeof **list);
                if (!grown)
                        return fail(f, "mount", "overlay", o->b, ENOMEM, "cannot make a work directory");
                *list = grown;
                int wfd = workdir_create(o->upper_fd, in_tree ? treefd : -1, &grown[*n], true);
                if (wfd < 0 && errno == ESTALE)
                        return fail(f, "mount", "overlay", o->b, 0, "the work directory made beside %s was replaced before it could be used; nothing was mounted",
                                    in_tree ? o->b + 1 : o->b);
                if (wfd < 0)
                        return fail(f, "mount", "overlay", o->b, errno, "cannot create a work directory beside %s", in_tree ? o->b + 1 : o->b);
                close(wfd);
                (*n)++;
        }
        /* Pointers last: the list may have moved while it grew. */
        for (size_t i = 0, k = 0; i < p->n_ops; i++)
                if (monitor_makes_upper(p, &p->ops[i]))
                        p->ops[i].workdir = &(*list)[k++];
        return 0;
}

static bool same_file(int a, const struct stat *b) {
        struct stat st;
        return fstat(a, &st) == 0 && st.st_dev == b->st_dev && st.st_ino == b->st_ino;
}

int workdir_reopen(const struct op *o, int rootfd, int *upper_fd) {
        /* overlayfs takes layers only from the caller's mount namespace:
         * open again here, by path, and accept only the same directories. */
        struct stat us = { 0 }, ws = { .st_dev = o->workdir->dev, .st_ino = o->workdir->ino };
        if (fstat(o->upper_fd, &us) < 0)
                return -1;
        int u = o->b[0] == '+' ? open_in_tree(rootfd, o->b + 1, O_PATH | O_DIRECTORY) : open(o->b, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (u < 0)
                return -1;
        int parent = openat(u, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int w = parent < 0 ? -1 : openat(parent, o->workdir->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        bool same = w >= 0 && same_file(u, &us) && same_file(w, &ws);
        if (parent >= 0)
                close(parent);
        if (!same) {
                /* Gone, a symlink, or another directory: not what was made. */
                close(u);
                if (w >= 0)
                        close(w);
                errno = ESTALE;
                return -1;
        }
        *upper_fd = u;
        return w;
}

