/* A classic BPF seccomp filter from the deny tables: a denied call fails
 * with EPERM (as under systemd-nspawn), everything else is allowed. Calls
 * are matched per ABI: native, and on x86-64 x32 and i386; a call from an
 * architecture the filter does not know fails with ENOSYS. As nspawn does,
 * socket(AF_NETLINK, *, NETLINK_AUDIT) fails with EAFNOSUPPORT: audit
 * userspace takes that as "audit is off", which it is for a container.
 * --suppress-sync adds nspawn's seccomp_suppress_sync: the @sync calls
 * return 0 without doing anything, open()/openat() with O_SYNC or O_DSYNC
 * fail with EINVAL (callers retry without), and openat2(), whose flags a
 * filter cannot see, with ENOSYS (callers fall back to openat()).
 * --system-call-filter (syscall-rules.h) takes calls out of the deny list
 * and adds others; the denied numbers are matched as runs (a range costs
 * three instructions, a lone call two), so even a filter that refuses every
 * call stays far below the kernel's 4096 instructions. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "seccomp.h"
#include "syscall-rules.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT 0x40000000u
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "tsnspawn-helper: add this architecture's AUDIT_ARCH to native/seccomp.c"
#endif

#define RET(action) BPF_STMT(BPF_RET | BPF_K, (action))
#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define DENY_WITH(e) RET(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

struct program {
        struct sock_filter *insn;
        size_t n, cap;
};

static size_t emit(struct program *p, struct sock_filter f) {
        if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 256;
                p->insn = realloc(p->insn, p->cap * sizeof *p->insn);
                if (!p->insn)
                        abort();
        }
        p->insn[p->n] = f;
        return p->n++;
}

/* A long jump forward (BPF_JA takes 32 bits; jt/jf only 8), patched by land(). */
static size_t jump(struct program *p) {
        return emit(p, (struct sock_filter) BPF_STMT(BPF_JMP | BPF_JA, 0));
}

static void land(struct program *p, size_t from) {
        p->insn[from].k = (uint32_t) (p->n - from - 1);
}

/* A call nr whose flags argument (its low word) has any of bits fails with e; expects and leaves the call number loaded. */
static void emit_refuse_flags(struct program *p, int nr, int arg, uint32_t bits, int e) {
        if (nr < 0)
                return;
        emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) nr, 0, 4));
        emit(p, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + arg * sizeof(uint64_t)));
        emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, bits, 0, 1));
        emit(p, (struct sock_filter) DENY_WITH(e));
        emit(p, (struct sock_filter) LOAD(nr));
}

/* --suppress-sync's rules; expects and leaves the call number loaded. */
static void emit_suppress_sync(struct program *p, const struct syscall_table *t) {
        for (size_t i = 0; i < t->n_sync; i++) {
                emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) t->sync_calls[i], 0, 1));
                emit(p, (struct sock_filter) RET(SECCOMP_RET_ERRNO | 0)); /* errno 0: the call returns 0 */
        }
        /* O_SYNC includes O_DSYNC's bit: one test catches both. */
        emit_refuse_flags(p, t->open_nr, 1, O_DSYNC, EINVAL);
        emit_refuse_flags(p, t->openat_nr, 2, O_DSYNC, EINVAL);
        if (t->openat2_nr >= 0) {
                emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) t->openat2_nr, 0, 1));
                emit(p, (struct sock_filter) DENY_WITH(ENOSYS));
        }
}

