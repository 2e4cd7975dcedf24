/* The container's cgroups, placed by the monitor when nothing has to happen
 * at the barrier first (no machined or systemd scope to register with).
 *
 * Where we are: the host's namespaces, full root; cgroup_open and
 * cgroup_fork run before init exists, cgroup_attach right after, while init
 * waits at the barrier. Node made the directories (and removes them after
 * the run). The cgroup2 one takes init at birth: clone3 with
 * CLONE_INTO_CGROUP, so there is no migration (a write to cgroup.procs
 * waits for the cgroup threadgroup lock and RCU) and init never runs
 * anywhere else. v1 hierarchies (name=systemd on hybrid and legacy hosts)
 * cannot do that: init's pid is written to their cgroup.procs. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

int cgroup_open(const struct plan *p, struct cgroup_set *cg, struct failure *f) {
        memset(cg, 0, sizeof *cg);
        if (p->n_cgroups > CGROUP_MAX)
                return fail(f, "cgroup", "attach", "", E2BIG, "too many cgroups in the plan");
        bool have_v2 = false;
        for (size_t i = 0; i < p->n_cgroups; i++) {
                int fd = open(p->cgroups[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        int e = errno;
                        cgroup_close(cg);
                        return fail(f, "cgroup", "attach", p->cgroups[i], e, "cannot place the container in its cgroup %s", p->cgroups[i]);
                }
                struct statfs sf;
                cg->fd[i] = fd;
                cg->path[i] = p->cgroups[i];
                cg->v2[i] = !have_v2 && fstatfs(fd, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
                have_v2 |= cg->v2[i];
                cg->n = i + 1;
        }
        return 0;
}

pid_t fork_into_cgroups(size_t n, const int fd[], const bool v2[], bool placed[]) {
        for (size_t i = 0; i < n; i++) {
                if (!v2[i])
                        continue;
                struct clone_args args = {
                        .flags = CLONE_INTO_CGROUP,
                        .exit_signal = SIGCHLD,
                        .cgroup = (unsigned long long) fd[i],
                };
                /* Single-threaded and holding no lock: the raw system call
                 * leaves nothing of libc's inconsistent in the child. */
                long pid = syscall(SYS_clone3, &args, sizeof args);
                if (pid >= 0) {
                        placed[i] = true; /* in the child too: it need not move */
                        return (pid_t) pid;
                }
                /* An older kernel (or another refusal): fork, and the later
                 * write to cgroup.procs reports what is wrong, if anything. */
                break;
        }
        return fork();
}

int write_cgroup_procs(int dirfd, const char *line) {
        int fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        size_t len = strlen(line);
        if (fd < 0 || write(fd, line, len) != (ssize_t) len) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                errno = e;
                return -1;
        }
        close(fd);
        return 0;
}

pid_t cgroup_fork(struct cgroup_set *cg) {
        return fork_into_cgroups(cg->n, cg->fd, cg->v2, cg->placed);
}

int cgroup_attach(struct cgroup_set *cg, pid_t pid, struct failure *f) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d\n", (int) pid);
        for (size_t i = 0; i < cg->n; i++) {
                if (cg->placed[i])
                        continue;
                if (write_cgroup_procs(cg->fd[i], buf) < 0)
                        return fail(f, "cgroup", "attach", cg->path[i], errno, "cannot place the container in its cgroup %s", cg->path[i]);
                cg->placed[i] = true;
        }
        return 0;
}

int cgroup_chown(struct cgroup_set *cg, uid_t uid, struct failure *f) {
        /* The same list as Node's (src/runtime/cgroup.ts DELEGATED_FILES). */
        static const char *const files[] = { "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "tasks", "notify_on_release", "cgroup.clone_children" };
        for (size_t i = 0; i < cg->n; i++) {
                if (fchown(cg->fd[i], uid, uid) < 0)
                        return fail(f, "cgroup", "chown", cg->path[i], errno, "cannot give the cgroup %s to the container's root", cg->path[i]);
                for (size_t j = 0; j < sizeof files / sizeof files[0]; j++)
                        if (fchownat(cg->fd[i], files[j], uid, uid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                                return fail(f, "cgroup", "chown", cg->path[i], errno, "cannot give %s/%s to the container's root", cg->path[i], files[j]);
        }
        return 0;
}

void cgroup_close(struct cgroup_set *cg) {
        for (size_t i = 0; i < cg->n; i++)
                if (cg->fd[i] >= 0)
                        close(cg->fd[i]);
        cg->n = 0;
}
