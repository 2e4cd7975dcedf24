/* The container child: from fork to execve of the payload.
 *
 * Where we are on entry: already PID 1 of a new PID namespace (the monitor
 * unshared CLONE_NEWPID before forking), still in the host's mount, UTS, IPC
 * and cgroup namespaces, with full root privileges. Every failure is sent to
 * the monitor on err_fd as a struct failure and the child exits 1. */
#define _GNU_SOURCE
#include "child.h"
#include "caps.h"
#include "network.h"
#include "proc-limits.h"
#include "seccomp.h"
#include "stub-init.h"
#include "ops.h"
#include "rootfs.h"
#include "tree.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <linux/mount.h>
#include <unistd.h>

/* A new network namespace has only "lo", down; up, it gets 127.0.0.1 and ::1. */
static int loopback_up(void) {
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -1;
        struct ifreq ifr = { 0 };
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        int r = ioctl(s, SIOCGIFFLAGS, &ifr);
        if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
                ifr.ifr_flags |= IFF_UP;
                r = ioctl(s, SIOCSIFFLAGS, &ifr);
        }
        int e = errno;
        close(s);
        errno = e;
        return r;
}

/* --network-namespace-path: the given namespace instead of a new one, its loopback up as nspawn's. */
static int join_network(const struct plan *p, struct failure *f) {
        if (!p->net.join)
                return 0;
        if (network_child_join(&p->net, f) < 0)
                return -1;
        if (loopback_up() < 0)
                return fail(f, "namespaces", "net", "lo", errno, "cannot bring up the loopback device of the network namespace %s", p->net.join);
        return 0;
}

