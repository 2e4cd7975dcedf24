/* A classic BPF seccomp filter from the deny tables: a denied call fails
 * with EPERM (as under systemd-nspawn), everything else is allowed. Calls
 * are matched per architecture: the native one (on x86-64 also x32, whose
 * numbers are the native ones with bit 30 set) and i386 on x86-64. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "seccomp.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT 0x40000000
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "tsnspawn-helper: add this architecture's AUDIT_ARCH to native/seccomp.c"
#endif

struct program {
        struct sock_filter *insn;
        size_t n, cap;
};

static void emit(struct program *p, struct sock_filter f) {
        if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 256;
                p->insn = realloc(p->insn, p->cap * sizeof *p->insn);
                if (!p->insn)
                        abort();
        }
        p->insn[p->n++] = f;
}

/* For each denied call the container's capabilities do not allow:
 * "if nr == N return EPERM"; then allow. Expects the number loaded. */
static void emit_table(struct program *p, const struct denied_syscall *t, size_t n, uint64_t caps_retain) {
        for (size_t i = 0; i < n; i++) {
                if (t[i].allowed_by_cap >= 0 && (caps_retain & (1ULL << t[i].allowed_by_cap)))
                        continue;
                emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) t[i].nr, 0, 1));
                emit(p, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)));
        }
        emit(p, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
}

int seccomp_install(uint64_t caps_retain) {
        struct program p = { 0 };
        const uint32_t load_arch = BPF_LD | BPF_W | BPF_ABS, load_nr = BPF_LD | BPF_W | BPF_ABS;
        emit(&p, (struct sock_filter) BPF_STMT(load_arch, offsetof(struct seccomp_data, arch)));
        /* Native: go on; otherwise a long jump (BPF_JA, patched below) over the native block. */
        emit(&p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0));
        size_t skip_native = p.n;
        emit(&p, (struct sock_filter) BPF_STMT(BPF_JMP | BPF_JA, 0));
        emit(&p, (struct sock_filter) BPF_STMT(load_nr, offsetof(struct seccomp_data, nr)));
#ifdef X32_SYSCALL_BIT
        emit(&p, (struct sock_filter) BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~(uint32_t) X32_SYSCALL_BIT));
#endif
        emit_table(&p, seccomp_native_denied, seccomp_native_n, caps_retain);
        p.insn[skip_native].k = (uint32_t) (p.n - skip_native - 1);
#if defined(__x86_64__)
        emit(&p, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0));
        emit(&p, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
        emit(&p, (struct sock_filter) BPF_STMT(load_nr, offsetof(struct seccomp_data, nr)));
        emit_table(&p, seccomp_i386_denied, seccomp_i386_n, caps_retain);
#else
        emit(&p, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#endif
        struct sock_fprog prog = { .len = (unsigned short) p.n, .filter = p.insn };
        /* Without no_new_privs (setuid programs must keep working inside):
         * allowed because the child still has CAP_SYS_ADMIN here. */
        int r = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
        int e = errno;
        free(p.insn);
        errno = e;
        return r;
}
