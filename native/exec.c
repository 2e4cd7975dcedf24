/* tsnspawn exec: runs a command inside a running container, whatever its
 * init, as the container's own processes run.
 *
 *   tsnspawn-helper --exec --machine NAME --leader PID:START --caps HEX
 *       [--no-syscall-filter] [--suppress-sync] [--syscall-allow|--syscall-deny ABI:NR,NR,...]...
 *       --uid N --gid N --groups G,G,...
 *       --chdir PATH [--chdir-fallback] [--tty] -- COMMAND [ARGS...]
 *
 * Node (src/commands/exec.ts) decided everything and execve()d us in its
 * pid; our environment is the command's. The steps:
 *
 *   host namespaces, full root:  pidfd of the leader, checked by start time
 *     (a pid may be reused); its cgroups opened (exec-cgroups.c); the
 *     namespaces it has apart from ours listed.
 *   setns(pidfd, ...):  its mount (so its root), UTS, IPC, network and
 *     cgroup namespaces where they differ from ours, and its pid namespace
 *     for our child; with -t a pty from the container's /dev/ptmx.
 *   the child (PID N inside, born in the leader's cgroup2 cgroup): the
 *     other hierarchies, the cgroup namespace, then what the container's
 *     payload got (native/child.c set_credentials; init's limits, OOM
 *     score, CPU affinity, personality and no_new_privs: exec-inherit.h):
 *     the seccomp filter
 *     (while CAP_SYS_ADMIN spares no_new_privs), the capability bounding
 *     set, groups, gid, uid; chdir; execve with a PATH search in the
 *     container's PATH.
 *   we stay outside its pid namespace, forward signals and exit with the
 *     command's status (exec-wait.c).
 *
 * Failures: one line on stderr naming the step and the container, and
 * 125/126/127 (exec.h); a child's failure before its execve comes back on a
 * close-on-exec pipe, so it reaches our stderr even with -t. */
#define _GNU_SOURCE
#include "exec.h"
#include "caps.h"
#include "console.h"
#include "exec-cgroups.h"
#include "exec-inherit.h"
#include "seccomp.h"
#include "syscall-rules.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

#define MAX_GROUPS 256

struct exec_args {
        const char *machine;
        pid_t leader;
        const char *leader_start;
        uint64_t caps;
        bool syscall_filter;
        bool suppress_sync; /* the container's --suppress-sync=yes (seccomp.c) */
        struct syscall_rules syscall_rules; /* the container's --system-call-filter */
        uid_t uid;
        gid_t gid;
        gid_t groups[MAX_GROUPS];
        size_t n_groups;
        const char *chdir;
        bool chdir_fallback;
        bool tty;
        char **argv;
};

/* What the child tells us when it fails before its execve. */
struct child_failure {
        int code;
        char message[1024];
};

static __attribute__((noreturn, format(printf, 2, 3))) void die(int code, const char *fmt, ...) {
        char msg[1200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "tsnspawn: %s\n", msg);
        exit(code);
}

static bool parse_u64(const char *s, int base, uint64_t max, uint64_t *out) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, base);
        if (!*s || *end || errno || v > max || *s == '-')
                return false;
        *out = v;
        return true;
}

static void parse_groups(const char *s, struct exec_args *a) {
        char *copy = strdup(s), *save = NULL;
        for (char *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
                uint64_t v;
                if (a->n_groups == MAX_GROUPS || !parse_u64(g, 10, UINT32_MAX - 1, &v))
                        die(EXIT_EXEC_FAILED, "exec: bad --groups %s", s);
                a->groups[a->n_groups++] = (gid_t) v;
        }
        free(copy);
}

/* One "--option VALUE" of the helper's command line. */
static void parse_value(const char *o, const char *v, struct exec_args *a) {
        uint64_t n;
        if (strcmp(o, "--machine") == 0)
                a->machine = v;
        else if (strcmp(o, "--leader") == 0) {
                const char *colon = strchr(v, ':');
                char pid[16];
                if (!colon || colon - v >= (long) sizeof pid)
                        die(EXIT_EXEC_FAILED, "exec: bad --leader %s", v);
                snprintf(pid, sizeof pid, "%.*s", (int) (colon - v), v);
                if (!parse_u64(pid, 10, INT_MAX, &n) || n == 0)
                        die(EXIT_EXEC_FAILED, "exec: bad --leader %s", v);
                a->leader = (pid_t) n;
                a->leader_start = colon + 1;
        } else if (strcmp(o, "--caps") == 0) {
                if (!parse_u64(v, 16, UINT64_MAX, &a->caps))
                        die(EXIT_EXEC_FAILED, "exec: bad --caps %s", v);
        } else if (strcmp(o, "--uid") == 0) {
                if (!parse_u64(v, 10, UINT32_MAX - 1, &n))
                        die(EXIT_EXEC_FAILED, "exec: bad --uid %s", v);
                a->uid = (uid_t) n;
        } else if (strcmp(o, "--gid") == 0) {
                if (!parse_u64(v, 10, UINT32_MAX - 1, &n))
                        die(EXIT_EXEC_FAILED, "exec: bad --gid %s", v);
                a->gid = (gid_t) n;
        } else if (strcmp(o, "--groups") == 0)
                parse_groups(v, a);
        else if (strcmp(o, "--chdir") == 0)
                a->chdir = v;
        else if (strcmp(o, "--syscall-allow") == 0 || strcmp(o, "--syscall-deny") == 0) {
                if (syscall_rules_arg(&a->syscall_rules, strcmp(o, "--syscall-deny") == 0, v) < 0)
                        die(EXIT_EXEC_FAILED, "exec: bad %s %s", o, v);
        } else
                die(EXIT_EXEC_FAILED, "exec: unknown helper option %s", o);
}

