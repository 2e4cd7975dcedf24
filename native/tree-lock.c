/* The tree's lock, as systemd-nspawn takes it (src/shared/discover-image.c
 * image_path_lock and src/basic/lock-util.c make_lock_file/release_lock_file,
 * 252 and 257), so a tsnspawn and a systemd-nspawn on one tree exclude each
 * other: two files, DIR/.#NAME.lck beside the tree and
 * /run/systemd/nspawn/locks/inode-DEV:INO (Node names both, src/plan/tree-lock.ts),
 * each locked whole with an open file description lock (F_OFD_SETLK: what
 * nspawn takes; flock would not conflict with it), write for a writable run,
 * read for --read-only. A shared lock that cannot make its file beside the
 * tree (a read-only file system) goes on without it, as nspawn does.
 *
 * Where we are: the monitor, host's namespaces, full root, before anything
 * of the container exists. The descriptors are close-on-exec and held by
 * the monitor alone until init is gone; the last holder to let go removes
 * the files (one left by a SIGKILLed run holds no lock and is reused). */
#define _GNU_SOURCE
#include "tree-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct held {
        int fd;
        char *path;
};

static struct held held[2] = { { -1, NULL }, { -1, NULL } };
static bool shared;
static pid_t owner;

/* Locks path (made if missing): the descriptor, or -1 with errno (EBUSY:
 * someone holds a conflicting lock). A file removed by its last holder
 * between our open and our lock is no lock at all: open the new one. */
static int lock_file(const char *path, bool read_lock) {
        for (;;) {
                int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
                if (fd < 0)
                        return -1;
                struct flock l = { .l_type = read_lock ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
                if (fcntl(fd, F_OFD_SETLK, &l) < 0) {
                        int e = errno;
                        close(fd);
                        errno = e == EAGAIN || e == EACCES ? EBUSY : e;
                        return -1;
                }
                struct stat st;
                if (fstat(fd, &st) < 0) {
                        int e = errno;
                        close(fd);
                        errno = e;
                        return -1;
                }
                if (st.st_nlink > 0)
                        return fd;
                close(fd);
        }
}

/* One file let go as nspawn's release_lock_file: a shared holder tries to
 * become the exclusive one; whoever holds it exclusively removes the file. */
static void unlock_file(struct held *h) {
        if (h->fd < 0)
                return;
        bool exclusive = !shared;
        if (shared) {
                struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
                exclusive = fcntl(h->fd, F_OFD_SETLK, &l) == 0;
        }
        if (exclusive)
                (void) unlink(h->path);
        close(h->fd);
        free(h->path);
        h->fd = -1;
        h->path = NULL;
}

void tree_lock_sweep(const char *path) {
        int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return;
        struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if (fcntl(fd, F_OFD_SETLK, &l) == 0)
                (void) unlink(path);
        close(fd);
}

void tree_lock_release(void) {
        if (owner == 0 || getpid() != owner)
                return;
        /* The reverse of taking them. */
        unlock_file(&held[1]);
        unlock_file(&held[0]);
        owner = 0;
}

int tree_lock_acquire(const struct plan *p, struct failure *f) {
        if (!p->lock_local)
                return 0;
        shared = p->lock_shared;
        owner = getpid();
        /* Released at the monitor's exit on every path (die(), a failed start). */
        static bool registered;
        if (!registered && atexit(tree_lock_release) == 0)
                registered = true;

        int fd = lock_file(p->lock_local, shared);
        if (fd < 0 && !(shared && errno == EROFS))
                return fail(f, "lock", errno == EBUSY ? "busy" : "open", p->lock_local, errno, "cannot lock the tree %s", p->root);
        held[0] = (struct held) { fd, fd >= 0 ? strdup(p->lock_local) : NULL };

        if (mkdir("/run/systemd", 0755) < 0 && errno != EEXIST)
                goto bad_dir;
        if (mkdir("/run/systemd/nspawn", 0755) < 0 && errno != EEXIST)
                goto bad_dir;
        if (mkdir("/run/systemd/nspawn/locks", 0700) < 0 && errno != EEXIST)
                goto bad_dir;
        fd = lock_file(p->lock_global, shared);
        if (fd < 0) {
                int e = errno;
                tree_lock_release();
                return fail(f, "lock", e == EBUSY ? "busy" : "open", p->lock_global, e, "cannot lock the tree %s", p->root);
        }
        held[1] = (struct held) { fd, strdup(p->lock_global) };
        return 0;
bad_dir: {
        int e = errno;
        tree_lock_release();
        return fail(f, "lock", "open", "/run/systemd/nspawn/locks", e, "cannot create nspawn's lock directory");
}
}
