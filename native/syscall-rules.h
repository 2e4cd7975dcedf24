/* --system-call-filter: the calls allowed and refused beyond the default
 * filter, per ABI, as numbers (Node resolved the names and groups with
 * nspawn's rules: src/plan/syscall-filter.ts).
 *
 * Plan records (src/plan/encode.ts):
 *   syscall-allow ABI NR    a call the default deny list would refuse, allowed
 *   syscall-deny ABI NR     a call refused with EPERM
 * tsnspawn exec's command line (src/commands/exec-wire.ts): --syscall-allow
 * ABI:NR,NR,... and --syscall-deny ABI:NR,NR,...
 *
 * ABI: the names of seccomp.h's tables (x86-64, x32, x86 on x86-64); NR as
 * that ABI numbers the call (x32's without its bit), below
 * SYSCALL_RULES_MAX_NR. Anything else is refused, never cut short. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

#define SYSCALL_RULES_MAX_NR 1024
#define SYSCALL_RULES_N_ABIS 3 /* seccomp.h's tables: native, x32, i386 */

struct syscall_rules {
        unsigned char allow[SYSCALL_RULES_N_ABIS][SYSCALL_RULES_MAX_NR / 8];
        unsigned char deny[SYSCALL_RULES_N_ABIS][SYSCALL_RULES_MAX_NR / 8];
};

static inline bool syscall_rules_has(const unsigned char *bits, unsigned nr) {
        return nr < SYSCALL_RULES_MAX_NR && (bits[nr / 8] & (1u << (nr % 8)));
}

/* 1: one of our plan records, decoded; 0: not ours; -1: bad (err says why). */
int syscall_rules_record(struct syscall_rules *r, char **f, size_t nf, char *err, size_t errlen);
/* One --syscall-allow/--syscall-deny value ("ABI:NR,NR,..."); -1: bad. */
int syscall_rules_arg(struct syscall_rules *r, bool deny, const char *value);
void syscall_rules_dump_json(const struct syscall_rules *r, struct strbuf *sb);
