/* The payload's security and resource settings (proc-limits.h says which
 * process applies each, and when). */
#define _GNU_SOURCE
#include "proc-limits.h"
#include "failure.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

/* The kernel's resource limits by the names the plan uses (nspawn's rlimit_table). */
static const struct {
        const char *name;
        int resource;
} rlimit_names[PROC_LIMITS_N_RLIMITS] = {
        { "CPU", RLIMIT_CPU },         { "FSIZE", RLIMIT_FSIZE },     { "DATA", RLIMIT_DATA },
        { "STACK", RLIMIT_STACK },     { "CORE", RLIMIT_CORE },       { "RSS", RLIMIT_RSS },
        { "NOFILE", RLIMIT_NOFILE },   { "AS", RLIMIT_AS },           { "NPROC", RLIMIT_NPROC },
        { "MEMLOCK", RLIMIT_MEMLOCK }, { "LOCKS", RLIMIT_LOCKS },     { "SIGPENDING", RLIMIT_SIGPENDING },
        { "MSGQUEUE", RLIMIT_MSGQUEUE }, { "NICE", RLIMIT_NICE },     { "RTPRIO", RLIMIT_RTPRIO },
        { "RTTIME", RLIMIT_RTTIME },
};

void proc_limits_init(struct proc_limits *l) {
        memset(l, 0, sizeof *l);
        l->personality = -1;
}

static int bad(char *err, size_t errlen, const char *k, const char *what) {
        snprintf(err, errlen, "bad %s record: %s", k, what);
        return -1;
}

/* A whole decimal number in [min, max]. */
static int whole(const char *s, long long min, long long max, long long *out) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static int limit_value(const char *s, uint64_t *out) {
        if (strcmp(s, "infinity") == 0) {
                *out = RLIM_INFINITY;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v >= RLIM_INFINITY)
                return -1;
        *out = v;
        return 0;
}

int proc_limits_record(struct proc_limits *l, char **f, size_t nf, char *err, size_t errlen) {
        const char *k = f[0];
        long long n;
        if (strcmp(k, "no-new-privileges") == 0) {
                if (nf != 1)
                        return bad(err, errlen, k, "takes no fields");
                l->no_new_privs = true;
                return 1;
        }
        if (strcmp(k, "oom-score-adjust") == 0) {
                if (nf != 2 || whole(f[1], -1000, 1000, &n) < 0)
                        return bad(err, errlen, k, "takes a number from -1000 to 1000");
                l->has_oom = true;
                l->oom_score_adjust = (int) n;
                return 1;
        }
        if (strcmp(k, "cpu") == 0) {
                if (nf != 2 || whole(f[1], 0, PROC_LIMITS_MAX_CPU, &n) < 0)
                        return bad(err, errlen, k, "takes a CPU number from 0 to 8191");
                l->cpus[n / 8] |= (unsigned char) (1u << (n % 8));
                l->has_cpus = true;
                return 1;
        }
        if (strcmp(k, "rlimit") == 0) {
                uint64_t soft, hard;
                size_t i = 0;
                while (nf == 4 && i < PROC_LIMITS_N_RLIMITS && strcmp(f[1], rlimit_names[i].name) != 0)
                        i++;
                if (nf != 4 || i == PROC_LIMITS_N_RLIMITS || limit_value(f[2], &soft) < 0 || limit_value(f[3], &hard) < 0 || soft > hard)
                        return bad(err, errlen, k, "takes NAME SOFT HARD (a known limit; numbers or infinity, SOFT not above HARD)");
                l->rlimits[i].set = true;
                l->rlimits[i].soft = soft;
                l->rlimits[i].hard = hard;
                return 1;
        }
        if (strcmp(k, "personality") == 0) {
                if (nf != 2 || (strcmp(f[1], "linux") != 0 && strcmp(f[1], "linux32") != 0))
                        return bad(err, errlen, k, "takes linux or linux32");
                l->personality = strcmp(f[1], "linux") == 0 ? PER_LINUX : PER_LINUX32;
                return 1;
        }
        if (strcmp(k, "caps-ambient") == 0) {
                char *end;
                errno = 0;
                unsigned long long v = nf == 2 ? strtoull(f[1], &end, 16) : 0;
                if (nf != 2 || errno || end == f[1] || *end || f[1][0] == '-' || v == 0)
                        return bad(err, errlen, k, "takes a non-zero capability mask in hex");
                l->caps_ambient = v;
                return 1;
        }
        return 0;
}

