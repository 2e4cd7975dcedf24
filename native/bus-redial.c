/* Reconnecting to the system bus (bus-redial.h).
 *
 * Where we are: the monitor's poll loop, host namespaces, root. */
#define _GNU_SOURCE
#include "bus-redial.h"
#include "report.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* Milliseconds before each attempt: a restarted dbus-daemon is back
 * within a second (its socket unit queues us meanwhile); a slow upgrade
 * gets about a minute in all. */
static const unsigned delays_ms[] = { 100, 200, 500, 1000, 2000, 5000, 5000, 5000, 10000, 10000, 10000, 10000 };
#define N_ATTEMPTS (sizeof delays_ms / sizeof delays_ms[0])

static unsigned schedule_seconds(void) {
        unsigned ms = 0;
        for (size_t i = 0; i < N_ATTEMPTS; i++)
                ms += delays_ms[i];
        return (ms + 999) / 1000;
}

static bool give_up(struct bus_redial *d) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "lost the connection to the system bus and could not connect again (%zu attempts in %u s); systemd's stop requests (machinectl terminate) no longer reach this container",
                 N_ATTEMPTS, schedule_seconds());
        report_warning(msg, d->last_errno);
        d->waiting = false;
        return false;
}

static bool arm(struct bus_redial *d) {
        if (d->attempts >= N_ATTEMPTS)
                return give_up(d);
        if (d->timer_fd < 0)
                d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        unsigned ms = delays_ms[d->attempts];
        struct itimerspec when = { .it_value = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L } };
        if (d->timer_fd < 0 || timerfd_settime(d->timer_fd, 0, &when, NULL) < 0) {
                d->last_errno = errno;
                return give_up(d);
        }
        d->waiting = true;
        return true;
}

bool bus_redial_lost(struct bus_redial *d, struct bus *b, int err) {
        if (b->fd >= 0)
                close(b->fd);
        b->fd = -1;
        d->last_errno = err;
        return arm(d);
}

bool bus_redial_attempt(struct bus_redial *d, struct bus *b, const char *socket_path) {
        uint64_t expirations;
        (void) read(d->timer_fd, &expirations, sizeof expirations);
        d->waiting = false;
        d->attempts++;
        if (bus_reconnect(b, socket_path) == 0)
                return true; /* bus_redial_check tells when Hello is answered */
        d->last_errno = errno;
        return arm(d);
}

void bus_redial_check(struct bus_redial *d, const struct bus *b) {
        if (d->attempts && bus_connected(b))
                d->attempts = 0;
}

void bus_redial_done(struct bus_redial *d) {
        if (d->timer_fd >= 0)
                close(d->timer_fd);
        d->timer_fd = -1;
}
