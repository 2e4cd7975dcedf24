/* tsnspawn-helper: executes a launch plan and stays as the container's parent.
 *
 *   tsnspawn-helper --control-fd FD --parent-pid PID
 *       FD is a stream socket to Node: the plan comes in, then commands
 *       ("go", "kill SIGNO"); JSON-line events go out (report.h).
 *   tsnspawn-helper --exec ...
 *       tsnspawn exec: a command inside a running container (exec.c).
 *   tsnspawn-helper --decode
 *       reads a plan on stdin and prints it as JSON (tests of the encoding).
 *   tsnspawn [ARGS...]   (bin/tsnspawn, a symlink to this binary)
 *       the launcher: forks the monitor, then executes Node (launch.c).
 *
 * Process tree: tsnspawn (node) - this monitor - container init (PID 1
 * inside). Where we are in main(): the host's namespaces, full root. */
#define _GNU_SOURCE
#include "bus-register.h"
#include "cgroup.h"
#include "device-policy.h"
#include "child.h"
#include "launch.h"
#include "image.h"
#include "console.h"
#include "exec.h"
#include "monitor.h"
#include "userns.h"
#include "userns-chown.h"
#include "network.h"
#include "notify.h"
#include "plan.h"
#include "report.h"
#include "sealed-exec.h"
#include "supervise.h"
#include "ops.h"
#include "tree.h"
#include "tree-lock.h"
#include "workdir.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *step, int err, const char *msg) {
        /* Node prints the event; our stderr is the container's. */
        report_error(step, "", "", err, msg);
        exit(1);
}

static int parse_int(const char *s) {
        char *end;
        long v = strtol(s, &end, 10);
        return (*s && !*end && v >= 0 && v < 1 << 30) ? (int) v : -1;
}

/* --register=auto without machined (or --register=no without systemd):
 * the container runs unregistered; only the first is worth a word. */
static void warn_unregistered(const struct registration *r, const char *why) {
        char msg[900];
        if (r->kind == REG_SCOPE)
                return;
        snprintf(msg, sizeof msg, "systemd-machined is not reachable (%s); running without registration", why);
        report_warning(msg, 0);
}

/* Connects when the plan registers; a bus that is not there fails the
 * start when registration is required, else the run goes on without. */
static void connect_bus(const struct registration *r, struct bus *bus) {
        char err[512], msg[700];
        if (r->kind == REG_NONE || bus_connect(bus, r->bus_socket, err, sizeof err) == 0)
                return;
        int e = errno;
        snprintf(msg, sizeof msg, "%s: %s", err, strerror(e));
        if (!r->required) {
                warn_unregistered(r, msg);
                return;
        }
        if (r->kind == REG_SCOPE)
                snprintf(msg, sizeof msg, "cannot use --slice/--property: cannot reach systemd (%s: %s)", err, strerror(e));
        else
                snprintf(msg, sizeof msg, "cannot register with systemd-machined: %s: %s (start systemd-machined, or use --register=no)", err, strerror(e));
        report_error("register", "connect", r->bus_socket, 0, msg);
        exit(1);
}

static int decode_only(void) {
        struct plan p;
        char err[512];
        if (plan_read(STDIN_FILENO, &p, err, sizeof err) < 0) {
                fprintf(stderr, "tsnspawn-helper: %s\n", err);
                return 1;
        }
        plan_dump_json(&p, STDOUT_FILENO);
        return 0;
}

/* The monitor: runs the plan that comes on control_fd and stays as init's
 * parent. parent_pid is Node's pid (our parent). */
