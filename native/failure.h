/* A setup failure inside the container child, carried to the monitor intact
 * (step, op, path, errno, message) so Node can point it at the option that
 * caused it. */
#pragma once

#include <stddef.h>

struct failure {
        const char *step;   /* "namespaces", "mount", "pivot", "credentials", "exec", ... */
        const char *op;     /* op kind name for mount steps, else "" */
        char path[4096];
        int err;
        char message[512];
};

/* Records a failure; always returns -1 so callers can `return fail(...)`. */
int fail(struct failure *f, const char *step, const char *op, const char *path, int err, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));

/* Serialises a failure onto the error pipe (child side). */
void failure_send(int fd, const struct failure *f);

/* Reads a failure from the error pipe (monitor side) and reports it as an
 * "error" event. Returns 1 if one was read, 0 on plain EOF (exec worked). */
int failure_receive_and_report(int fd);
