/* The cgroups a command run by `tsnspawn exec` goes into: its container
 * PID 1's, in every mounted hierarchy (cgroup2, and on hybrid or legacy
 * hosts the v1 name=systemd one and any controller hierarchy the container
 * was placed in), so the container's limits and accounting, machined's and
 * the guest systemd's view of its processes cover the command too.
 *
 * Where we are: exec_cgroups_open runs in the host's namespaces, before
 * setns (the paths in /proc/LEADER/cgroup are the host's, and so is the
 * mount table we find the hierarchies in); the descriptors it opens serve
 * after setns too. exec_cgroups_fork runs in the container's pid namespace
 * for children, before we enter its cgroup namespace (CLONE_INTO_CGROUP
 * checks the move against the cgroup namespace's root); exec_cgroups_join
 * in the new child, still in the host's cgroup namespace. */
#define _GNU_SOURCE
#include "exec-cgroups.h"
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH" ("0::PATH" is cgroup2). */
struct membership {
        char controllers[256];
        char path[512];
};

static size_t read_memberships(const char *file, struct membership *m, size_t max) {
        FILE *f = fopen(file, "re");
        if (!f)
                return 0;
        char line[1024];
        size_t n = 0;
        while (n < max && fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
                if (!p)
                        continue;
                *p = 0;
                snprintf(m[n].controllers, sizeof m[n].controllers, "%s", c + 1);
                snprintf(m[n].path, sizeof m[n].path, "%s", p + 1);
                n++;
        }
        fclose(f);
        return n;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s) {
        char *out = s;
        for (char *in = s; *in; in++) {
                if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' && in[2] && in[3]) {
                        *out++ = (char) ((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
                        in += 3;
                } else
                        *out++ = *in;
        }
        *out = 0;
}

/* Every item of CONTROLLERS ("cpu,cpuacct", "name=systemd") among the
 * mount's super options ("rw,cpu,cpuacct"). */
static bool options_cover(const char *superopts, const char *controllers) {
        char want[256];
        snprintf(want, sizeof want, "%s", controllers);
        char *save = NULL;
        for (char *w = strtok_r(want, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                size_t len = strlen(w);
                const char *o = superopts;
                bool found = false;
                while (o && *o && !found) {
                        found = strncmp(o, w, len) == 0 && (o[len] == ',' || o[len] == 0);
                        o = strchr(o, ',');
                        if (o)
                                o++;
                }
                if (!found)
                        return false;
        }
        return true;
}

/* Where the hierarchy of m is mounted, and its root there: 0 if found. */
static int find_mount(const struct membership *m, char *mountpoint, size_t mplen, char *root, size_t rootlen) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -1;
        bool v2 = m->controllers[0] == 0;
        char line[4096];
        int r = -1;
        while (r < 0 && fgets(line, sizeof line, f)) {
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS */
                char *sep = strstr(line, " - ");
                if (!sep)
                        continue;
                char fstype[32], source[256], superopts[1024], mroot[1024], mpoint[1024];
                if (sscanf(sep + 3, "%31s %255s %1023s", fstype, source, superopts) != 3 ||
                    sscanf(line, "%*s %*s %*s %1023s %1023s", mroot, mpoint) != 2)
                        continue;
                if (v2 ? strcmp(fstype, "cgroup2") != 0 : strcmp(fstype, "cgroup") != 0 || !options_cover(superopts, m->controllers))
                        continue;
                unescape(mroot);
                unescape(mpoint);
                snprintf(mountpoint, mplen, "%s", mpoint);
                snprintf(root, rootlen, "%s", mroot);
                r = 0;
        }
        fclose(f);
        return r;
}

static const char *our_path(const struct membership *ours, size_t n, const char *controllers) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(ours[i].controllers, controllers) == 0)
                        return ours[i].path;
        return NULL;
}

int exec_cgroups_open(pid_t leader, struct exec_cgroups *cg, char *err, size_t errlen) {
        memset(cg, 0, sizeof *cg);
        struct membership theirs[EXEC_CGROUPS_MAX], ours[EXEC_CGROUPS_MAX];
        char file[64];
        snprintf(file, sizeof file, "/proc/%d/cgroup", (int) leader);
        size_t nt = read_memberships(file, theirs, EXEC_CGROUPS_MAX);
        size_t no = read_memberships("/proc/self/cgroup", ours, EXEC_CGROUPS_MAX);
        if (nt == 0) {
                snprintf(err, errlen, "cannot read %s", file);
                return -1;
        }
        for (size_t i = 0; i < nt; i++) {
                const char *mine = our_path(ours, no, theirs[i].controllers);
                if (mine && strcmp(mine, theirs[i].path) == 0)
                        continue; /* already there */
                char mountpoint[1024], root[1024];
                if (find_mount(&theirs[i], mountpoint, sizeof mountpoint, root, sizeof root) < 0)
                        continue; /* a hierarchy not mounted here cannot be joined, nor does anything look at it */
                /* The mount shows the hierarchy from ROOT down; the leader's path is from its top. */
                const char *rel = theirs[i].path;
                size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
                if (rl && (strncmp(rel, root, rl) != 0 || (rel[rl] != '/' && rel[rl] != 0))) {
                        errno = ENOENT;
                        snprintf(err, errlen, "its cgroup %s is outside the hierarchy mounted at %s", theirs[i].path, mountpoint);
                        exec_cgroups_close(cg);
                        return -1;
                }
                size_t k = cg->n;
                snprintf(cg->path[k], sizeof cg->path[k], "%s%s", mountpoint, rel + rl);
                cg->fd[k] = open(cg->path[k], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cg->fd[k] < 0) {
                        snprintf(err, errlen, "cannot open its cgroup %s", cg->path[k]);
                        exec_cgroups_close(cg);
                        return -1;
                }
                cg->v2[k] = theirs[i].controllers[0] == 0;
                cg->n++;
        }
        return 0;
}

pid_t exec_cgroups_fork(struct exec_cgroups *cg) {
        /* Without clone3 the child moves itself (exec_cgroups_join). */
        return fork_into_cgroups(cg->n, cg->fd, cg->v2, cg->placed);
}

int exec_cgroups_join(struct exec_cgroups *cg, char *err, size_t errlen) {
        for (size_t i = 0; i < cg->n; i++) {
                if (cg->placed[i])
                        continue;
                /* "0" is the writer itself, whatever its pid in the namespace it is in. */
                if (write_cgroup_procs(cg->fd[i], "0\n") < 0) {
                        int e = errno;
                        snprintf(err, errlen, "cannot join its cgroup %s", cg->path[i]);
                        errno = e;
                        return -1;
                }
                cg->placed[i] = true;
        }
        return 0;
}

void exec_cgroups_close(struct exec_cgroups *cg) {
        for (size_t i = 0; i < cg->n; i++)
                if (cg->fd[i] >= 0)
                        close(cg->fd[i]);
        cg->n = 0;
}
