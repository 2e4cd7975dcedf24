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
#include "seccomp.h"
#include "stub-init.h"
#include "ops.h"
#include "rootfs.h"
#include "tree.h"

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

static int enter_namespaces(const struct plan *p, struct failure *f) {
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
static int prepare_root(const struct plan *p, int *rootfd, struct failure *f) {
        int treefd = tree_open_checked(p, f);
        if (treefd < 0)
                return -1;
        *rootfd = rootfs_mount(treefd, p->root_mode, f);
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
        if (!p->no_syscall_filter && seccomp_install(p->caps_retain) < 0)
                return fail(f, "credentials", "seccomp", "", errno, "cannot install the system call filter");
        if (caps_restrict_bounding(p->caps_retain) < 0)
                return fail(f, "credentials", "capabilities", "", errno, "cannot drop capabilities from the bounding set");
        if (setgroups(p->n_groups, p->groups) < 0)
                return fail(f, "credentials", "setgroups", "", errno, "cannot set supplementary groups");
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return fail(f, "credentials", "setgid", "", errno, "cannot change to gid %u", (unsigned) p->gid);
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return fail(f, "credentials", "setuid", "", errno, "cannot change to uid %u", (unsigned) p->uid);
        /* A user other than root keeps none at all: nothing inheritable to regain through file capabilities. */
        if (caps_restrict_process(p->uid == 0 ? p->caps_retain : 0) < 0)
                return fail(f, "credentials", "capabilities", "", errno, "cannot drop capabilities");
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

static int child_steps(const struct child_args *a, struct failure *f) {
        const struct plan *p = a->plan;
        int rootfd = -1;

        if (enter_namespaces(p, f) < 0)
                return -1;
        network_child_ready(a->netready_fd);
        if (wait_barrier(a->barrier_fd) < 0)
                _exit(1);

        /* Now in our own cgroup (Node moved us); a cgroup namespace made now
         * is rooted there, so the guest sees its cgroup as "/". */
        if (p->ns_cgroup && unshare(CLONE_NEWCGROUP) < 0)
                return fail(f, "namespaces", "cgroup", "", errno, "cannot create a cgroup namespace");
        if (p->hostname && p->ns_uts && sethostname(p->hostname, strlen(p->hostname)) < 0)
                return fail(f, "hostname", "", p->hostname, errno, "cannot set hostname %s", p->hostname);

        /* Modes in the plan are exact. */
        umask(0);
        if (prepare_root(p, &rootfd, f) < 0)
                return -1;
        struct op_context ctx = { .console_fd = a->console_fd, .console_path = a->console_path, .notify_fd = a->notify_fd };
        for (size_t i = 0; i < p->n_ops; i++)
                if (run_op(rootfd, &p->ops[i], &ctx, f) < 0)
                        return -1;
        if (p->read_only_root) {
                struct op ro = { .kind = OP_REMOUNT_RO, .a = "/" };
                if (run_op(rootfd, &ro, &ctx, f) < 0)
                        return -1;
        }
        if (pivot(rootfd, f) < 0)
                return -1;
        close(rootfd);

        if (setup_console(a, f) < 0)
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

void child_main(const struct child_args *a) {
        struct failure f = { 0 };
        /* If the monitor dies, so do we (and with us the whole PID namespace).
         * A monitor that died before this line is caught by the barrier's EOF. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
                fail(&f, "namespaces", "prctl", "", errno, "cannot set the parent-death signal");
                failure_send(a->err_fd, &f);
                _exit(1);
        }
        child_steps(a, &f);
        failure_send(a->err_fd, &f);
        _exit(1);
}
