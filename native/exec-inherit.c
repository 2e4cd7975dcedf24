/* tsnspawn exec takes over init's process attributes (exec-inherit.h). */
#define _GNU_SOURCE
#include "exec-inherit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/* /proc/PID/FILE into buf (NUL-terminated); false when it cannot be read. */
static bool read_proc(pid_t pid, const char *file, char *buf, size_t size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, size - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = 0;
        return true;
}

void exec_inherit_read(pid_t leader, struct exec_inherited *in) {
        *in = (struct exec_inherited){ 0 };
        char buf[4096], *end;
        if (read_proc(leader, "personality", buf, sizeof buf)) {
                in->personality = strtoul(buf, &end, 16);
                in->has_personality = end != buf;
        }
        if (read_proc(leader, "oom_score_adj", buf, sizeof buf)) {
                long v = strtol(buf, &end, 10);
                in->has_oom = end != buf && v >= -1000 && v <= 1000;
                in->oom_score_adj = (int) v;
        }
        if (read_proc(leader, "status", buf, sizeof buf)) {
                const char *nnp = strstr(buf, "\nNoNewPrivs:");
                in->no_new_privs = nnp && strtol(nnp + strlen("\nNoNewPrivs:"), NULL, 10) == 1;
        }
        CPU_ZERO(&in->cpus);
        in->has_cpus = sched_getaffinity(leader, sizeof in->cpus, &in->cpus) == 0;
}

void exec_inherit_apply_host(pid_t leader, const struct exec_inherited *in) {
        /* Node raised its own file limit; the command gets the container's. */
        for (int r = 0; r < RLIM_NLIMITS; r++) {
                struct rlimit l;
                if (prlimit(leader, (enum __rlimit_resource) r, NULL, &l) == 0)
                        (void) prlimit(0, (enum __rlimit_resource) r, &l, NULL);
        }
        if (in->has_oom) {
                int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                char text[16];
                int len = snprintf(text, sizeof text, "%d", in->oom_score_adj);
                if (fd >= 0) {
                        (void) !write(fd, text, (size_t) len);
                        close(fd);
                }
        }
        if (in->has_cpus)
                (void) sched_setaffinity(0, sizeof in->cpus, &in->cpus);
}

int exec_inherit_apply_personality(const struct exec_inherited *in) {
        if (!in->has_personality || (unsigned long) personality(0xffffffff) == in->personality)
                return 0;
        return personality(in->personality) < 0 ? -1 : 0;
}

int exec_inherit_apply_no_new_privs(const struct exec_inherited *in) {
        return in->no_new_privs ? prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) : 0;
}
