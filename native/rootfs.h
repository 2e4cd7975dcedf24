#pragma once

#include "failure.h"

enum root_mode {
        ROOT_PLAIN,     /* the tree itself */
        ROOT_OVERLAY,   /* the tree under a tmpfs upper layer: -x, --volatile=overlay */
        ROOT_VOLATILE,  /* a tmpfs with the tree's /usr: --volatile=yes */
};

/* Mounts the container's root over the tree's path (in our namespace only). */
int rootfs_prepare(const char *root, enum root_mode mode, struct failure *f);
