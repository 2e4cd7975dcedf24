#pragma once

#include "failure.h"
#include "plan.h"

#include <sys/types.h>

struct op_context {
        int console_fd;     /* the console pty's peer, or -1 */
        const char *console_path; /* its /dev/pts path (a bind source must be in our mount namespace) */
        int notify_fd;      /* the monitor's notify socket */
        uid_t owner;        /* under a user namespace: host uid of the container's root (tmpfs uid=/gid=), else -1 */
        int userns_fd;      /* under a user namespace, in the outer child: the container's, for idmapped binds; else -1 */
        /* --pivot-root=PATH:OLDROOT: the old root's mount (the whole tree)
         * and where it is in the new root; a '+' path below it is the old
         * root's (child.c). NULL: none. */
        const struct old_root {
                int fd;
                const char *path;
        } *old_root;
};

/* Opens path inside the tree rooted at rootfd; symlinks cannot leave it. */
int open_in_root(int rootfd, const char *path, int flags);

/* mkdir -p inside the tree; returns an O_PATH handle of the directory. */
int mkdir_in_root(int rootfd, const char *path, mode_t mode);

/* The same, never leaving the tree's own mount (for '+' paths). */
int mkdir_in_tree(int rootfd, const char *path, mode_t mode);
int open_in_tree(int rootfd, const char *path, int flags);

int run_op(int rootfd, const struct op *o, const struct op_context *ctx, struct failure *fl);
