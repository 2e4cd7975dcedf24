/* `tsnspawn exec`'s mechanism: a command in a running container (exec.c). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The exit statuses container tools share (docker, podman, runc): */
#define EXIT_EXEC_FAILED 125    /* tsnspawn could not do it */
#define EXIT_CANNOT_EXECUTE 126 /* the command is there but cannot be executed */
#define EXIT_NOT_FOUND 127      /* no such command */

/* tsnspawn-helper --exec ...: never returns; exits with the command's
 * status (128+N for a death by signal N) or one of the above. */
int exec_main(int argc, char **argv);

/* Waits for the command (exec-wait.c): forwards signals to it and, with a
 * pty (master_fd >= 0), relays it; returns its wait status. */
struct console;
int exec_wait(pid_t child, struct console *con);
