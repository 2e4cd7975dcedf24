/* What tsnspawn exec's command takes over from the container's init, so it
 * runs as the container's own processes do: the settings of nspawn's
 * security and resource options (--no-new-privileges, --personality,
 * --cpu-affinity, --oom-score-adjust, --rlimit; proc-limits.h) are all
 * process attributes that init got and its children inherit.
 *
 * Read from init rather than from tsnspawn's record: what init has is what
 * every process of the container has (unless a process of the guest changed
 * its own, which it may do anyway), and a container started before this
 * field existed is treated the same. Each copied value only restricts the
 * command or is one the guest could set for itself, so a guest that changed
 * its init's cannot use that against the host.
 *
 * Not inherited: ambient capabilities (the payload's, as nspawn gives them;
 * exec's commands as a user other than root get no capability, as the
 * payload's children after an exec of a program without file capabilities). */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <sys/types.h>

struct exec_inherited {
        bool no_new_privs;
        bool has_personality;
        unsigned long personality;
        bool has_oom;
        int oom_score_adj;
        bool has_cpus;
        cpu_set_t cpus; /* the first CPU_SETSIZE CPUs: more than a mask of the kernel's default size holds is left as ours */
};

/* Reads init's (pid LEADER) values; one that cannot be read is left as ours. */
void exec_inherit_read(pid_t leader, struct exec_inherited *in);
/* In the parent, as real root before any namespace is entered: resource
 * limits, OOM score (a lower one needs the host's root) and CPU affinity,
 * which the child inherits. Best effort, as copying the limits always was:
 * what the host refuses stays ours. */
void exec_inherit_apply_host(pid_t leader, const struct exec_inherited *in);
/* In the child, before the system call filter: the personality; -1 with errno on failure. */
int exec_inherit_apply_personality(const struct exec_inherited *in);
/* In the child, last before execve: no_new_privs; -1 with errno on failure. */
int exec_inherit_apply_no_new_privs(const struct exec_inherited *in);
