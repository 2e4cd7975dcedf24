/* A classic BPF seccomp filter from the deny tables: a denied call fails
 * with EPERM (as under systemd-nspawn), everything else is allowed. Calls
 * are matched per ABI: native, and on x86-64 x32 and i386; a call from an
 * architecture the filter does not know fails with ENOSYS. As nspawn does,
 * socket(AF_NETLINK, *, NETLINK_AUDIT) fails with EAFNOSUPPORT: audit
 * userspace takes that as "audit is off", which it is for a container. */
#include <errno.h>
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

/* One ABI's rules; expects the call number loaded, ends in ALLOW. */
static void emit_abi(struct program *p, const struct syscall_table *t, uint64_t caps_retain) {
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
        for (size_t i = 0; i < t->n; i++) {
                if (t->denied[i].allowed_by_cap >= 0 && (caps_retain & (1ULL << t->denied[i].allowed_by_cap)))
                        continue;
                emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) t->denied[i].nr, 0, 1));
                emit(p, (struct sock_filter) DENY_WITH(EPERM));
        }
        emit(p, (struct sock_filter) RET(SECCOMP_RET_ALLOW));
}

int seccomp_install(uint64_t caps_retain) {
        struct program p = { 0 };
        emit(&p, (struct sock_filter) LOAD(arch));
        emit(&p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0));
        size_t to_other_arch = jump(&p);
        emit(&p, (struct sock_filter) LOAD(nr));
#ifdef X32_SYSCALL_BIT
        emit(&p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 1));
        size_t to_x32 = jump(&p);
        emit_abi(&p, &seccomp_native, caps_retain);
        land(&p, to_x32);
        emit_abi(&p, &seccomp_x32, caps_retain);
#else
        emit_abi(&p, &seccomp_native, caps_retain);
#endif
        land(&p, to_other_arch);
#if defined(__x86_64__)
        emit(&p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0));
        size_t to_unknown = jump(&p);
        emit(&p, (struct sock_filter) LOAD(nr));
        emit_abi(&p, &seccomp_i386, caps_retain);
        land(&p, to_unknown);
#endif
        /* An architecture without a table here (32-bit ARM on aarch64, ...). */
        emit(&p, (struct sock_filter) DENY_WITH(ENOSYS));
        struct sock_fprog prog = { .len = (unsigned short) p.n, .filter = p.insn };
        /* Without no_new_privs (setuid programs must keep working inside):
         * allowed because the child still has CAP_SYS_ADMIN here. */
        int r = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
        int e = errno;
        free(p.insn);
        errno = e;
        return r;
}
