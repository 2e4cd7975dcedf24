#pragma once

#include "failure.h"

#include <stdbool.h>
#include <sys/types.h>

struct notify {
        int fd;             /* AF_UNIX datagram socket with SO_PASSCRED */
};

int notify_open(struct notify *n);
/* Child side, before pivot: binds the socket at path inside the tree. */
int notify_bind_in_root(int rootfd, int sock_fd, const char *path, struct failure *f);
/* Monitor side: drains the socket, reporting messages sent by init_pid. */
void notify_receive(struct notify *n, pid_t init_pid);
/* Sends message to $NOTIFY_SOCKET, if set (our own service manager). */
void notify_send_outer(const char *message);
/* The same, on behalf of pid sender (the monitor for Node: systemd's MAINPID). */
void notify_send_outer_as(pid_t sender, const char *message);
