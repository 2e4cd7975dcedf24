#pragma once

#include "failure.h"

enum root_mode {
        ROOT_PLAIN,     /* the tree itself */
        ROOT_OVERLAY,   /* the tree under a tmpfs upper layer: -x, --volatile=overlay */
        ROOT_VOLATILE,  /* a tmpfs with the tree's /usr: --volatile=yes */
};

/* Mounts the container's root over the tree at treefd (in our namespace
 * only); returns a descriptor of the new root mount, or -1 with f set. */
int rootfs_mount(int treefd, enum root_mode mode, struct failure *f);