static void dump_limit(struct strbuf *sb, uint64_t v) {
        if (v == RLIM_INFINITY)
                sb_adds(sb, "\"infinity\"");
        else
                sb_addf(sb, "\"%llu\"", (unsigned long long) v);
}

void proc_limits_dump_json(const struct proc_limits *l, struct strbuf *sb) {
        sb_addf(sb, ",\"process\":{\"noNewPrivileges\":%s,\"capsAmbient\":\"%llx\",\"personality\":", l->no_new_privs ? "true" : "false",
                (unsigned long long) l->caps_ambient);
        sb_adds(sb, l->personality < 0 ? "null" : l->personality == PER_LINUX ? "\"linux\"" : "\"linux32\"");
        if (l->has_oom)
                sb_addf(sb, ",\"oomScoreAdjust\":%d", l->oom_score_adjust);
        if (l->has_cpus) {
                sb_adds(sb, ",\"cpuAffinity\":[");
                bool first = true;
                for (int c = 0; c <= PROC_LIMITS_MAX_CPU; c++)
                        if (l->cpus[c / 8] & (1u << (c % 8))) {
                                sb_addf(sb, "%s%d", first ? "" : ",", c);
                                first = false;
                        }
                sb_adds(sb, "]");
        }
        sb_adds(sb, ",\"rlimits\":[");
        bool first = true;
        for (size_t i = 0; i < PROC_LIMITS_N_RLIMITS; i++) {
                if (!l->rlimits[i].set)
                        continue;
                sb_addf(sb, "%s{\"name\":\"%s\",\"soft\":", first ? "" : ",", rlimit_names[i].name);
                dump_limit(sb, l->rlimits[i].soft);
                sb_adds(sb, ",\"hard\":");
                dump_limit(sb, l->rlimits[i].hard);
                sb_adds(sb, "}");
                first = false;
        }
        sb_adds(sb, "]}");
}

static int write_oom_score(pid_t pid, int value, struct failure *f) {
        char path[64], text[16];
        if (pid == 0)
                snprintf(path, sizeof path, "/proc/self/oom_score_adj");
        else
                snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int) pid);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        int len = snprintf(text, sizeof text, "%d", value);
        if (fd < 0 || write(fd, text, (size_t) len) != len) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                /* EACCES: below the lowest score tsnspawn itself was given, which takes CAP_SYS_RESOURCE. */
                return fail(f, "limits", "oom-score-adjust", path, e, "cannot set init's OOM score adjustment to %d%s", value,
                            e == EACCES ? " (a score lower than tsnspawn's own needs CAP_SYS_RESOURCE, which tsnspawn does not have)" : "");
        }
        close(fd);
        return 0;
}

/* Sets the mask, then reads it back: the kernel narrows a mask to the
 * cgroup's cpuset without a word, and we refuse that instead. */
