/* Registration over the monitor's bus connection (registration.h). */
#pragma once

#include "bus.h"
#include "registration.h"

#include <sys/types.h>

enum reg_result {
        REG_DONE = 0,
        REG_UNAVAILABLE = 1, /* MODE auto and nobody to register with: run without (err says why) */
        REG_FAILED = -1,     /* err and *op say what failed */
};

/* Registers leader (the container's init, waiting at the barrier) as
 * r asks; with a new scope (machine, scope), we are its controller. */
enum reg_result bus_register(struct bus *b, const struct registration *r, pid_t leader, const char **op, char *err, size_t errlen);

/* Lets go of it once init is gone, so the name is free again before
 * tsnspawn exits: UnregisterMachine, or (a scope of systemd's)
 * AbandonScope and KillUnit, as nspawn's terminate_scope. */
void bus_unregister(struct bus *b, const struct registration *r);
