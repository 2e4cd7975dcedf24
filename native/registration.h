/* The container's registration as the plan asks for it: with
 * systemd-machined (CreateMachine: a new machine-NAME.scope; RegisterMachine
 * with --keep-unit: the unit tsnspawn runs in) or, with --register=no,
 * a scope from systemd itself (StartTransientUnit). The monitor makes it
 * over its own bus connection (bus-register.c) once init exists, holds it
 * as the scope's controller, and lets go of it once init is gone.
 *
 * Plan records (plan-register.c):
 *   bus SOCKET                          the system bus ("@NAME": abstract)
 *   register KIND MODE                  KIND machine|unit|scope; MODE yes|auto
 *                                       (auto: no machined or systemd there is no error)
 *   register-machine NAME ID SERVICE ROOT   ID: 32 hex digits
 *   register-scope UNIT
 *   register-retry                      the last boot's machine or scope may still be going
 *   register-prop NAME SIG VALUE...     a unit property; SIG s b i u t a(ss) */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum reg_kind { REG_NONE, REG_MACHINE, REG_UNIT, REG_SCOPE };

struct reg_prop {
        char *name, *sig;
        char **values;
        size_t n_values;
};

struct registration {
        char *bus_socket;
        enum reg_kind kind;
        bool required, retry;
        char *name, *service, *root;    /* machine and unit */
        unsigned char id[16];
        bool has_machine;
        char *unit;                     /* scope */
        struct reg_prop *props;
        size_t n_props;
        /* Host-side links of the container (network.c fills them in at run time): machined's ...WithNetwork. */
        int netif[8];
        size_t n_netif;
};

/* 1: a registration record, decoded; 0: not one of ours; -1: bad (err says why). */
int registration_record(struct registration *r, char **f, size_t nf, char *err, size_t errlen);
/* After the plan's end: the records fit together. */
int registration_check(const struct registration *r, char *err, size_t errlen);

struct strbuf;
/* ,"registration":{...} for --decode (nothing without registration). */
void registration_dump_json(const struct registration *r, struct strbuf *sb);

const char *reg_kind_name(enum reg_kind k);
