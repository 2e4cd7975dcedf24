#pragma once

#include "failure.h"

enum root_mode {
        ROOT_PLAIN,     /* the tree itself */
        ROOT_OVERLAY,   /* the tree under a tmpfs upper layer: -x, --volatile=overlay */
        ROOT_VOLATILE,  /* a tmpfs with the tree's /usr: --volatile=yes */
};

#include <stdbool.h>
#include <sys/types.h>

/* Under a user namespace: the container's root is host uid/gid base; with
 * userns_fd >= 0 the tree is mounted idmapped to that namespace. */
struct idmap {
        int userns_fd;
        uid_t base;
};

/* --pivot-root (nspawn's setup_pivot_root): new_root, a directory of the
 * tree, becomes the root; with old_root the whole tree is mounted there
 * inside it (read-only with old_read_only, as nspawn's --read-only makes
 * every mount below the root), else it is out of sight. last: the root
 * mode's mount of the whole tree is made first and the pivot happens inside
 * it (-x: nspawn pivots inside its copy); else the pivot comes first and the
 * root mode applies to the new root (--volatile). */
struct pivot {
        const char *new_root;
        const char *old_root;
        bool last;
        bool old_read_only;
};

/* Mounts the container's root over the tree at treefd (in our namespace
 * only); returns a descriptor of the new root mount, or -1 with f set.
 * im: NULL without a user namespace; pv: NULL without --pivot-root. */
int rootfs_mount(int treefd, enum root_mode mode, const struct idmap *im, const struct pivot *pv, struct failure *f);
