#pragma once

#include "failure.h"

#include <sys/types.h>

/* Shifts every file of the tree (treefd: the checked O_PATH descriptor of
 * its top directory) into the 64K range starting at base, unless the top
 * directory is already of that range (--private-users-ownership=chown). */
int userns_chown_tree(int treefd, uid_t base, struct failure *f);