/* Node wrote this command line (src/commands/exec-wire.ts); anything else is refused. */
static void parse_args(int argc, char **argv, struct exec_args *a) {
        *a = (struct exec_args){ .syscall_filter = true, .uid = (uid_t) -1, .gid = (gid_t) -1 };
        int i = 0;
        for (; i < argc; i++) {
                const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (strcmp(o, "--") == 0) {
                        i++;
                        break;
                } else if (strcmp(o, "--no-syscall-filter") == 0)
                        a->syscall_filter = false;
                else if (strcmp(o, "--suppress-sync") == 0)
                        a->suppress_sync = true;
                else if (strcmp(o, "--chdir-fallback") == 0)
                        a->chdir_fallback = true;
                else if (strcmp(o, "--tty") == 0)
                        a->tty = true;
                else {
                        if (!v)
                                die(EXIT_EXEC_FAILED, "exec: %s needs a value", o);
                        i++;
                        parse_value(o, v, a);
                }
        }
        if (!a->machine || !a->leader || !a->chdir || a->uid == (uid_t) -1 || a->gid == (gid_t) -1 || i >= argc)
                die(EXIT_EXEC_FAILED, "exec: incomplete helper command line (it comes from tsnspawn exec)");
        a->argv = argv + i;
}

/* Field 22 of /proc/PID/stat (the start time) equals START. */
static bool started_at(pid_t pid, const char *start) {
        char file[64], buf[1024];
        snprintf(file, sizeof file, "/proc/%d/stat", (int) pid);
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = 0;
        /* After "pid (comm) ": comm may hold spaces and parentheses. */
        char *p = strrchr(buf, ')');
        if (!p)
                return false;
        p += 2;
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        return p && strncmp(p, start, strlen(start)) == 0 && p[strlen(start)] == ' ';
}

/* The namespaces the leader has apart from ours: a container without a
 * private network (or IPC, ...) shares the host's, and setns into our own
 * would be harmless but entering only what differs says what we do. */
static int namespaces_to_enter(pid_t leader) {
        static const struct {
                const char *name;
                int flag;
        } kinds[] = {
                { "mnt", CLONE_NEWNS }, { "uts", CLONE_NEWUTS }, { "ipc", CLONE_NEWIPC },
                { "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID }, { "cgroup", CLONE_NEWCGROUP },
                { "user", CLONE_NEWUSER },
        };
        int flags = 0;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
                char theirs[64], ours[64];
                struct stat t, o;
                snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int) leader, kinds[i].name);
                snprintf(ours, sizeof ours, "/proc/self/ns/%s", kinds[i].name);
                if (stat(theirs, &t) < 0 || stat(ours, &o) < 0 || t.st_dev != o.st_dev || t.st_ino != o.st_ino)
                        flags |= kinds[i].flag;
        }
        return flags;
}

/* ---- the child: from fork to execve ---------------------------------- */

static __attribute__((noreturn, format(printf, 3, 4))) void child_fail(int errfd, int code, const char *fmt, ...) {
        struct child_failure f = { .code = code };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f.message, sizeof f.message, fmt, ap);
        va_end(ap);
        (void) !write(errfd, &f, sizeof f);
        _exit(code);
}

static void reset_signals(void) {
        sigset_t none;
        sigemptyset(&none);
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL); /* Node ignored SIGPIPE, and an ignored signal survives execve */
        sigprocmask(SIG_SETMASK, &none, NULL);
}

