/* The monitor's own connection to the system bus, for one purpose: to be
 * the D-Bus "Controller" of the container's scope. systemd asks a scope's
 * controller to stop it (the RequestStop signal; `machinectl terminate`,
 * `systemctl stop`) instead of killing it, so the guest can shut down
 * cleanly. Holding the connection here, in the process that lives exactly
 * as long as the container, lets Node leave once the container runs.
 *
 * The same connection lets go of the registration when init is gone, so
 * the machine's name is free again before tsnspawn exits.
 *
 * A minimal client: SASL EXTERNAL, Hello, one match rule; it reads method
 * returns, errors and signals, and answers method calls with an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus {
        int fd;
        char unique_name[256];
        /* The current owner of org.freedesktop.systemd1: the only sender
         * whose RequestStop counts (any local user may send signals). */
        char systemd_owner[256];
        bool controller;        /* we registered a scope with us as its controller: RequestStop counts */
        /* The container's scope (machine-NAME.scope, or --register=no's),
         * empty when it is not ours to stop (--keep-unit) or unknown. */
        char unit[512];
        /* After a bus restart systemd still names our old unique name as
         * the scope's Controller (measured: systemd 252), sends RequestStop
         * there and waits TimeoutStopSec before its SIGKILL; it takes a
         * Controller only while it makes the scope. So after a reconnect,
         * systemd's stop jobs for unit stand for RequestStop. */
        bool follow_stops;
        uint32_t job_query;     /* serial of the Get of a new job's JobType, 0 once answered */
        bool authing;           /* a reconnect's answer to the authentication is still to come */
        uint32_t serial;
        uint32_t owner_query;   /* serial of the GetNameOwner call, 0 once answered */
        uint32_t awaited;       /* serial of a call being waited for, else 0 */
        struct bus_reply {      /* the answer to it */
                bool error;
                char error_name[128];
                char text[512]; /* the first string (or object path) of the reply */
        } reply;
        struct bus_job {        /* systemd's JobRemoved signals seen lately: job path and result */
                char path[128];
                char result[32];
        } jobs[8];
        unsigned n_jobs;
        unsigned char *buf;
        size_t len, cap;
        size_t skip;            /* bytes of an oversized message still to discard */
};

/* Connects to the bus at socket_path and says Hello (blocking, with a
 * timeout). On failure: -1, errno set, err says which step failed. */
int bus_connect(struct bus *b, const char *socket_path, char *err, size_t errlen);

/* After the connection closed (the bus restarted): a new one, without
 * waiting for anything. The authentication, Hello and subscriptions are
 * sent at once; bus_receive reads their answers, and bus_connected says
 * when Hello is answered. If we were the scope's controller, its stop
 * jobs are followed from now on. -1 (errno set) when the socket cannot
 * be reached now. */
int bus_reconnect(struct bus *b, const char *socket_path);
static inline bool bus_connected(const struct bus *b) {
        return b->fd >= 0 && b->unique_name[0];
}

/* A method call, waiting (up to timeout_ms) for its reply in b->reply.
 * Returns 0 when a reply came (b->reply.error tells which kind), -1 when
 * none did (errno set). The body is written by fill (may be NULL). */
struct msg_out;
int bus_call(struct bus *b, struct msg_out *m, int timeout_ms);
/* The next serial for a message to send. */
unsigned bus_next_serial(struct bus *b);
/* Waits for systemd's JobRemoved for job; its result ("done", "failed", ...) or NULL. */
const char *bus_wait_job(struct bus *b, const char *job, int timeout_ms);

enum bus_result {
        BUS_OK = 0,
        BUS_STOP_REQUESTED = 1, /* systemd asked us to stop the scope */
        BUS_CLOSED = -1,        /* the connection is gone (errno set) */
};

/* Reads what is there (the fd is non-blocking after bus_connect) and
 * handles every complete message. */
enum bus_result bus_receive(struct bus *b);


void bus_close(struct bus *b);
