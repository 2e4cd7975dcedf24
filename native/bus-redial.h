/* The monitor's way back onto the system bus after its connection closed
 * (`systemctl restart dbus` under a running container): new attempts on a
 * timer, on a fixed schedule, so the poll loop (init's reaping, the
 * console) never waits for the bus. Once the bus answers Hello we are
 * back; when the schedule runs out we say once what is lost and go on
 * without the bus. */
#pragma once

#include "bus.h"

#include <stdbool.h>

struct bus_redial {
        int timer_fd;       /* a timerfd for the next attempt; -1 until the bus is first lost */
        unsigned attempts;  /* attempts since the connection was lost; 0 while connected */
        bool waiting;       /* the timer is armed: no connection now */
        int last_errno;     /* why the last attempt failed */
};

#define BUS_REDIAL_INIT { .timer_fd = -1 }

/* The connection closed (err: why), or a new one failed before Hello was
 * answered: arms the next attempt. false: the schedule is over (the
 * warning is written; the caller drops the bus). */
bool bus_redial_lost(struct bus_redial *d, struct bus *b, int err);

/* The timer fired: one attempt. false: the schedule is over, as above. */
bool bus_redial_attempt(struct bus_redial *d, struct bus *b, const char *socket_path);

/* After the bus was read: Hello answered means connected again. */
void bus_redial_check(struct bus_redial *d, const struct bus *b);

void bus_redial_done(struct bus_redial *d);
