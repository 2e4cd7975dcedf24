#pragma once

#include "failure.h"

enum root_mode {
        ROOT_PLAIN,     /* the tree itself */
        ROOT_OVERLAY,   /* the tree under a tmpfs upper layer: -x, --volatile=overlay */
        ROOT_VOLATILE,  /* a tmpfs with the tree's /usr: --volatile=yes */
};

#include <sys/types.h>

/* Under a user namespace: the container's root is host uid/gid base; with
 * userns_fd >= 0 the tree is mounted idmapped to that namespace. */
struct idmap {
        int userns_fd;
        uid_t base;
};

/* Mounts the container's root over the tree at treefd (in our namespace
 * only); returns a descriptor of the new root mount, or -1 with f set.
 * im: NULL without a user namespace. */
int rootfs_mount(int treefd, enum root_mode mode, const struct idmap *im, struct failure *f);
