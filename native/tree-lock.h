#pragma once

#include "failure.h"
#include "plan.h"

/* Takes the plan's tree lock (none in the plan: nothing to do). On
 * failure f says why: step "lock", errno EBUSY when another container
 * holds the tree. The lock is the monitor's: released by tree_lock_release
 * once init is gone, or at the monitor's exit on any path. */
int tree_lock_acquire(const struct plan *p, struct failure *f);

/* Lets go of the tree: the last holder removes the lock files. Only in the
 * process that took the lock (a forked child's exit does nothing). */
void tree_lock_release(void);

/* A lock file its holder left (a monitor that was killed): removed if
 * nobody holds a lock on it, as nspawn's last holder removes it (an
 * exclusive lock taken, then the unlink while holding it). */
void tree_lock_sweep(const char *path);
