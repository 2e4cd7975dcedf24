/* Registration with systemd-machined or systemd (bus-register.h).
 *
 * Where we are: the monitor, host namespaces, root; init exists and waits
 * at the barrier, so a failure here leaves nothing run. */
#define _GNU_SOURCE
#include "bus-register.h"
#include "bus-wire.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MACHINED "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_MANAGER MACHINED ".Manager"
#define SYSTEMD "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER SYSTEMD ".Manager"
#define DBUS "org.freedesktop.DBus"

/* sd-bus's default method timeout: machined starts a scope inside CreateMachine. */
#define CALL_TIMEOUT_MS 25000
#define RELEASE_TIMEOUT_MS 5000
/* After a guest reboot: up to 2 s for the last boot's machine or scope to go. */
#define RETRY_STEPS 40
#define RETRY_STEP_MS 50

static void put_prop_value(struct msg_out *m, const struct reg_prop *p) {
        const char *v = p->values[0];
        if (strcmp(p->sig, "s") == 0)
                msg_put_string(m, v);
        else if (strcmp(p->sig, "b") == 0)
                msg_put_bool(m, strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
        else if (strcmp(p->sig, "i") == 0 || strcmp(p->sig, "u") == 0)
                msg_put_u32(m, (uint32_t) strtoll(v, NULL, 10));
        else if (strcmp(p->sig, "t") == 0)
                msg_put_u64(m, strtoull(v, NULL, 10));
        else if (strcmp(p->sig, "a(ss)") == 0) {
                size_t mark = msg_open_array(m, 8);
                for (size_t i = 0; i + 1 < p->n_values; i += 2) {
                        msg_open_struct(m);
                        msg_put_string(m, p->values[i]);
                        msg_put_string(m, p->values[i + 1]);
                }
                msg_close_array(m, mark);
        }
}

static void put_string_prop(struct msg_out *m, const char *name, const char *value) {
        msg_open_struct(m);
        msg_put_string(m, name);
        msg_put_signature(m, "s");
        msg_put_string(m, value);
}

/* a(sv): ours first (the controller, the scope's PIDs), then the plan's. */
static void put_props(struct msg_out *m, const struct bus *b, const struct registration *r, pid_t leader) {
        size_t mark = msg_open_array(m, 8);
        put_string_prop(m, "Controller", b->unique_name);
        if (r->kind == REG_SCOPE) {
                msg_open_struct(m);
                msg_put_string(m, "PIDs");
                msg_put_signature(m, "au");
                size_t pids = msg_open_array(m, 4);
                msg_put_u32(m, (uint32_t) leader);
                msg_close_array(m, pids);
        }
        for (size_t i = 0; i < r->n_props; i++) {
                msg_open_struct(m);
                msg_put_string(m, r->props[i].name);
                msg_put_signature(m, r->props[i].sig);
                put_prop_value(m, &r->props[i]);
        }
        msg_close_array(m, mark);
}

static void put_machine_args(struct msg_out *m, const struct registration *r, pid_t leader) {
        msg_put_string(m, r->name);
        msg_put_byte_array(m, r->id, sizeof r->id);
        msg_put_string(m, r->service);
        msg_put_string(m, "container");
        msg_put_u32(m, (uint32_t) leader);
        msg_put_string(m, r->root);
        /* The host sides of the container's links (network.c), so machinectl shows its addresses. */
        size_t mark = msg_open_array(m, 4);
        for (size_t i = 0; i < r->n_netif; i++)
                msg_put_u32(m, (uint32_t) r->netif[i]);
        msg_close_array(m, mark);
}

/* The call for this kind of registration, written anew for each attempt (a new serial). */
static void write_register_call(struct msg_out *m, struct bus *b, const struct registration *r, pid_t leader) {
        unsigned serial = bus_next_serial(b);
        switch (r->kind) {
        case REG_MACHINE:
                msg_begin_call(m, serial, MACHINED, MACHINED_PATH, MACHINED_MANAGER, "CreateMachineWithNetwork", "sayssusaia(sv)");
                put_machine_args(m, r, leader);
                put_props(m, b, r, leader);
                break;
        case REG_UNIT:
                msg_begin_call(m, serial, MACHINED, MACHINED_PATH, MACHINED_MANAGER, "RegisterMachineWithNetwork", "sayssusai");
                put_machine_args(m, r, leader);
                break;
        case REG_SCOPE:
                msg_begin_call(m, serial, SYSTEMD, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))");
                msg_put_string(m, r->unit);
                msg_put_string(m, "fail");
                put_props(m, b, r, leader);
                size_t aux = msg_open_array(m, 8);
                msg_close_array(m, aux);
                break;
        case REG_NONE:
                break;
        }
        msg_end(m);
}