static int enter_namespaces(const struct plan *p, struct failure *f) {
        if (join_network(p, f) < 0)
                return -1;
        int flags = CLONE_NEWNS | (p->ns_uts ? CLONE_NEWUTS : 0) | (p->ns_ipc ? CLONE_NEWIPC : 0) |
                    (p->ns_net ? CLONE_NEWNET : 0);
        if (unshare(flags) < 0)
                return fail(f, "namespaces", "", "", errno, "cannot create the container's namespaces");
        /* First act in the new mount namespace: nothing we mount may propagate
         * back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return fail(f, "namespaces", "", "/", errno, "cannot make / a recursive slave mount");
        if (p->ns_net && loopback_up() < 0)
                return fail(f, "namespaces", "net", "lo", errno, "cannot bring up the loopback device of the private network");
        return 0;
}

/* Blocks until the monitor says go (Node has placed us in our cgroup and
 * registered the machine). EOF means the monitor is gone: give up quietly. */
static int wait_barrier(int barrier_fd) {
        char c;
        ssize_t n;
        do
                n = read(barrier_fd, &c, 1);
        while (n < 0 && errno == EINTR);
        close(barrier_fd);
        return n == 1 && c == 'g' ? 0 : -1;
}

/* The container's root as a mount of its own (pivot_root needs one), made
 * on the tree opened again in this mount namespace and checked to be the
 * one Node inspected; never by path. */
static int prepare_root(const struct plan *p, const struct idmap *im, int *rootfd, struct failure *f) {
        int treefd = tree_open_checked(p, f);
        if (treefd < 0)
                return -1;
        struct pivot pv = { .new_root = p->pivot_new, .old_root = p->pivot_old, .last = p->pivot_last, .old_read_only = p->read_only_root };
        *rootfd = rootfs_mount(treefd, p->root_mode, im, p->pivot_new ? &pv : NULL, f);
        close(treefd);
        return *rootfd < 0 ? -1 : 0;
}

static int pivot(int rootfd, struct failure *f) {
        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * detaching "." afterwards leaves only the container's tree. */
        if (fchdir(rootfd) < 0)
                return fail(f, "pivot", "", "/", errno, "cannot enter the tree");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return fail(f, "pivot", "", "/", errno, "pivot_root into the tree failed");
        if (umount2(".", MNT_DETACH) < 0)
                return fail(f, "pivot", "", "/", errno, "cannot detach the host's root");
        if (chdir("/") < 0)
                return fail(f, "pivot", "", "/", errno, "cannot chdir to the new root");
        return 0;
}

static int setup_console(const struct child_args *a, struct failure *f) {
        if (setsid() < 0)
                return fail(f, "console", "", "", errno, "setsid failed");
        if (a->console_fd < 0)
                return 0;
        /* With --as-pid2 the payload takes the terminal, in a session of its own (see fork_payload). */
        if (!a->plan->as_pid2 && ioctl(a->console_fd, TIOCSCTTY, 0) < 0)
                return fail(f, "console", "", "/dev/console", errno, "cannot make the pty the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(a->console_fd, fd) < 0)
                        return fail(f, "console", "", "/dev/console", errno, "cannot attach the pty to fd %d", fd);
        close(a->console_fd);
        return 0;
}

static int set_credentials(const struct plan *p, struct failure *f) {
        /* First, while we still have CAP_SYS_ADMIN: then no no_new_privs is
         * needed, and setuid programs inside keep working. */
        unsigned filter = (p->no_syscall_filter ? 0 : SECCOMP_DENY_LIST) | (p->suppress_sync ? SECCOMP_SUPPRESS_SYNC : 0);
        if (filter && seccomp_install(p->caps_retain, filter, &p->syscall_rules) < 0)
                return fail(f, "credentials", "seccomp", "", errno, "cannot install the system call filter");
        if (caps_restrict_bounding(p->caps_retain) < 0)
                return fail(f, "credentials", "capabilities", "", errno, "cannot drop capabilities from the bounding set");
        /* Ambient capabilities for a user other than root: the permitted set
         * must survive the change of uid (exec clears this flag again). */
        if (p->limits.caps_ambient && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return fail(f, "credentials", "capabilities", "", errno, "cannot keep capabilities across the change of uid");
        if (setgroups(p->n_groups, p->groups) < 0)
                return fail(f, "credentials", "setgroups", "", errno, "cannot set supplementary groups");
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return fail(f, "credentials", "setgid", "", errno, "cannot change to gid %u", (unsigned) p->gid);
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return fail(f, "credentials", "setuid", "", errno, "cannot change to uid %u", (unsigned) p->uid);
        /* A user other than root keeps none at all but its ambient ones: nothing inheritable to regain through file capabilities. */
        if (caps_restrict_process(p->uid == 0 ? p->caps_retain : p->limits.caps_ambient) < 0)
                return fail(f, "credentials", "capabilities", "", errno, "cannot drop capabilities");
        if (p->limits.caps_ambient && caps_raise_ambient(p->limits.caps_ambient) < 0)
                return fail(f, "credentials", "ambient-capability", "", errno, "cannot raise the ambient capabilities");
        /* Last, as nspawn: from here on nothing the payload executes can gain privileges. */
        if (p->limits.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return fail(f, "credentials", "no-new-privileges", "", errno, "cannot set no_new_privs");
        return 0;
}

static void reset_signals(void) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
}

static const char *env_path(const struct plan *p) {
        for (size_t i = 0; i < p->n_envp; i++)
                if (strncmp(p->envp[i], "PATH=", 5) == 0)
                        return p->envp[i] + 5;
        return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* execve with a PATH search using the container's PATH (execvpe would use ours). */
static int exec_payload(const struct plan *p, struct failure *f) {
        if (strchr(p->exec_path, '/')) {
                execve(p->exec_path, p->argv, p->envp);
                return fail(f, "exec", "", p->exec_path, errno, "cannot execute %s", p->exec_path);
        }
        char *path = strdup(env_path(p)), *save = NULL;
        int last = ENOENT;
        for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                char full[4096];
                snprintf(full, sizeof full, "%s/%s", dir, p->exec_path);
                execve(full, p->argv, p->envp);
                if (errno != ENOENT)
                        last = errno;
        }
        free(path);
        return fail(f, "exec", "", p->exec_path, last, "cannot execute %s: not found in PATH", p->exec_path);
}

/* --as-pid2: fork the payload as PID 2 and stay as its stub init. Returns 0
 * in the payload, which then goes on to exec; PID 1 never returns. */
static int fork_payload(const struct child_args *a, struct failure *f) {
        sigset_t all, old;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &old);
        pid_t pid = fork();
        if (pid < 0)
                return fail(f, "exec", "fork", "", errno, "cannot fork the payload as PID 2");
        if (pid > 0) {
                const char *uuid = "";
                for (size_t i = 0; i < a->plan->n_envp; i++)
                        if (strncmp(a->plan->envp[i], "container_uuid=", 15) == 0)
                                uuid = a->plan->envp[i] + 15;
                stub_init(pid, uuid);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (setsid() < 0)
                return fail(f, "exec", "setsid", "", errno, "cannot start a session for the payload");
        if (a->plan->console != CONSOLE_PIPE && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                return fail(f, "console", "", "/dev/console", errno, "cannot make the pty the payload's controlling terminal");
        return 0;
}

/* Socket activation: the sockets systemd gave tsnspawn become 3, 4, ...
 * (left open across exec). Their sources lie at or above their targets
 * (listen_first >= 3), so going up never overwrites one not yet moved. */
static int pass_listen_fds(const struct plan *p, struct failure *f) {
        for (int i = 0; i < p->listen_count; i++) {
                int from = p->listen_first + i, to = 3 + i;
                if (dup2(from, to) < 0)
                        return fail(f, "exec", "dup2", "", errno, "cannot pass socket %d of $LISTEN_FDS to the container", i);
                (void) fcntl(to, F_SETFD, 0);
        }
        return 0;
}

/* Ops [from, to) relative to rootfd, then (when asked) "/" read-only. */
static int run_ops(const struct child_args *a, int rootfd, size_t from, size_t to, bool root_ro, const struct op_context *in, struct failure *f) {
        const struct plan *p = a->plan;
        /* --pivot-root=PATH:OLDROOT: '+' sources below OLDROOT are the old root's (ops.c). */
        struct op_context ctx = *in;
        struct old_root old = { .fd = p->pivot_old && from < to ? open_in_root(rootfd, p->pivot_old, O_PATH | O_DIRECTORY) : -1, .path = p->pivot_old };
        if (old.fd >= 0)
                ctx.old_root = &old;
        int r = 0;
        for (size_t i = from; i < to && r == 0; i++)
                r = run_op(rootfd, &p->ops[i], &ctx, f);
        if (old.fd >= 0)
                close(old.fd);
        if (r < 0)
                return -1;
        if (root_ro) {
                struct op ro = { .kind = OP_REMOUNT_RO, .a = "/" };
                if (run_op(rootfd, &ro, &ctx, f) < 0)
                        return -1;
        }
        return 0;
}

/* From the console on: the same with and without a user namespace. */
static int finish_and_exec(const struct child_args *a, struct failure *f) {
        const struct plan *p = a->plan;
        if (setup_console(a, f) < 0)
                return -1;
        /* Before the system call filter and the change of ids (as nspawn); none of our setup runs under them. */
        if (proc_limits_apply_self(&p->limits, f) < 0)
                return -1;
        if (set_credentials(p, f) < 0)
                return -1;
        if (p->cwd && chdir(p->cwd) < 0)
                return fail(f, "chdir", "", p->cwd, errno, "cannot change to directory %s", p->cwd);
        umask(022);
        if (p->as_pid2 && fork_payload(a, f) < 0)
                return -1;
        reset_signals();
        /* Only 0, 1 and 2 may reach the payload; the error pipe closes on exec,
         * which tells the monitor the exec worked. */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return fail(f, "exec", "close_range", "", errno, "cannot mark file descriptors close-on-exec");
        if (pass_listen_fds(p, f) < 0)
                return -1;
        return exec_payload(p, f);
}

static int child_steps(const struct child_args *a, struct failure *f) {
        const struct plan *p = a->plan;
        int rootfd = -1;

        if (enter_namespaces(p, f) < 0)
                return -1;
        network_child_ready(a->netready_fd);
        if (wait_barrier(a->barrier_fd) < 0)
                _exit(1);
        /* In our cgroup now (its cpuset bounds the affinity), and still real root. */
        if (proc_limits_apply_to_init(&p->limits, 0, f) < 0)
                return -1;

        /* Now in our own cgroup (Node moved us); a cgroup namespace made now
         * is rooted there, so the guest sees its cgroup as "/". */
        if (p->ns_cgroup && unshare(CLONE_NEWCGROUP) < 0)
                return fail(f, "namespaces", "cgroup", "", errno, "cannot create a cgroup namespace");
        if (p->hostname && p->ns_uts && sethostname(p->hostname, strlen(p->hostname)) < 0)
                return fail(f, "hostname", "", p->hostname, errno, "cannot set hostname %s", p->hostname);

        /* Modes in the plan are exact. */
        umask(0);
        if (prepare_root(p, NULL, &rootfd, f) < 0)
                return -1;
        struct op_context ctx = { .console_fd = a->console_fd, .console_path = a->console_path, .notify_fd = a->notify_fd, .owner = (uid_t) -1, .userns_fd = -1 };
        if (run_ops(a, rootfd, 0, p->n_ops, p->read_only_root, &ctx, f) < 0)
                return -1;
        if (pivot(rootfd, f) < 0)
                return -1;
        close(rootfd);
        return finish_and_exec(a, f);
}

/* ---- With a user namespace (-U) ----
 *
 * Two processes, as nspawn's outer and inner child. The outer one (this
 * child, real root in a mount namespace of its own) clones init into a new
 * user namespace together with its PID, UTS, IPC (and network) namespaces,
 * as the monitor's child (CLONE_PARENT), maps its ids, reports its pid and
 * waits at the barrier. Then, as real root, it makes the root (idmapped)
 * and every mount a user namespace may not make (block-backed binds,
 * sysfs without a network namespace of its own, device nodes), with its
 * file ids set to the container's root so what it creates is the guest's,
 * and hands init the root (a descriptor over a socket pair). Init, root of
 * its namespace, makes a mount namespace of its own (so the guest owns it),
 * the mounts that must be made from inside (/proc for its PID namespace,
 * mqueue for its IPC namespace, devpts, the cgroup file systems of its
 * cgroup namespace) and pivots into the root itself. */

/* The outer child's go: one byte with the root's descriptor (SCM_RIGHTS),
 * or EOF when it failed (and reported why). */
static int wait_go(int sock) {
        char c = 0;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = { 0 };
        struct iovec iov = { .iov_base = &c, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
        ssize_t n;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        close(sock);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (n != 1 || c != 'g' || !cm || cm->cmsg_type != SCM_RIGHTS)
                return -1;
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        return fd;
}

static int send_go(int sock, int rootfd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = { 0 };
        struct iovec iov = { .iov_base = "g", .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &rootfd, sizeof rootfd);
        return sendmsg(sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int inner_steps(const struct child_args *a, int rootfd, struct failure *f) {
        const struct plan *p = a->plan;
        /* Until now our ids were the host root's, which has no id here. */
        if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return fail(f, "userns", "setuid", "", errno, "cannot become root of the user namespace");
        /* The namespace's copy of the root replaces our working directory. */
        if (fchdir(rootfd) < 0)
                return fail(f, "userns", "chdir", "/", errno, "cannot enter the container's root");
        close(rootfd);
        if (unshare(CLONE_NEWNS | (p->ns_cgroup ? CLONE_NEWCGROUP : 0)) < 0)
                return fail(f, "namespaces", "userns", "", errno, "cannot create the container's mount and cgroup namespaces in its user namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return fail(f, "namespaces", "", "/", errno, "cannot make / a recursive slave mount");
        if (p->ns_net && loopback_up() < 0)
                return fail(f, "namespaces", "net", "lo", errno, "cannot bring up the loopback device of the private network");
        if (p->hostname && p->ns_uts && sethostname(p->hostname, strlen(p->hostname)) < 0)
                return fail(f, "hostname", "", p->hostname, errno, "cannot set hostname %s", p->hostname);
        umask(0);
        /* The host's /proc is still there (hidden once we pivot): the kernel
         * lets a user namespace mount a proc only where one is fully visible. */
        rootfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return fail(f, "userns", "open", "/", errno, "cannot open the container's root");
        struct op_context ctx = { .console_fd = a->console_fd, .console_path = a->console_path, .notify_fd = a->notify_fd, .owner = (uid_t) -1, .userns_fd = -1 };
        if (run_ops(a, rootfd, p->inner_ops_from, p->n_ops, false, &ctx, f) < 0)
                return -1;
        /* Copied from the host's namespace, the root mount is locked here and
         * pivot_root refuses a locked new root: a copy of it made in our own
         * namespace (with everything below it) goes on top, and that is the root. */
        int copy = (int) syscall(SYS_open_tree, rootfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (copy < 0 || syscall(SYS_move_mount, copy, "", rootfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return fail(f, "pivot", "userns", "/", errno, "cannot make the container's root a mount of its own namespace");
        /* The descriptor of the copy now names the attached mount. */
        close(rootfd);
        rootfd = copy;
        if (pivot(rootfd, f) < 0)
                return -1;
        close(rootfd);
        return finish_and_exec(a, f);
}

static void inner_main(const struct child_args *a, int go_fd) {
        struct failure f = { 0 };
        /* Our parent is the monitor (CLONE_PARENT): die with it, as without -U. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(1);
        close(a->barrier_fd);
        if (a->pid_fd >= 0)
                close(a->pid_fd);
        /* No go: the outer child failed and reported why. */
        int rootfd = wait_go(go_fd);
        if (rootfd < 0)
                _exit(1);
        inner_steps(a, rootfd, &f);
        failure_send(a->err_fd, &f);
        _exit(1);
}

static int outer_steps(const struct child_args *a, struct failure *f) {
        const struct plan *p = a->plan;
        if (unshare(CLONE_NEWNS) < 0)
                return fail(f, "namespaces", "", "", errno, "cannot create the setup's mount namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return fail(f, "namespaces", "", "/", errno, "cannot make / a recursive slave mount");
        /* Joined here, as real root: init (cloned below) inherits it, and our sysfs shows it. */
        if (join_network(p, f) < 0)
                return -1;
        int go[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, go) < 0)
                return fail(f, "userns", "socketpair", "", errno, "cannot create a socket pair");
        struct clone_args ca = {
                .flags = CLONE_PARENT | CLONE_NEWUSER | CLONE_NEWPID | (p->ns_uts ? CLONE_NEWUTS : 0) | (p->ns_ipc ? CLONE_NEWIPC : 0) |
                         (p->ns_net ? CLONE_NEWNET : 0),
        };
        pid_t init = (pid_t) syscall(SYS_clone3, &ca, sizeof ca);
        if (init < 0)
                return fail(f, "namespaces", "userns", "", errno, "cannot create the container's user namespace and init");
        if (init == 0) {
                close(go[1]);
                inner_main(a, go[0]);
        }
        close(go[0]);
        int usernsfd = -1;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int) init);
        if (userns_write_maps(init, p, f) < 0)
                goto bad;
        /* For the idmapped tree and idmapped binds. */
        if ((usernsfd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
                fail(f, "userns", "open", path, errno, "cannot open the container's user namespace");
                goto bad;
        }
        /* The monitor registers init, not us. */
        if (write(a->pid_fd, &init, sizeof init) != (ssize_t) sizeof init) {
                fail(f, "userns", "report", "", errno, "cannot report init's pid to the monitor");
                goto bad;
        }
        close(a->pid_fd);
        /* init's network namespace exists (made with it): the monitor may put links there. */
        network_child_ready(a->netready_fd);
        if (wait_barrier(a->barrier_fd) < 0) {
                kill(init, SIGKILL);
                _exit(1);
        }
        /* As real root, on init: a user namespace's root may not lower its OOM score or raise a hard limit. */
        if (proc_limits_apply_to_init(&p->limits, init, f) < 0 || proc_limits_make_room(&p->limits, init, f) < 0)
                goto bad;
        if (userns_files_as(p->uid_base, f) < 0)
                goto bad;
        umask(0);
        struct idmap im = { .userns_fd = p->idmap_root ? usernsfd : -1, .base = p->uid_base };
        int rootfd = -1;
        if (prepare_root(p, &im, &rootfd, f) < 0)
                goto bad;
        struct op_context ctx = { .console_fd = a->console_fd, .console_path = a->console_path, .notify_fd = a->notify_fd, .owner = p->uid_base, .userns_fd = usernsfd };
        if (run_ops(a, rootfd, 0, p->inner_ops_from, p->read_only_root, &ctx, f) < 0)
                goto bad;
        if (send_go(go[1], rootfd) < 0) {
                fail(f, "userns", "go", "", errno, "cannot hand the root to init");
                goto bad;
        }
        _exit(0);
bad:
        kill(init, SIGKILL);
        return -1;
}

void child_main(const struct child_args *a) {
        struct failure f = { 0 };
        /* If the monitor dies, so do we (and with us the whole PID namespace).
         * A monitor that died before this line is caught by the barrier's EOF. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
                fail(&f, "namespaces", "prctl", "", errno, "cannot set the parent-death signal");
                failure_send(a->err_fd, &f);
                _exit(1);
        }
        if (a->plan->userns != USERNS_NONE)
                outer_steps(a, &f);
        else
                child_steps(a, &f);
        failure_send(a->err_fd, &f);
        _exit(1);
}