int monitor_main(int control_fd, int parent_pid) {
        report_set_fd(control_fd);
        (void) fcntl(control_fd, F_SETFD, FD_CLOEXEC);

        /* Die with Node. Checked after setting it: Node may already be gone. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                die("startup", errno, "cannot set the parent-death signal");
        if (getppid() != parent_pid)
                return 1;

        struct plan plan;
        char err[512];
        if (plan_read(control_fd, &plan, err, sizeof err) < 0)
                die("plan", 0, err);

        /* The tree's lock (or -i's image's) before anything else: a tree
         * another container runs is refused with nothing made (tree-lock.c). */
        {
                struct failure lf = { 0 };
                if (tree_lock_acquire(&plan, &lf) < 0) {
                        report_error(lf.step, lf.op, lf.path, lf.err, lf.message);
                        return 1;
                }
        }

        /* -i: into the image's mount namespace before anything is opened by path. */
        if (plan.image_holder > 0) {
                struct failure jf = { 0 };
                if (image_join(plan.image_holder, parent_pid, &jf) < 0) {
                        report_error(jf.step, jf.op, jf.path, jf.err, jf.message);
                        return 1;
                }
        }

        /* The bus first: one we cannot reach fails the start with nothing to undo. */
        struct bus bus = { .fd = -1 };
        connect_bus(&plan.reg, &bus);

        /* Before anything is made: the tree is the one Node checked, and the
         * overlay work directories on the host exist (made and later removed
         * here, by descriptor). */
        struct failure f = { 0 };
        /* --network-namespace-path: opened and checked before anything of the container exists. */
        if (network_open_join(&plan.net, &f) < 0) {
                report_error(f.step, f.op, f.path, f.err, f.message);
                return 1;
        }
        /* The uid range first: with pick, the outer child needs the one taken. */
        int uid_lock = -1;
        bool userns = plan.userns != USERNS_NONE;
        if (userns_acquire(&plan, &uid_lock, &f) < 0) {
                report_error(f.step, f.op, f.path, f.err, f.message);
                return 1;
        }
        struct workdir *workdirs = NULL;
        size_t n_workdirs = 0;
        struct cgroup_set cgroups = { 0 };
        int treefd = tree_open_checked(&plan, &f);
        /* chown ownership: the tree's files shifted into the range taken, before anything runs on it. */
        bool tree_ready = treefd >= 0 && (!plan.chown_root || userns_chown_tree(treefd, plan.uid_base, &f) == 0);
        /* '+' upper trees are in the container's root: with --pivot-root a directory of the tree. */
        int rootdir = !tree_ready ? -1 : !plan.pivot_new ? treefd : open_in_root(treefd, plan.pivot_new, O_PATH | O_DIRECTORY);
        if (tree_ready && rootdir < 0)
                fail(&f, "root", "pivot-root", plan.pivot_new, errno, "cannot open %s in the tree for --pivot-root", plan.pivot_new);
        if (rootdir < 0 || workdir_prepare_overlays(&plan, rootdir, &workdirs, &n_workdirs, &f) < 0 ||
            cgroup_open(&plan, &cgroups, &f) < 0) {
                for (size_t i = 0; i < n_workdirs; i++)
                        workdir_remove(&workdirs[i]);
                report_error(f.step, f.op, f.path, f.err, f.message);
                userns_release(uid_lock, plan.uid_base);
                return 1;
        }
        if (rootdir != treefd)
                close(rootdir);
        close(treefd);

        /* Signals are read through a signalfd in the monitor; block them
         * before anything can arrive. SIGINT/SIGTERM from a terminal reach
         * Node too, and Node decides what they mean. */
        sigset_t mask = monitor_signals();
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        struct console con;
        if (console_open(&con, plan.console) < 0)
                die("console", errno, "cannot allocate the console pty");
        struct notify notify;
        if (notify_open(&notify) < 0)
                die("notify", errno, "cannot create the notify socket");

        int barrier[2], errpipe[2], pidpipe[2] = { -1, -1 }, netready[2] = { -1, -1 };
        if (pipe2(barrier, O_CLOEXEC) < 0 || pipe2(errpipe, O_CLOEXEC) < 0 || (userns && pipe2(pidpipe, O_CLOEXEC) < 0) ||
            (network_has_links(&plan.net) && pipe2(netready, O_CLOEXEC) < 0))
                die("startup", errno, "cannot create pipes");

        /* The next fork becomes PID 1 of a new PID namespace. With a user
         * namespace, init's PID namespace must belong to it: the outer
         * child makes both (child.c). */
        if (!userns && unshare(CLONE_NEWPID) < 0)
                die("namespaces", errno, "cannot create a PID namespace");
        pid_t child = cgroup_fork(&cgroups);
        if (child < 0)
                die("namespaces", errno, "cannot fork the container's init");
        if (child == 0) {
                close(barrier[1]);
                close(errpipe[0]);
                if (netready[0] >= 0)
                        close(netready[0]);
                close(control_fd);
                if (bus.fd >= 0)
                        close(bus.fd);
                cgroup_close(&cgroups);
                struct child_args a = {
                        .plan = &plan,
                        .barrier_fd = barrier[0],
                        .err_fd = errpipe[1],
                        .console_fd = con.peer_fd,
                        .console_path = con.peer_fd >= 0 ? con.peer_path : NULL,
                        .notify_fd = notify.fd,
                        .pid_fd = pidpipe[1],
                        .netready_fd = netready[1],
                };
                if (pidpipe[0] >= 0)
                        close(pidpipe[0]);
                child_main(&a);
        }
        close(barrier[0]);
        close(errpipe[1]);
        if (userns) {
                /* The outer child reports init's pid, or fails and says why. */
                close(pidpipe[1]);
                pid_t init = -1;
                ssize_t n;
                do
                        n = read(pidpipe[0], &init, sizeof init);
                while (n < 0 && errno == EINTR);
                close(pidpipe[0]);
                if (n != (ssize_t) sizeof init || init <= 0) {
                        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
                        }
                        if (failure_receive_and_report(errpipe[0]) == 0)
                                report_error("userns", "", "", 0, "the container's setup ended before it created init");
                        for (size_t i = 0; i < n_workdirs; i++)
                                workdir_remove(&workdirs[i]);
                        userns_release(uid_lock, plan.uid_base);
                        return 1;
                }
                /* The outer child ends once init goes on; reap() lets it go. */
                child = init;
        }

        /* Init exists; once it has its network namespace, its links (network.c). */
        if (network_has_links(&plan.net)) {
                close(netready[1]);
                int r = network_setup(&plan.net, child, netready[0], plan.reg.netif, sizeof plan.reg.netif / sizeof plan.reg.netif[0], &plan.reg.n_netif, &f);
                if (r < 0) {
                        kill(child, SIGKILL);
                        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
                        }
                        for (size_t i = 0; i < n_workdirs; i++)
                                workdir_remove(&workdirs[i]);
                        userns_release(uid_lock, plan.uid_base);
                        /* -2: init failed before it had a namespace; its own failure says why. */
                        if (r == -2)
                                (void) failure_receive_and_report(errpipe[0]);
                        else
                                report_error(f.step, f.op, f.path, f.err, f.message);
                        return 1;
                }
        }

        /* Init exists and waits at the barrier: register it. */
        bool registered = false;
        if (bus.fd >= 0) {
                const char *op = "";
                enum reg_result r = bus_register(&bus, &plan.reg, child, &op, err, sizeof err);
                if (r == REG_FAILED) {
                        kill(child, SIGKILL);
                        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
                        }
                        for (size_t i = 0; i < n_workdirs; i++)
                                workdir_remove(&workdirs[i]);
                        userns_release(uid_lock, plan.uid_base);
                        if (network_has_links(&plan.net))
                                network_teardown(&plan.net);
                        report_error("register", op, "", 0, err);
                        return 1;
                }
                if (r == REG_UNAVAILABLE) {
                        warn_unregistered(&plan.reg, err);
                        bus_close(&bus);
                } else
                        registered = true;
        }
        report_pid(child, registered ? reg_kind_name(plan.reg.kind) : NULL, userns ? (long long) plan.uid_base : -1);

        /* With cgroups in the plan nobody waits at the barrier: init goes
         * into the ones it was not born in and on at once. If that fails,
         * init sees the barrier close without a go and ends. */
        if (plan.n_cgroups > 0) {
                if (cgroup_attach(&cgroups, child, &f) < 0 || (userns && cgroup_chown(&cgroups, plan.uid_base, &f) < 0) ||
                    device_policy_apply(child, &f) < 0) {
                        report_error(f.step, f.op, f.path, f.err, f.message);
                        kill(child, SIGKILL);
                } else
                        (void) write_all(barrier[1], "g", 1);
                close(barrier[1]);
                barrier[1] = -1;
        }
        cgroup_close(&cgroups);

        struct monitor m = {
                .plan = &plan,
                .child = child,
                .control_fd = control_fd,
                .barrier_fd = barrier[1],
                .err_fd = errpipe[0],
                .console = &con,
                .notify = &notify,
                .bus = bus.fd >= 0 ? &bus : NULL,
                .registered = registered,
                /* Registered, systemd enforces the device policy: a machine's or
                 * systemd's scope gets DevicePolicy=closed (registration.ts), a
                 * --keep-unit service has it in its unit (tsnspawn@.service). */
                .own_devices = !registered,
                .listen_fd = -1,
                .workdirs = workdirs,
                .n_workdirs = n_workdirs,
                .net = network_has_links(&plan.net) ? &plan.net : NULL,
        };
        int r = monitor_run(&m);
        userns_release(uid_lock, plan.uid_base);
        return r;
}