static const char *env_path(void) {
        const char *p = getenv("PATH");
        return p ? p : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* execve with a PATH search in the container's PATH (our environment is the
 * command's). 127 when nothing of the name exists, 126 when something does
 * but cannot be executed (a directory, no x bit, not a program), as shells. */
static void exec_command(const struct exec_args *a, int errfd) {
        const char *cmd = a->argv[0];
        if (strchr(cmd, '/')) {
                execve(cmd, a->argv, environ);
                int e = errno;
                child_fail(errfd, e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE,
                           "cannot execute %s in container %s: %s", cmd, a->machine, strerror(e));
        }
        char *path = strdup(env_path()), *save = NULL;
        int found_err = 0;
        for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                char full[PATH_MAX];
                if (snprintf(full, sizeof full, "%s/%s", dir, cmd) >= (int) sizeof full)
                        continue;
                execve(full, a->argv, environ);
                if (errno != ENOENT && errno != ENOTDIR && !found_err)
                        found_err = errno;
        }
        if (found_err)
                child_fail(errfd, EXIT_CANNOT_EXECUTE, "cannot execute %s in container %s: %s", cmd, a->machine, strerror(found_err));
        child_fail(errfd, EXIT_NOT_FOUND, "no command %s in container %s (PATH=%s)", cmd, a->machine, env_path());
}

/* parent: our parent's pid as we see it (0 from inside a pid namespace it is outside of). */
static __attribute__((noreturn)) void child_main(const struct exec_args *a, const struct exec_inherited *in, pid_t parent, int pidfd,
                                                 int ns_flags, struct exec_cgroups *cg, struct console *con, int errfd) {
        char err[700];
        const char *m = a->machine;
        /* Root with every capability until the credentials below: nothing
         * in the container may ptrace or read us in the meantime. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (exec_cgroups_join(cg, err, sizeof err) < 0)
                child_fail(errfd, EXIT_EXEC_FAILED, "cannot place the command in container %s: %s: %s", m, err, strerror(errno));
        exec_cgroups_close(cg);
        /* Now inside its cgroups, the cgroup namespace shows them as its root
         * does; and the user namespace makes our uid the container's (0 is
         * its root, not the host's, from here on). */
        int late = ns_flags & (CLONE_NEWCGROUP | CLONE_NEWUSER);
        if (late && setns(pidfd, late) < 0)
                child_fail(errfd, EXIT_EXEC_FAILED, "cannot enter the cgroup and user namespaces of container %s (pid %d): %s", m, (int) a->leader, strerror(errno));
        close(pidfd);
        reset_signals();

        if (con) {
                /* The pty's peer is the command's controlling terminal, in a session of its own. */
                if (setsid() < 0 || ioctl(con->peer_fd, TIOCSCTTY, 0) < 0)
                        child_fail(errfd, EXIT_EXEC_FAILED, "cannot make %s the terminal of the command in container %s: %s", con->peer_path, m, strerror(errno));
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(con->peer_fd, fd) < 0)
                                child_fail(errfd, EXIT_EXEC_FAILED, "cannot attach the pty in container %s: %s", m, strerror(errno));
                close(con->peer_fd);
                close(con->master_fd);
        }

        /* Init's personality, before the filter as for the payload (proc-limits.c). */
        if (exec_inherit_apply_personality(in) < 0)
                child_fail(errfd, EXIT_EXEC_FAILED, "cannot take the personality of container %s's init: %s", m, strerror(errno));
        /* What the payload got (native/child.c): the filter first, while
         * CAP_SYS_ADMIN lets us install it without no_new_privs, so setuid
         * programs inside keep working. */
        unsigned filter = (a->syscall_filter ? SECCOMP_DENY_LIST : 0) | (a->suppress_sync ? SECCOMP_SUPPRESS_SYNC : 0);
        if (filter && seccomp_install(a->caps, filter, &a->syscall_rules) < 0)
                child_fail(errfd, EXIT_EXEC_FAILED, "cannot install the system call filter of container %s: %s", m, strerror(errno));
        if (caps_restrict_bounding(a->caps) < 0)
                child_fail(errfd, EXIT_EXEC_FAILED, "cannot restrict the capability bounding set to container %s's: %s", m, strerror(errno));
        if (setgroups(a->n_groups, a->groups) < 0 || setresgid(a->gid, a->gid, a->gid) < 0 || setresuid(a->uid, a->uid, a->uid) < 0)
                child_fail(errfd, EXIT_EXEC_FAILED, "cannot change to uid %u gid %u in container %s: %s", (unsigned) a->uid, (unsigned) a->gid, m, strerror(errno));
        /* A user other than root keeps no capability, as the payload's. */
        if (caps_restrict_process(a->uid == 0 ? a->caps : 0) < 0)
                child_fail(errfd, EXIT_EXEC_FAILED, "cannot drop capabilities in container %s: %s", m, strerror(errno));
        /* The command dies with tsnspawn exec (set after the uid change,
         * which clears it); checked after setting it: we may be too late. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
                _exit(EXIT_EXEC_FAILED);

        if (chdir(a->chdir) < 0) {
                if (!a->chdir_fallback)
                        child_fail(errfd, EXIT_EXEC_FAILED, "cannot change to directory %s in container %s: %s", a->chdir, m, strerror(errno));
                if (chdir("/") < 0)
                        child_fail(errfd, EXIT_EXEC_FAILED, "cannot change to / in container %s: %s", m, strerror(errno));
        }
        /* Nothing of ours but stdin, stdout and stderr reaches the command
         * (a cgroup directory descriptor would be a way out of the container). */
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                for (int fd = 3; fd < 1024; fd++)
                        if (fd != errfd)
                                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
        if (exec_inherit_apply_no_new_privs(in) < 0)
                child_fail(errfd, EXIT_EXEC_FAILED, "cannot set no_new_privs as container %s's init has it: %s", m, strerror(errno));
        exec_command(a, errfd);
        _exit(EXIT_EXEC_FAILED);
}