static int simple_call(struct bus *b, const char *dest, const char *path, const char *iface, const char *member, const char *arg, int timeout_ms) {
        struct msg_out m;
        if (arg)
                msg_method_call(&m, bus_next_serial(b), dest, path, iface, member, "s", arg);
        else
                msg_method_call(&m, bus_next_serial(b), dest, path, iface, member, NULL);
        return bus_call(b, &m, timeout_ms);
}

/* "Name: text" of the last error reply, or of errno when no reply came. */
static void reply_error(const struct bus *b, int called, char *out, size_t len) {
        if (called < 0)
                snprintf(out, len, "no answer on the system bus: %s", strerror(errno));
        else
                snprintf(out, len, "%s: %s", b->reply.error_name, b->reply.text);
}

/* MODE auto: is there anyone to register with? Empty why: yes. */
static bool service_there(struct bus *b, const struct registration *r, char *why, size_t len) {
        if (r->kind == REG_SCOPE) {
                if (b->systemd_owner[0])
                        return true;
                snprintf(why, len, "systemd is not on the system bus");
                return false;
        }
        int c = simple_call(b, DBUS, "/org/freedesktop/DBus", DBUS, "GetNameOwner", MACHINED, CALL_TIMEOUT_MS);
        if (c == 0 && !b->reply.error)
                return true;
        /* Not running yet is fine if the bus can start it: ask it directly. */
        c = simple_call(b, MACHINED, MACHINED_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL, CALL_TIMEOUT_MS);
        if (c == 0 && !b->reply.error)
                return true;
        reply_error(b, c, why, len);
        return false;
}

static bool retryable(const struct bus *b, const struct registration *r) {
        return r->retry && (strcmp(b->reply.error_name, SYSTEMD ".UnitExists") == 0 || strcmp(b->reply.error_name, MACHINED ".MachineExists") == 0);
}

/* The scope machined made for the machine (machine-NAME.scope, escaped as
 * machined does): its Unit property. Empty when it cannot be had. */
static void learn_machine_unit(struct bus *b, const struct registration *r) {
        if (simple_call(b, MACHINED, MACHINED_PATH, MACHINED_MANAGER, "GetMachine", r->name, CALL_TIMEOUT_MS) < 0 || b->reply.error)
                return;
        char path[sizeof b->reply.text];
        snprintf(path, sizeof path, "%s", b->reply.text);
        struct msg_out m;
        msg_method_call(&m, bus_next_serial(b), MACHINED, path, "org.freedesktop.DBus.Properties", "Get", "ss", MACHINED ".Machine", "Unit");
        if (bus_call(b, &m, CALL_TIMEOUT_MS) == 0 && !b->reply.error)
                snprintf(b->unit, sizeof b->unit, "%s", b->reply.text);
}

