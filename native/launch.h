#pragma once

#include <stdbool.h>

/* Whether we were started as bin/tsnspawn (a symlink named "tsnspawn"). */
bool launcher_invoked(const char *argv0);

/* Forks the monitor and executes Node with the bundle; returns only on failure. */
int launch_main(int argc, char **argv);

/* The monitor (main.c): serves the plan that comes on control_fd. */
int monitor_main(int control_fd, int parent_pid);