/* ---- the parent ------------------------------------------------------- */

static int exit_status(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status); /* as shells report it */
        return EXIT_EXEC_FAILED;
}

int exec_main(int argc, char **argv) {
        struct exec_args a;
        parse_args(argc, argv, &a);
        const char *m = a.machine;

        int pidfd = (int) syscall(SYS_pidfd_open, a.leader, 0);
        if (pidfd < 0 && errno == ESRCH)
                die(EXIT_EXEC_FAILED, "the container %s has ended (its init, pid %d, is gone)", m, (int) a.leader);
        if (pidfd < 0)
                die(EXIT_EXEC_FAILED, "cannot open the init of container %s (pid %d): %s", m, (int) a.leader, strerror(errno));
        /* Checked with the pidfd held: it names the process we checked, even if the pid is reused later. */
        if (!started_at(a.leader, a.leader_start))
                die(EXIT_EXEC_FAILED, "the container %s has ended (pid %d is no longer its init)", m, (int) a.leader);
        int ns_flags = namespaces_to_enter(a.leader);

        char err[700];
        struct exec_cgroups cg;
        if (exec_cgroups_open(a.leader, &cg, err, sizeof err) < 0)
                die(EXIT_EXEC_FAILED, "cannot find the cgroups of container %s (pid %d): %s: %s", m, (int) a.leader, err, strerror(errno));
        /* As real root in the host's namespaces: a lower OOM score than ours needs it. */
        struct exec_inherited inherited;
        exec_inherit_read(a.leader, &inherited);
        exec_inherit_apply_host(a.leader, &inherited);

        /* Everything but the cgroup namespace, which the child enters once in
         * its cgroups, and the user namespace (-U), which would cost us the
         * host's privileges we still need to place it there. */
        int now = ns_flags & ~(CLONE_NEWCGROUP | CLONE_NEWUSER);
        if (now && setns(pidfd, now) < 0)
                die(EXIT_EXEC_FAILED, "cannot enter the namespaces of container %s (pid %d): %s", m, (int) a.leader, strerror(errno));
        /* Our root and working directory are the container's root now. */

        struct console con, *tty = NULL;
        if (a.tty) {
                /* posix_openpt opens /dev/ptmx: the container's, so the pty is its /dev/pts/N. */
                if (console_open(&con, CONSOLE_INTERACTIVE) < 0)
                        die(EXIT_EXEC_FAILED, "cannot allocate a pty in container %s (/dev/ptmx): %s", m, strerror(errno));
                tty = &con;
        }

        int errpipe[2];
        if (pipe2(errpipe, O_CLOEXEC) < 0)
                die(EXIT_EXEC_FAILED, "cannot run a command in container %s: pipe: %s", m, strerror(errno));

        /* Blocked before the fork, so none is lost; the child unblocks them. */
        sigset_t mask;
        sigemptyset(&mask);
        int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
                sigaddset(&mask, sigs[i]);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        pid_t self = (ns_flags & CLONE_NEWPID) ? 0 : getpid();
        pid_t child = exec_cgroups_fork(&cg);
        if (child < 0)
                die(EXIT_EXEC_FAILED, "cannot start a process in container %s: %s", m, strerror(errno));
        if (child == 0) {
                close(errpipe[0]);
                child_main(&a, &inherited, self, pidfd, ns_flags, &cg, tty, errpipe[1]);
        }
        close(errpipe[1]);
        close(pidfd);
        exec_cgroups_close(&cg);

        int status = exec_wait(child, tty);

        struct child_failure f;
        ssize_t n = read(errpipe[0], &f, sizeof f);
        if (n == (ssize_t) sizeof f) {
                f.message[sizeof f.message - 1] = 0;
                fprintf(stderr, "tsnspawn: %s\n", f.message);
                return f.code;
        }
        return exit_status(status);
}
