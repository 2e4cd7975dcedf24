#pragma once

#include "failure.h"
#include "plan.h"

#include <sys/types.h>

/* Takes the plan's uid range (with pick: chooses it, setting p->uid_base)
 * and its lock; *lock_fd is -1 when there is none to hold. */
int userns_acquire(struct plan *p, int *lock_fd, struct failure *f);

/* Gives the range back (the lock file goes). */
void userns_release(int lock_fd, uid_t base);

/* "0 BASE COUNT" into pid's uid_map and gid_map, with the --bind-user ids
 * cut out of it and mapped to their host ids. */
int userns_write_maps(pid_t pid, const struct plan *p, struct failure *f);

/* Files created from now on are owned by host uid/gid base (the container's
 * root), with the capabilities still effective. */
int userns_files_as(uid_t base, struct failure *f);
