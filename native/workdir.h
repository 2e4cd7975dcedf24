#pragma once

#include "failure.h"
#include "plan.h"

#include <stdbool.h>
#include <sys/types.h>

/* A work directory overlayfs needs beside an --overlay upper tree. */
struct workdir {
        int parent_fd;  /* O_PATH descriptor of the directory holding it */
        char name[48];  /* ".#tsnspawn-work-" and 16 random hex digits */
        dev_t dev;
        ino_t ino;
};

/* Makes a work directory with an unpredictable name beside the upper tree
 * at upper_fd (mkdir fails if the name exists: nothing planted is used) and
 * returns an O_PATH descriptor of it. treefd (or -1): the tree, whose root
 * has no parent inside it. report: tell Node its path before it is made
 * and its identity after (the monitor's, on the host; not the child's,
 * whose directories die with the container). */
int workdir_create(int upper_fd, int treefd, struct workdir *w, bool report);

/* Removes the work directory and what overlayfs left in it, through
 * descriptors only: a directory that is no longer the one made, a symlink
 * or a mount point inside is never followed. */
void workdir_remove(struct workdir *w);

/* Monitor, before fork (host's mount namespace): opens the upper tree of
 * every --overlay that has one on the host or, with '+' and a plain root,
 * in the tree (created if missing), and makes its work directory. The
 * descriptors go into the ops (the child inherits them); the work
 * directories into list, for removal once the container is gone. */
int workdir_prepare_overlays(struct plan *p, int treefd, struct workdir **list, size_t *n, struct failure *f);

/* Child, in the container's mount namespace: the upper and work directory
 * of an overlay op the monitor prepared, opened again here and checked to
 * be the same directories (ESTALE if one was replaced). Returns the work
 * directory and sets *upper_fd. */
int workdir_reopen(const struct op *o, int rootfd, int *upper_fd);

/* A work directory as Node recorded it and hands it to the supervisor:
 * "DEV:INO:PATH" (decimal; the path absolute, last, may hold ':'). */
bool workdir_recorded_valid(const char *recorded);

/* Removes the recorded work directory if it is still the one made (same
 * device and inode), as workdir_remove does. True when it is gone (or was
 * replaced, so not ours), false when it is still there. */
bool workdir_remove_recorded(const char *recorded);
