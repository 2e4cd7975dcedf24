/* The payload's security and resource settings: --no-new-privileges,
 * --oom-score-adjust, --cpu-affinity, --rlimit, --personality,
 * --ambient-capability (src/plan/security.ts).
 *
 * Plan records (src/plan/encode.ts, decoded by proc_limits_record):
 *   no-new-privileges              PR_SET_NO_NEW_PRIVS, the last step before exec
 *   oom-score-adjust N             -1000..1000
 *   cpu N                          one a CPU (0..8191) of the affinity mask
 *   rlimit NAME SOFT HARD          NAME as the kernel's RLIMIT_NAME without the prefix; values decimal or "infinity"
 *   personality linux|linux32
 *   caps-ambient HEX               raised into the inheritable and ambient sets
 *
 * Where each is applied, and why there:
 * - oom_score_adj and the CPU affinity on init by the process that is real
 *   root after the barrier (init itself without -U; the outer child with
 *   -U, on init: a user namespace's root may not lower an OOM score), so
 *   init is in its cgroup (its cpuset) when the affinity is set;
 * - personality and resource limits by init itself in finish_and_exec,
 *   before the system call filter (as nspawn), so init's own setup never
 *   runs under them; with -U the outer child first raises a hard limit
 *   where it must (a user namespace may not raise one);
 * - ambient capabilities and no_new_privs around the change of ids
 *   (child.c's set_credentials). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct failure;
struct strbuf;

#define PROC_LIMITS_MAX_CPU 8191
#define PROC_LIMITS_N_RLIMITS 16

struct proc_limits {
        bool no_new_privs;
        bool has_oom;
        int oom_score_adjust;
        unsigned char cpus[(PROC_LIMITS_MAX_CPU + 1) / 8]; /* bit N: CPU N */
        bool has_cpus;
        struct {
                bool set;
                uint64_t soft, hard; /* RLIM_INFINITY for "infinity" */
        } rlimits[PROC_LIMITS_N_RLIMITS]; /* indexed as rlimit_names in proc-limits.c */
        int personality;                  /* -1: leave as it is */
        uint64_t caps_ambient;
};

void proc_limits_init(struct proc_limits *l);
/* 1: one of our records, decoded; 0: not ours; -1: bad (err says why). */
int proc_limits_record(struct proc_limits *l, char **f, size_t nf, char *err, size_t errlen);
void proc_limits_dump_json(const struct proc_limits *l, struct strbuf *sb);

/* As real root after the barrier, on init (0: ourselves). */
int proc_limits_apply_to_init(const struct proc_limits *l, pid_t init, struct failure *f);
/* -U, by the outer child on init: raise the hard limits init may not raise itself. */
int proc_limits_make_room(const struct proc_limits *l, pid_t init, struct failure *f);
/* In init, before the system call filter: personality and resource limits. */
int proc_limits_apply_self(const struct proc_limits *l, struct failure *f);
