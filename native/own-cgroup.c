/* Where we run: the container child, in the host's cgroup namespace (that
 * is the point: it has none of its own), before pivot_root, so the host's
 * /proc is still at /proc. Called by ops.c for a bind with "own-cgroup". */
#define _GNU_SOURCE
#include "own-cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int own_cgroup_path(int mountfd, char *out, size_t len) {
        struct statfs sf;
        if (fstatfs(mountfd, &sf) < 0)
                return -1;
        /* cgroup2: "0::PATH"; systemd's v1 hierarchy: "N:name=systemd:PATH". */
        int unified = sf.f_type == CGROUP2_SUPER_MAGIC;
        FILE *f = fopen("/proc/self/cgroup", "re");
        if (!f)
                return -1;
        char *line = NULL;
        size_t cap = 0;
        int found = -1;
        while (found < 0 && getline(&line, &cap, f) > 0) {
                line[strcspn(line, "\n")] = 0;
                const char *path = NULL;
                if (unified && strncmp(line, "0::", 3) == 0)
                        path = line + 3;
                else if (!unified) {
                        const char *names = strchr(line, ':');
                        if (names && strncmp(names + 1, "name=systemd:", 13) == 0)
                                path = names + 14;
                }
                if (path && path[0] == '/' && strlen(path) < len) {
                        strcpy(out, path);
                        found = 0;
                }
        }
        free(line);
        fclose(f);
        if (found < 0)
                errno = ENOENT;
        return found;
}
