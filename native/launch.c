/* bin/tsnspawn: the launcher (this binary, through a symlink of that name).
 *
 * Where we are: the user's process, before Node; whatever privileges the
 * user has. Node's start-up is most of a short container's life, and
 * child_process.spawn forks all of Node (5 to 15 ms on a small VM: its page
 * tables are big). So the monitor is forked here, from a small static
 * process, before Node starts: it waits for the plan on a socket while Node
 * starts. Node finds the socket and the monitor in TSNSPAWN_HELPER=FD:PID
 * (src/runtime/launcher.ts) and uses them instead of spawning; as
 * Node is executed in our pid, the monitor is Node's child as if Node had
 * spawned it. A Node that runs no container ends it. TSNSPAWN_TTY tells
 * Node whether stdin and stdout are terminals.
 *
 * Node is the checkout's .toolchain/node/bin/node when make provided one
 * (the system's Node is older than 22), else node from PATH; the bundle is
 * dist/bundle/cli.cjs of the checkout this binary belongs to. */
#define _GNU_SOURCE
#include "launch.h"
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

bool launcher_invoked(const char *argv0) {
        const char *base = strrchr(argv0, '/');
        return strcmp(base ? base + 1 : argv0, "tsnspawn") == 0;
}

/* The pre-forked monitor: wait for Node's first byte; none (Node is gone)
 * ends us quietly. */
static int preforked(int fd, pid_t parent) {
        /* The signals the monitor reads from its signalfd, blocked now: a
         * SIGINT/SIGTERM for the whole group while Node starts is Node's to
         * act on, as with a monitor Node spawned. */
        sigset_t mask = monitor_signals();
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                return 1;
        /* ps shows what a spawned monitor shows: "tsnspawn-helper" (15 bytes at most). */
        (void) prctl(PR_SET_NAME, "tsnspawn-helpe");
        char c;
        ssize_t n;
        do
                n = recv(fd, &c, 1, MSG_PEEK);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return 0;
        return monitor_main(fd, parent);
}

/* The first words that are not a container's start: src/commands/table.ts. */
static const char *const subcommands[] = { "import-tar", "list", "status", "stop", "kill", "exec" };

static bool is_subcommand(const char *word) {
        for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
                if (strcmp(word, subcommands[i]) == 0)
                        return true;
        return false;
}

int launch_main(int argc, char **argv) {
        char exe[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len <= 0) {
                perror("tsnspawn: cannot find the checkout (/proc/self/exe)");
                return 127;
        }
        exe[len] = 0;
        /* .../native/tsnspawn-helper -> ... */
        for (int up = 0; up < 2; up++) {
                char *slash = strrchr(exe, '/');
                if (!slash) {
                        fprintf(stderr, "tsnspawn: cannot find the checkout from %s\n", exe);
                        return 127;
                }
                *slash = 0;
        }
        char node[PATH_MAX + 32], bundle[PATH_MAX + 32];
        snprintf(node, sizeof node, "%s/.toolchain/node/bin/node", exe);
        snprintf(bundle, sizeof bundle, "%s/dist/bundle/cli.cjs", exe);
        bool local = access(node, X_OK) == 0;

        /* One V8 worker thread instead of four: fewer threads to start and
         * to join at exit (about 2 ms of the exit, by strace), and nothing
         * on a container's path keeps more busy. */
        char **nargv = calloc((size_t) argc + 3, sizeof *nargv);
        if (!nargv)
                return 127;
        nargv[0] = local ? node : "node";
        nargv[1] = "--v8-pool-size=1";
        nargv[2] = bundle;
        for (int i = 1; i < argc; i++)
                nargv[i + 2] = argv[i];

        /* Subcommands (src/commands/table.ts) run no container (import-tar
         * spawns tar, which would inherit the socket); Node spawns a monitor
         * itself where it needs one. */
        bool prefork = !(argc > 1 && is_subcommand(argv[1]));
        int sv[2];
        if (prefork && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
                pid_t self = getpid();
                pid_t pid = fork();
                if (pid == 0) {
                        close(sv[0]);
                        exit(preforked(sv[1], self));
                }
                close(sv[1]);
                char val[64];
                snprintf(val, sizeof val, "%d:%d", sv[0], (int) pid);
                /* Node's end survives the exec (Node's first act takes it out of the environment). */
                if (pid < 0 || fcntl(sv[0], F_SETFD, 0) < 0 || setenv("TSNSPAWN_HELPER", val, 1) < 0) {
                        close(sv[0]);
                        unsetenv("TSNSPAWN_HELPER");
                }
        } else
                unsetenv("TSNSPAWN_HELPER");

        /* node:tty would cost Node its net and stream modules. */
        char tty[3] = { isatty(STDIN_FILENO) ? '1' : '0', isatty(STDOUT_FILENO) ? '1' : '0', 0 };
        (void) setenv("TSNSPAWN_TTY", tty, 1);

        if (local)
                execv(node, nargv);
        else
                execvp("node", nargv);
        fprintf(stderr, "tsnspawn: cannot execute %s: %s\n", nargv[0], strerror(errno));
        return 127;
}
