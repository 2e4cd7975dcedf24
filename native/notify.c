/* /run/host/notify: the sd_notify socket of the container's init.
 *
 * Node has no AF_UNIX datagram sockets, so the monitor owns it. The socket
 * is created here before fork; the child binds it inside the tree (the
 * plan's notify-socket op, placed after /run is mounted) and the monitor, which
 * shares the open file, receives on it. Only datagrams whose credentials
 * name the container's init are accepted. */
#define _GNU_SOURCE
#include "notify.h"
#include "ops.h"
#include "report.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_open(struct notify *n) {
        n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (n->fd < 0)
                return -1;
        int one = 1;
        if (setsockopt(n->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
                return -1;
        return 0;
}

int notify_bind_in_root(int rootfd, int sock_fd, const char *path, struct failure *f) {
        const char *slash = strrchr(path, '/');
        char dir[4096];
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int) (slash - path), path);
        const char *name = slash + 1;
        int dfd = mkdir_in_root(rootfd, dir, 0755);
        if (dfd < 0)
                return fail(f, "mount", "notify-socket", dir, errno, "cannot create %s in the tree", dir);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        /* The directory handle pins the place inside the tree; bind through it. */
        int len = snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, name);
        int r = -1, e = ENAMETOOLONG;
        if (len > 0 && (size_t) len < sizeof sa.sun_path) {
                (void) unlinkat(dfd, name, 0);
                r = bind(sock_fd, (struct sockaddr *) &sa, sizeof sa);
                e = errno;
        }
        close(dfd);
        if (r < 0)
                return fail(f, "mount", "notify-socket", path, e, "cannot bind the notify socket at %s", path);
        return 0;
}

void notify_receive(struct notify *n, pid_t init_pid) {
        for (;;) {
                char buf[4096];
                char ctrl[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr msg = {
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl
                };
                ssize_t len = recvmsg(n->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
                if (len < 0)
                        return; /* EAGAIN: drained */
                const struct ucred *cred = NULL;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
                                cred = (const struct ucred *) CMSG_DATA(c);
                        else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                                /* We take no file descriptors (no FDSTORE). */
                                int nfds = (int) ((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                                for (int i = 0; i < nfds; i++)
                                        close(((int *) CMSG_DATA(c))[i]);
                        }
                }
                if (!cred || cred->pid != init_pid || (msg.msg_flags & MSG_TRUNC))
                        continue;
                report_notify(buf, (size_t) len);
        }
}

/* Our own service manager's socket ($NOTIFY_SOCKET of tsnspawn, inherited by
 * us), for Type=notify units; Node cannot send AF_UNIX datagrams. sender:
 * the pid the message is from, 0 for our own. systemd takes messages only
 * from the unit's main process (NotifyAccess=main), which is Node's pid, not
 * the monitor's: the monitor says so in SCM_CREDENTIALS, as sd_pid_notify()
 * does (root may name another pid there). */
void notify_send_outer_as(pid_t sender, const char *message) {
        const char *path = getenv("NOTIFY_SOCKET");
        if (!path || !*path || (path[0] != '/' && path[0] != '@'))
                return;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(path);
        if (len >= sizeof sa.sun_path)
                return;
        memcpy(sa.sun_path, path, len);
        if (path[0] == '@')
                sa.sun_path[0] = 0; /* abstract namespace */
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        struct iovec iov = { .iov_base = (void *) message, .iov_len = strlen(message) };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control = { 0 };
        struct msghdr mh = {
                .msg_name = &sa,
                .msg_namelen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len),
                .msg_iov = &iov,
                .msg_iovlen = 1,
        };
        if (sender > 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof control.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_CREDENTIALS;
                c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
                *(struct ucred *) (void *) CMSG_DATA(c) = (struct ucred){ .pid = sender, .uid = getuid(), .gid = getgid() };
        }
        /* Should naming the pid be refused, the message still goes, as ours. */
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 && sender > 0 && errno == EPERM) {
                mh.msg_control = NULL;
                mh.msg_controllen = 0;
                (void) sendmsg(fd, &mh, MSG_NOSIGNAL);
        }
        close(fd);
}

void notify_send_outer(const char *message) {
        notify_send_outer_as(0, message);
}
