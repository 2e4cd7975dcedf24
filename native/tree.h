#pragma once

#include "failure.h"
#include "plan.h"

/* Opens the plan's tree (O_PATH, the last component never followed) and
 * checks that it is the directory Node inspected: the device and inode in
 * the plan. Returns the descriptor, or -1 with f set. Called once in the
 * host's mount namespace (before anything is made) and once more in the
 * container's, whose copy of the mount table the descriptor must belong to. */
int tree_open_checked(const struct plan *p, struct failure *f);
