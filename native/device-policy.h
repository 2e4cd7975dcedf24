#pragma once

#include "failure.h"

#include <sys/types.h>

/* Attaches the container's device policy to the cgroup2 cgroup pid is in
 * (device-policy.c); -1 with f set. */
int device_policy_apply(pid_t pid, struct failure *f);
