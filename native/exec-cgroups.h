/* The cgroups of a running container's PID 1, as `tsnspawn exec` joins them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define EXEC_CGROUPS_MAX 16

struct exec_cgroups {
        size_t n;
        int fd[EXEC_CGROUPS_MAX];      /* the leader's cgroup directory in each hierarchy */
        bool v2[EXEC_CGROUPS_MAX];     /* the cgroup2 one: joined at birth (CLONE_INTO_CGROUP) */
        bool placed[EXEC_CGROUPS_MAX]; /* the command was born there */
        char path[EXEC_CGROUPS_MAX][2048];
};

/* Opens the leader's cgroup in every mounted hierarchy where it differs
 * from ours (host mount namespace: before setns). -1 with errno and what
 * failed in err. */
int exec_cgroups_open(pid_t leader, struct exec_cgroups *cg, char *err, size_t errlen);

/* fork(), but born in the cgroup2 directory (clone3 with CLONE_INTO_CGROUP)
 * when there is one; returns as fork. */
pid_t exec_cgroups_fork(struct exec_cgroups *cg);

/* In the child: moves itself into each cgroup it was not born in. */
int exec_cgroups_join(struct exec_cgroups *cg, char *err, size_t errlen);

void exec_cgroups_close(struct exec_cgroups *cg);
