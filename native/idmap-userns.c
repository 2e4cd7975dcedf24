/* User namespaces made only to be a mount's idmapping.
 *
 * Runs in the outer child (real root, the container's mount namespace, the
 * host's user namespace) while it makes the container's binds. A user
 * namespace exists only while a process is in it: a short-lived child
 * unshares one, we write its maps and open it by /proc/PID/ns/user, and the
 * child exits (the descriptor keeps the namespace). */
#define _GNU_SOURCE
#include "idmap-userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_map(pid_t pid, const char *which, unsigned in, unsigned out) {
        char path[64], line[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, which);
        int n = snprintf(line, sizeof line, "%u %u 1\n", in, out);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t w = write(fd, line, (size_t) n);
        int e = errno;
        close(fd);
        errno = e;
        return w == n ? 0 : -1;
}

int idmap_userns_one(uid_t uid_in, uid_t uid_out, gid_t gid_in, gid_t gid_out) {
        int ready[2], hold[2];
        if (pipe2(ready, O_CLOEXEC) < 0)
                return -1;
        if (pipe2(hold, O_CLOEXEC) < 0) {
                int e = errno;
                close(ready[0]);
                close(ready[1]);
                errno = e;
                return -1;
        }
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(ready[0]), close(ready[1]), close(hold[0]), close(hold[1]);
                errno = e;
                return -1;
        }
        if (pid == 0) {
                /* The child: into a new user namespace, say so, wait to be let go. */
                close(ready[0]);
                close(hold[1]);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                char ok = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
                if (write(ready[1], &ok, 1) != 1)
                        _exit(1);
                char c;
                while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
                }
                _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        char ok = 0;
        ssize_t n;
        do
                n = read(ready[0], &ok, 1);
        while (n < 0 && errno == EINTR);
        close(ready[0]);
        int fd = -1, e = EPERM;
        if (n == 1 && ok == 'y') {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/ns/user", (int) pid);
                if (write_map(pid, "uid_map", uid_in, uid_out) == 0 && write_map(pid, "gid_map", gid_in, gid_out) == 0)
                        fd = open(path, O_RDONLY | O_CLOEXEC);
                e = errno;
        }
        close(hold[1]); /* the child exits */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        errno = e;
        return fd;
}
