/* Decoding of --system-call-filter's numbers (syscall-rules.h); seccomp.c
 * puts them in the filter. */
#include "syscall-rules.h"
#include "report.h"
#include "seccomp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The table index of an ABI name (seccomp.h: native, x32, i386), or -1 for one this helper has no table of. */
static int abi_index(const char *name, size_t len) {
        const struct syscall_table *t[SYSCALL_RULES_N_ABIS] = { &seccomp_native, &seccomp_x32, &seccomp_i386 };
        for (int i = 0; i < SYSCALL_RULES_N_ABIS; i++)
                if (t[i]->abi && strlen(t[i]->abi) == len && strncmp(t[i]->abi, name, len) == 0)
                        return i;
        return -1;
}

static int number(const char *s, size_t len, unsigned *out) {
        if (len == 0 || len > 4)
                return -1;
        unsigned v = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v >= SYSCALL_RULES_MAX_NR)
                return -1;
        *out = v;
        return 0;
}

static void set(struct syscall_rules *r, bool deny, int abi, unsigned nr) {
        unsigned char *bits = deny ? r->deny[abi] : r->allow[abi];
        bits[nr / 8] |= (unsigned char) (1u << (nr % 8));
}

int syscall_rules_record(struct syscall_rules *r, char **f, size_t nf, char *err, size_t errlen) {
        bool deny = strcmp(f[0], "syscall-deny") == 0;
        if (!deny && strcmp(f[0], "syscall-allow") != 0)
                return 0;
        unsigned nr;
        int abi = nf == 3 ? abi_index(f[1], strlen(f[1])) : -1;
        if (nf != 3 || abi < 0 || number(f[2], strlen(f[2]), &nr) < 0) {
                snprintf(err, errlen, "bad %s record: takes ABI NR (an ABI of this helper's filter; NR below %d)", f[0], SYSCALL_RULES_MAX_NR);
                return -1;
        }
        set(r, deny, abi, nr);
        return 1;
}

int syscall_rules_arg(struct syscall_rules *r, bool deny, const char *value) {
        const char *colon = strchr(value, ':');
        int abi = colon ? abi_index(value, (size_t) (colon - value)) : -1;
        if (abi < 0)
                return -1;
        for (const char *p = colon + 1;;) {
                size_t len = strcspn(p, ",");
                unsigned nr;
                if (number(p, len, &nr) < 0)
                        return -1;
                set(r, deny, abi, nr);
                if (!p[len])
                        return 0;
                p += len + 1;
        }
}

static bool any_bit(const unsigned char *bits) {
        for (size_t i = 0; i < SYSCALL_RULES_MAX_NR / 8; i++)
                if (bits[i])
                        return true;
        return false;
}

static void dump_bits(struct strbuf *sb, const char *name, const unsigned char *bits) {
        sb_addf(sb, ",\"%s\":[", name);
        bool first = true;
        for (unsigned nr = 0; nr < SYSCALL_RULES_MAX_NR; nr++)
                if (syscall_rules_has(bits, nr)) {
                        sb_addf(sb, "%s%u", first ? "" : ",", nr);
                        first = false;
                }
        sb_adds(sb, "]");
}

/* As the plan's syscallRules: [{abi, allow, deny}] for the ABIs with any, in table order; nothing without. */
void syscall_rules_dump_json(const struct syscall_rules *r, struct strbuf *sb) {
        const struct syscall_table *t[SYSCALL_RULES_N_ABIS] = { &seccomp_native, &seccomp_x32, &seccomp_i386 };
        bool any = false;
        for (int a = 0; a < SYSCALL_RULES_N_ABIS; a++) {
                if (!any_bit(r->allow[a]) && !any_bit(r->deny[a]))
                        continue;
                sb_addf(sb, "%s{\"abi\":\"%s\"", any ? "," : ",\"syscallRules\":[", t[a]->abi);
                dump_bits(sb, "allow", r->allow[a]);
                dump_bits(sb, "deny", r->deny[a]);
                sb_adds(sb, "}");
                any = true;
        }
        if (any)
                sb_adds(sb, "]");
}
