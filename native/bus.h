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
        char scope_path[512];   /* the scope's object path: RequestStop for it alone */
        uint32_t serial;
        uint32_t owner_query;   /* serial of the GetNameOwner call, 0 once answered */
        uint32_t awaited;       /* serial of a call being waited for (bus_release), else 0 */
        unsigned char *buf;
        size_t len, cap;
        size_t skip;            /* bytes of an oversized message still to discard */
};

/* Connects to the bus at socket_path and says Hello (blocking, with a
 * timeout). On failure: -1, errno set, err says which step failed. */
int bus_connect(struct bus *b, const char *socket_path, const char *scope_path, char *err, size_t errlen);

enum bus_result {
        BUS_OK = 0,
        BUS_STOP_REQUESTED = 1, /* systemd asked us to stop the scope */
        BUS_CLOSED = -1,        /* the connection is gone (errno set) */
};

/* Reads what is there (the fd is non-blocking after bus_connect) and
 * handles every complete message. */
enum bus_result bus_receive(struct bus *b);

/* Lets go of the container's registration once its init is gone
 * (plan.h's bus-release): kind "machine" or "scope". Blocks for the
 * replies (a few ms; at most a few seconds on a stuck bus). */
void bus_release(struct bus *b, const char *kind, const char *name);

void bus_close(struct bus *b);
