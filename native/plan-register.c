/* Decoding the registration records of a plan (registration.h). */
#define _GNU_SOURCE
#include "registration.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_words[] = { [REG_NONE] = "none", [REG_MACHINE] = "machine", [REG_UNIT] = "unit", [REG_SCOPE] = "scope" };

/* Property value types the monitor can write (bus-register.c). */
static const char *const prop_sigs[] = { "s", "b", "i", "u", "t", "a(ss)" };

const char *reg_kind_name(enum reg_kind k) {
        return kind_words[k];
}

static int hex_id(const char *s, unsigned char id[16]) {
        if (strlen(s) != 32)
                return -1;
        for (int i = 0; i < 16; i++) {
                unsigned v;
                if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", s[2 * i]) || !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
                        return -1;
                id[i] = (unsigned char) v;
        }
        return 0;
}

static int bad(char *err, size_t errlen, const char *what, const char *k) {
        snprintf(err, errlen, "bad %s record%s%s", k, what ? ": " : "", what ? what : "");
        return -1;
}

static int add_prop(struct registration *r, char **f, size_t nf, char *err, size_t errlen) {
        if (nf < 4)
                return bad(err, errlen, "takes NAME SIG VALUE...", f[0]);
        bool known = false;
        for (size_t i = 0; i < sizeof prop_sigs / sizeof prop_sigs[0]; i++)
                known |= strcmp(f[2], prop_sigs[i]) == 0;
        if (!known)
                return bad(err, errlen, "unknown property type", f[0]);
        size_t n = nf - 3;
        if (strcmp(f[2], "a(ss)") == 0 ? n % 2 != 0 : n != 1)
                return bad(err, errlen, "wrong number of values for its type", f[0]);
        struct reg_prop *props = realloc(r->props, (r->n_props + 1) * sizeof *props);
        if (!props)
                return bad(err, errlen, "out of memory", f[0]);
        r->props = props;
        struct reg_prop *p = &r->props[r->n_props++];
        p->name = strdup(f[1]);
        p->sig = strdup(f[2]);
        p->n_values = n;
        p->values = calloc(n, sizeof *p->values);
        for (size_t i = 0; p->values && i < n; i++)
                p->values[i] = strdup(f[3 + i]);
        return 1;
}

int registration_record(struct registration *r, char **f, size_t nf, char *err, size_t errlen) {
        const char *k = f[0];
        if (strcmp(k, "bus") == 0) {
                if (nf != 2)
                        return bad(err, errlen, "takes SOCKET", k);
                r->bus_socket = strdup(f[1]);
        } else if (strcmp(k, "register") == 0) {
                if (nf != 3)
                        return bad(err, errlen, "takes KIND MODE", k);
                r->kind = REG_NONE;
                for (int i = REG_MACHINE; i <= REG_SCOPE; i++)
                        if (strcmp(f[1], kind_words[i]) == 0)
                                r->kind = (enum reg_kind) i;
                if (r->kind == REG_NONE || (strcmp(f[2], "yes") != 0 && strcmp(f[2], "auto") != 0))
                        return bad(err, errlen, "KIND is machine, unit or scope; MODE yes or auto", k);
                r->required = strcmp(f[2], "yes") == 0;
        } else if (strcmp(k, "register-machine") == 0) {
                if (nf != 5 || hex_id(f[2], r->id) < 0)
                        return bad(err, errlen, "takes NAME ID(32 hex digits) SERVICE ROOT", k);
                r->name = strdup(f[1]);
                r->service = strdup(f[3]);
                r->root = strdup(f[4]);
                r->has_machine = true;
        } else if (strcmp(k, "register-scope") == 0) {
                if (nf != 2)
                        return bad(err, errlen, "takes UNIT", k);
                r->unit = strdup(f[1]);
        } else if (strcmp(k, "register-retry") == 0) {
                if (nf != 1)
                        return bad(err, errlen, "takes no fields", k);
                r->retry = true;
        } else if (strcmp(k, "register-prop") == 0)
                return add_prop(r, f, nf, err, errlen);
        else
                return 0;
        return 1;
}

int registration_check(const struct registration *r, char *err, size_t errlen) {
        const char *why = NULL;
        if (r->kind != REG_NONE && !r->bus_socket)
                why = "a register record needs a bus record";
        else if ((r->kind == REG_MACHINE || r->kind == REG_UNIT) && !r->has_machine)
                why = "registering a machine needs a register-machine record";
        else if (r->kind == REG_SCOPE && !r->unit)
                why = "registering a scope needs a register-scope record";
        else if (r->kind == REG_NONE && (r->bus_socket || r->has_machine || r->unit || r->n_props))
                why = "bus and register-* records without a register record";
        if (why)
                snprintf(err, errlen, "%s", why);
        return why ? -1 : 0;
}

void registration_dump_json(const struct registration *r, struct strbuf *sb) {
        if (r->kind == REG_NONE)
                return;
        sb_adds(sb, ",\"registration\":{\"bus\":");
        sb_add_json(sb, r->bus_socket);
        sb_addf(sb, ",\"kind\":\"%s\",\"mode\":\"%s\",\"retry\":%s", kind_words[r->kind], r->required ? "yes" : "auto", r->retry ? "true" : "false");
        if (r->has_machine) {
                sb_adds(sb, ",\"machine\":{\"name\":");
                sb_add_json(sb, r->name);
                sb_adds(sb, ",\"id\":\"");
                for (int i = 0; i < 16; i++)
                        sb_addf(sb, "%02x", r->id[i]);
                sb_adds(sb, "\",\"service\":");
                sb_add_json(sb, r->service);
                sb_adds(sb, ",\"root\":");
                sb_add_json(sb, r->root);
                sb_adds(sb, "}");
        }
        if (r->unit) {
                sb_adds(sb, ",\"unit\":");
                sb_add_json(sb, r->unit);
        }
        sb_adds(sb, ",\"properties\":[");
        for (size_t i = 0; i < r->n_props; i++) {
                sb_adds(sb, i ? ",{\"name\":" : "{\"name\":");
                sb_add_json(sb, r->props[i].name);
                sb_adds(sb, ",\"signature\":");
                sb_add_json(sb, r->props[i].sig);
                sb_adds(sb, ",\"values\":[");
                for (size_t j = 0; j < r->props[i].n_values; j++) {
                        if (j)
                                sb_adds(sb, ",");
                        sb_add_json(sb, r->props[i].values[j]);
                }
                sb_adds(sb, "]}");
        }
        sb_adds(sb, "]}");
}
