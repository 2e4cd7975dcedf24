/* The tree's identity. Node resolves and inspects the tree by path; between
 * that and the first mount, whoever owns a directory on the way could
 * rename it and put another directory (or a symlink to one) in its place.
 * The plan carries the device and inode Node saw; here the helper opens the
 * path without following its last component and refuses anything else.
 * From then on the tree is only ever used through the descriptor.
 *
 * Where we are: full root; the host's mount namespace (monitor, before
 * fork) or the container's (child, after unshare). */
#define _GNU_SOURCE
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int tree_open_checked(const struct plan *p, struct failure *f) {
        int fd = open(p->root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                /* ELOOP/ENOTDIR: the last component became a symlink or a file. */
                if (errno == ELOOP || errno == ENOTDIR)
                        return fail(f, "root", "identity", p->root, 0,
                                    "the tree %s was replaced after tsnspawn checked it (it is no longer a directory); nothing was touched", p->root);
                return fail(f, "root", "", p->root, errno, "cannot open the tree %s", p->root);
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return fail(f, "root", "", p->root, e, "cannot inspect the tree %s", p->root);
        }
        if ((unsigned long long) st.st_dev != p->root_dev || (unsigned long long) st.st_ino != p->root_ino) {
                close(fd);
                return fail(f, "root", "identity", p->root, 0,
                            "the tree %s was replaced by another directory after tsnspawn checked it; nothing was touched", p->root);
        }
        return fd;
}
