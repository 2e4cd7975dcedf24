/* The monitor's side of -i/--image: into the image holder's mount namespace.
 *
 * Where we are: the monitor, full root, right after the plan was read and
 * before anything is made: still the host's mount namespace. The holder
 * (image.c) is Node's child; a pidfd names it, and its parent is checked to
 * be Node, so a pid reused by another process is never joined. After
 * setns() everything the monitor and the container do happens on top of
 * the image's mounts, which exist only in namespaces that die with them. */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t parent_of(pid_t pid) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = 0;
        /* pid (comm) state ppid: comm may hold anything, so from the last ')'. */
        char *p = strrchr(buf, ')');
        int ppid;
        return p && sscanf(p + 1, " %*c %d", &ppid) == 1 ? ppid : -1;
}

int image_join(pid_t holder, pid_t parent_pid, struct failure *f) {
        int pfd = (int) syscall(SYS_pidfd_open, holder, 0);
        if (pfd < 0)
                return fail(f, "image", "join", "", errno, "the image holder (pid %d) is gone", (int) holder);
        if (parent_of(holder) != parent_pid) {
                close(pfd);
                return fail(f, "image", "join", "", 0, "pid %d is not tsnspawn's image holder", (int) holder);
        }
        if (setns(pfd, CLONE_NEWNS) < 0) {
                int e = errno;
                close(pfd);
                return fail(f, "image", "join", "", e, "cannot enter the image's mount namespace");
        }
        /* setns() leaves the working directory in the old namespace. */
        if (chdir("/") < 0) {
                int e = errno;
                close(pfd);
                return fail(f, "image", "join", "", e, "cannot change to / in the image's mount namespace");
        }
        (void) syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
        close(pfd);
        return 0;
}
