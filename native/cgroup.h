#pragma once

#include "failure.h"
#include "plan.h"

#include <stdbool.h>
#include <sys/types.h>

#define CGROUP_MAX 8

/* The container's cgroups, opened before init exists. */
struct cgroup_set {
        size_t n;
        int fd[CGROUP_MAX];         /* the directories, O_RDONLY|O_DIRECTORY */
        const char *path[CGROUP_MAX];
        bool v2[CGROUP_MAX];        /* a cgroup2 directory (one at most: CLONE_INTO_CGROUP) */
        bool placed[CGROUP_MAX];    /* init was born there */
};

/* Opens the plan's cgroup directories (none: an empty set). */
int cgroup_open(const struct plan *p, struct cgroup_set *cg, struct failure *f);

/* fork(), but the child is born in the cgroup2 directory among fd[]
 * (v2[i]; clone3 with CLONE_INTO_CGROUP) where the kernel can, and
 * placed[i] says so. Shared by the monitor and `tsnspawn exec`. */
pid_t fork_into_cgroups(size_t n, const int fd[], const bool v2[], bool placed[]);

/* Writes line ("PID\n", or "0\n" for the writer itself) to cgroup.procs
 * of the cgroup directory dirfd; -1 with errno. */
int write_cgroup_procs(int dirfd, const char *line);

/* fork(), but the child starts in the cgroup2 directory of the set
 * (clone3 with CLONE_INTO_CGROUP) where the kernel can; returns as fork. */
pid_t cgroup_fork(struct cgroup_set *cg);

/* Writes pid to cgroup.procs of every directory it was not born in. */
int cgroup_attach(struct cgroup_set *cg, pid_t pid, struct failure *f);

/* Under a user namespace: the directories, and the files a delegated
 * cgroup's owner writes, to uid:uid (the container's root). */
int cgroup_chown(struct cgroup_set *cg, uid_t uid, struct failure *f);

void cgroup_close(struct cgroup_set *cg);