enum reg_result bus_register(struct bus *b, const struct registration *r, pid_t leader, const char **op, char *err, size_t errlen) {
        static const char *const ops[] = { [REG_MACHINE] = "CreateMachine", [REG_UNIT] = "RegisterMachine", [REG_SCOPE] = "StartTransientUnit" };
        static const char *const what[] = {
                [REG_MACHINE] = "cannot register the machine with systemd-machined",
                [REG_UNIT] = "cannot register the machine with systemd-machined",
                [REG_SCOPE] = "cannot get a scope for the container from systemd",
        };
        char why[700];
        *op = ops[r->kind];
        if (!r->required && !service_there(b, r, why, sizeof why)) {
                snprintf(err, errlen, "%s", why);
                return REG_UNAVAILABLE;
        }
        if (r->kind == REG_SCOPE) {
                /* systemd tells subscribers when a job ends; the match lets its signal reach us. */
                struct msg_out m;
                msg_method_call(&m, bus_next_serial(b), DBUS, "/org/freedesktop/DBus", DBUS, "AddMatch", "s",
                                "type='signal',sender='" SYSTEMD "',interface='" SYSTEMD_MANAGER "',member='JobRemoved'");
                int c = bus_call(b, &m, CALL_TIMEOUT_MS);
                if (c == 0 && !b->reply.error)
                        c = simple_call(b, SYSTEMD, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", NULL, CALL_TIMEOUT_MS);
                if (c < 0 || b->reply.error) {
                        reply_error(b, c, why, sizeof why);
                        if (!r->required) {
                                snprintf(err, errlen, "%s", why);
                                return REG_UNAVAILABLE;
                        }
                        snprintf(err, errlen, "%s: %s", what[r->kind], why);
                        return REG_FAILED;
                }
        }
        /* Controller before the call: RequestStop may come as soon as the scope exists. */
        b->controller = r->kind != REG_UNIT;
        for (int attempt = 0;; attempt++) {
                struct msg_out m;
                write_register_call(&m, b, r, leader);
                int c = bus_call(b, &m, CALL_TIMEOUT_MS);
                if (c == 0 && !b->reply.error)
                        break;
                if (c == 0 && retryable(b, r) && attempt < RETRY_STEPS) {
                        nanosleep(&(struct timespec){ .tv_nsec = RETRY_STEP_MS * 1000000L }, NULL);
                        continue;
                }
                b->controller = false;
                reply_error(b, c, why, sizeof why);
                snprintf(err, errlen, "%s: %s", what[r->kind], why);
                return REG_FAILED;
        }
        if (r->kind == REG_SCOPE) {
                char job[sizeof b->reply.text];
                snprintf(job, sizeof job, "%s", b->reply.text);
                const char *result = bus_wait_job(b, job, CALL_TIMEOUT_MS);
                if (!result || strcmp(result, "done") != 0) {
                        snprintf(err, errlen, "%s: systemd could not start %s (job %s)", what[r->kind], r->unit, result ? result : "without an answer");
                        bus_unregister(b, r);
                        b->controller = false;
                        return REG_FAILED;
                }
        }
        /* The scope we control, for when a restart of the bus makes systemd forget that (bus.h's follow_stops). */
        if (r->kind == REG_SCOPE)
                snprintf(b->unit, sizeof b->unit, "%s", r->unit);
        else if (r->kind == REG_MACHINE)
                learn_machine_unit(b, r);
        return REG_DONE;
}

void bus_unregister(struct bus *b, const struct registration *r) {
        switch (r->kind) {
        case REG_MACHINE:
        case REG_UNIT:
                (void) simple_call(b, MACHINED, MACHINED_PATH, MACHINED_MANAGER, "UnregisterMachine", r->name, RELEASE_TIMEOUT_MS);
                break;
        case REG_SCOPE: {
                (void) simple_call(b, SYSTEMD, SYSTEMD_PATH, SYSTEMD_MANAGER, "AbandonScope", r->unit, RELEASE_TIMEOUT_MS);
                struct msg_out m;
                msg_method_call(&m, bus_next_serial(b), SYSTEMD, SYSTEMD_PATH, SYSTEMD_MANAGER, "KillUnit", "ssi", r->unit, "all", SIGKILL);
                (void) bus_call(b, &m, RELEASE_TIMEOUT_MS);
                break;
        }
        case REG_NONE:
                break;
        }
        b->controller = false;
}