int main(int argc, char **argv) {
        int control_fd = -1, parent_pid = -1;
        if (launcher_invoked(argv[0]))
                return launch_main(argc, argv);
        /* The same, asked for by name (bin/tsnspawn-npm): the arguments after it are tsnspawn's. */
        if (argc >= 2 && strcmp(argv[1], "--launch") == 0)
                return launch_main(argc - 1, argv + 1);
        if (argc == 2 && strcmp(argv[1], "--decode") == 0)
                return decode_only();
        if (argc >= 2 && strcmp(argv[1], "--image") == 0)
                return image_holder_main(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "--supervise") == 0)
                return supervise_main(argc - 2, argv + 2);
        if (argc >= 2 && strcmp(argv[1], "--exec") == 0) {
                sealed_reexec(argv);
                return exec_main(argc - 2, argv + 2);
        }
        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--control-fd") == 0)
                        control_fd = parse_int(argv[i + 1]);
                else if (strcmp(argv[i], "--parent-pid") == 0)
                        parent_pid = parse_int(argv[i + 1]);
        }
        if (control_fd < 0 || parent_pid < 0 || argc != 5) {
                fprintf(stderr, "usage: tsnspawn-helper --control-fd FD --parent-pid PID | --decode\n");
                return 2;
        }
        return monitor_main(control_fd, parent_pid);
}