static int set_affinity(const struct proc_limits *l, pid_t pid, struct failure *f) {
        size_t size = CPU_ALLOC_SIZE(PROC_LIMITS_MAX_CPU + 1);
        cpu_set_t *want = CPU_ALLOC(PROC_LIMITS_MAX_CPU + 1), *got = CPU_ALLOC(PROC_LIMITS_MAX_CPU + 1);
        if (!want || !got) {
                free(want);
                free(got);
                return fail(f, "limits", "cpu-affinity", "", ENOMEM, "cannot set init's CPU affinity");
        }
        CPU_ZERO_S(size, want);
        CPU_ZERO_S(size, got);
        for (int c = 0; c <= PROC_LIMITS_MAX_CPU; c++)
                if (l->cpus[c / 8] & (1u << (c % 8)))
                        CPU_SET_S((size_t) c, size, want);
        int r = 0;
        if (sched_setaffinity(pid, size, want) < 0)
                r = fail(f, "limits", "cpu-affinity", "", errno, "cannot set init's CPU affinity: none of its CPUs is available to the container's cgroup");
        else if (sched_getaffinity(pid, size, got) < 0)
                r = fail(f, "limits", "cpu-affinity", "", errno, "cannot read init's CPU affinity back");
        else if (!CPU_EQUAL_S(size, want, got)) {
                int missing = -1;
                for (int c = 0; c <= PROC_LIMITS_MAX_CPU && missing < 0; c++)
                        if (CPU_ISSET_S((size_t) c, size, want) && !CPU_ISSET_S((size_t) c, size, got))
                                missing = c;
                r = fail(f, "limits", "cpu-affinity", "", EINVAL, "cannot give init CPU %d: the container's cgroup (its cpuset) does not allow it", missing);
        }
        CPU_FREE(want);
        CPU_FREE(got);
        return r;
}

int proc_limits_apply_to_init(const struct proc_limits *l, pid_t init, struct failure *f) {
        if (l->has_oom && write_oom_score(init, l->oom_score_adjust, f) < 0)
                return -1;
        if (l->has_cpus && set_affinity(l, init, f) < 0)
                return -1;
        return 0;
}

int proc_limits_make_room(const struct proc_limits *l, pid_t init, struct failure *f) {
        for (size_t i = 0; i < PROC_LIMITS_N_RLIMITS; i++) {
                struct rlimit old;
                if (!l->rlimits[i].set)
                        continue;
                if (prlimit(init, rlimit_names[i].resource, NULL, &old) < 0)
                        return fail(f, "limits", "rlimit", "", errno, "cannot read init's RLIMIT_%s", rlimit_names[i].name);
                if (old.rlim_max != RLIM_INFINITY && (l->rlimits[i].hard == RLIM_INFINITY || old.rlim_max < l->rlimits[i].hard)) {
                        struct rlimit room = { .rlim_cur = old.rlim_cur, .rlim_max = l->rlimits[i].hard };
                        if (prlimit(init, rlimit_names[i].resource, &room, NULL) < 0)
                                return fail(f, "limits", "rlimit", "", errno, "cannot raise init's hard RLIMIT_%s%s", rlimit_names[i].name,
                                            errno == EPERM ? " (a hard limit above tsnspawn's own needs CAP_SYS_RESOURCE, which tsnspawn does not have)" : "");
                }
        }
        return 0;
}

int proc_limits_apply_self(const struct proc_limits *l, struct failure *f) {
        if (l->personality >= 0 && personality((unsigned long) l->personality) < 0)
                return fail(f, "limits", "personality", "", errno, "cannot set the personality %s: this host cannot run it",
                            l->personality == PER_LINUX ? "linux" : "linux32");
        for (size_t i = 0; i < PROC_LIMITS_N_RLIMITS; i++) {
                if (!l->rlimits[i].set)
                        continue;
                struct rlimit rl = { .rlim_cur = l->rlimits[i].soft, .rlim_max = l->rlimits[i].hard };
                if (setrlimit(rlimit_names[i].resource, &rl) < 0)
                        return fail(f, "limits", "rlimit", "", errno, "cannot set RLIMIT_%s%s", rlimit_names[i].name,
                                    errno == EPERM ? " (a hard limit above tsnspawn's own needs CAP_SYS_RESOURCE, which tsnspawn does not have)" : "");
        }
        return 0;
}