/* One ABI's rules; expects the call number loaded, ends in ALLOW. */
/* abi: the table's index in syscall_rules (native 0, x32 1, i386 2). */
static void emit_abi(struct program *p, const struct syscall_table *t, int abi, uint64_t caps_retain, unsigned what, const struct syscall_rules *rules) {
        if (what & SECCOMP_SUPPRESS_SYNC)
                emit_suppress_sync(p, t);
        if (!(what & SECCOMP_DENY_LIST)) {
                emit(p, (struct sock_filter) RET(SECCOMP_RET_ALLOW));
                return;
        }
        if (t->socket_nr >= 0) {
                /* socket(AF_NETLINK, *, NETLINK_AUDIT): low words of the arguments (little endian). */
                emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) t->socket_nr, 0, 6));
                emit(p, (struct sock_filter) LOAD(args[0]));
                emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 3));
                emit(p, (struct sock_filter) LOAD(args[2]));
                emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NETLINK_AUDIT, 0, 1));
                emit(p, (struct sock_filter) DENY_WITH(EAFNOSUPPORT));
                emit(p, (struct sock_filter) LOAD(nr));
        }
        /* The denied calls as a bit map of nr - nr_base: the default list
         * (less what a kept capability opens), less --system-call-filter's
         * allowed calls, plus its refused ones. */
        unsigned char denied[SYSCALL_RULES_MAX_NR / 8] = { 0 };
        for (size_t i = 0; i < t->n; i++) {
                if (t->denied[i].allowed_by_cap >= 0 && (caps_retain & (1ULL << t->denied[i].allowed_by_cap)))
                        continue;
                uint32_t nr = (uint32_t) t->denied[i].nr - t->nr_base;
                if (nr >= SYSCALL_RULES_MAX_NR)
                        abort(); /* a compiled-in table out of range: a build error, not input */
                denied[nr / 8] |= (unsigned char) (1u << (nr % 8));
        }
        if (rules)
                for (unsigned nr = 0; nr < SYSCALL_RULES_MAX_NR; nr++) {
                        if (syscall_rules_has(rules->allow[abi], nr))
                                denied[nr / 8] &= (unsigned char) ~(1u << (nr % 8));
                        if (syscall_rules_has(rules->deny[abi], nr))
                                denied[nr / 8] |= (unsigned char) (1u << (nr % 8));
                }
        for (unsigned lo = 0; lo < SYSCALL_RULES_MAX_NR; lo++) {
                if (!syscall_rules_has(denied, lo))
                        continue;
                unsigned hi = lo;
                while (hi + 1 < SYSCALL_RULES_MAX_NR && syscall_rules_has(denied, hi + 1))
                        hi++;
                if (lo == hi) {
                        emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, t->nr_base + lo, 0, 1));
                } else {
                        /* lo <= nr <= hi */
                        emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, t->nr_base + lo, 0, 2));
                        emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, t->nr_base + hi, 1, 0));
                }
                emit(p, (struct sock_filter) DENY_WITH(EPERM));
                lo = hi;
        }
        emit(p, (struct sock_filter) RET(SECCOMP_RET_ALLOW));
}

int seccomp_install(uint64_t caps_retain, unsigned what, const struct syscall_rules *rules) {
        struct program p = { 0 };
        emit(&p, (struct sock_filter) LOAD(arch));
        emit(&p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0));
        size_t to_other_arch = jump(&p);
        emit(&p, (struct sock_filter) LOAD(nr));
#ifdef X32_SYSCALL_BIT
        emit(&p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 1));
        size_t to_x32 = jump(&p);
        emit_abi(&p, &seccomp_native, 0, caps_retain, what, rules);
        land(&p, to_x32);
        emit_abi(&p, &seccomp_x32, 1, caps_retain, what, rules);
#else
        emit_abi(&p, &seccomp_native, 0, caps_retain, what, rules);
#endif
        land(&p, to_other_arch);
#if defined(__x86_64__)
        emit(&p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0));
        size_t to_unknown = jump(&p);
        emit(&p, (struct sock_filter) LOAD(nr));
        emit_abi(&p, &seccomp_i386, 2, caps_retain, what, rules);
        land(&p, to_unknown);
#endif
        /* An architecture without a table here (32-bit ARM on aarch64, ...). */
        emit(&p, (struct sock_filter) DENY_WITH(ENOSYS));
        if (p.n > BPF_MAXINSNS) {
                /* Cannot happen with numbers below SYSCALL_RULES_MAX_NR (see above); said plainly if it ever does. */
                free(p.insn);
                errno = E2BIG;
                return -1;
        }
        struct sock_fprog prog = { .len = (unsigned short) p.n, .filter = p.insn };
        /* Without no_new_privs (setuid programs must keep working inside):
         * allowed because the child still has CAP_SYS_ADMIN here. */
        int r = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
        int e = errno;
        free(p.insn);
        errno = e;
        return r;
}
