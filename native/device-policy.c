/* The container's device policy: only the API device nodes can be opened
 * or created, whatever nodes the guest makes or its tree holds (without it,
 * root in a container without a user namespace could mknod the host's disk
 * and read it). nspawn's list (DevicePolicy=closed plus its DeviceAllow=):
 * null, zero, full, random, urandom, tty and net/tun to read, write and
 * create; ptmx and the ptys to read and write only.
 *
 * The policy is a BPF_PROG_TYPE_CGROUP_DEVICE program attached to init's
 * cgroup2 cgroup with BPF_F_ALLOW_MULTI, so that the guest's own systemd can
 * still attach its programs below (each must allow an access). It goes away
 * with the cgroup. Attached while init waits at the barrier, in its final
 * cgroup. */
#define _GNU_SOURCE
#include "device-policy.h"
#include "exec-cgroups.h"
#include "report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ANY_MINOR (-1)

/* type: BPF_DEVCG_DEV_CHAR/BLOCK; access: BPF_DEVCG_ACC_* allowed. */
static const struct {
        unsigned type;
        unsigned major;
        int minor;
        unsigned access;
} allowed[] = {
        { BPF_DEVCG_DEV_CHAR, 1, 3, BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE },   /* null */
        { BPF_DEVCG_DEV_CHAR, 1, 5, BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE },   /* zero */
        { BPF_DEVCG_DEV_CHAR, 1, 7, BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE },   /* full */
        { BPF_DEVCG_DEV_CHAR, 1, 8, BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE },   /* random */
        { BPF_DEVCG_DEV_CHAR, 1, 9, BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE },   /* urandom */
        { BPF_DEVCG_DEV_CHAR, 5, 0, BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE },   /* tty */
        { BPF_DEVCG_DEV_CHAR, 10, 200, BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE }, /* net/tun */
        { BPF_DEVCG_DEV_CHAR, 5, 2, BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE },                         /* ptmx */
        { BPF_DEVCG_DEV_CHAR, 136, ANY_MINOR, BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE },                /* ptys (char-pts) */
        /* The Container Interface's /run/host/inaccessible nodes: 0:0 is no device (opening it fails with ENXIO). */
        { BPF_DEVCG_DEV_CHAR, 0, 0, BPF_DEVCG_ACC_MKNOD },
        { BPF_DEVCG_DEV_BLOCK, 0, 0, BPF_DEVCG_ACC_MKNOD },
};

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm) {
        return (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

/* r2 = type, r3 = access, r4 = major, r5 = minor; then per rule a block
 * that jumps to the next rule on a mismatch and returns 1 on a match. */
static size_t build(struct bpf_insn *p) {
        size_t n = 0;
        p[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);  /* access_type */
        p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
        p[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);   /* type */
        p[n++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);       /* access */
        p[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);  /* major */
        p[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);  /* minor */
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
                bool any = allowed[i].minor == ANY_MINOR;
                /* A jump at index j of a block of size S skips to the next block: off S - j - 1. */
                const int size = any ? 7 : 8;
                size_t start = n;
#define TO_NEXT ((__s16) (size - (int) (n - start) - 1))
                p[n] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, TO_NEXT, (__s32) allowed[i].type), n++;
                p[n] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, TO_NEXT, (__s32) allowed[i].major), n++;
                if (!any)
                        p[n] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, TO_NEXT, allowed[i].minor), n++;
                /* Any access bit outside the allowed ones: no match. */
                p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_3, 0, 0);
                p[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_6, 0, 0, (__s32) ~allowed[i].access);
                p[n] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_6, 0, TO_NEXT, 0), n++;
#undef TO_NEXT
                p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
                p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        }
        p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
        p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return n;
}

/* The cgroup2 directory of pid, found as `tsnspawn exec` finds a
 * container's cgroups (exec-cgroups.c: /proc/PID/cgroup against the
 * mount table); -1 with errno ENOENT when no cgroup2 hierarchy is mounted. */
static int open_cgroup2_of(pid_t pid) {
        struct exec_cgroups cg;
        char err[256];
        if (exec_cgroups_open(pid, &cg, err, sizeof err) < 0)
                return -1;
        int fd = -1;
        for (size_t i = 0; i < cg.n; i++)
                if (cg.v2[i])
                        fd = fcntl(cg.fd[i], F_DUPFD_CLOEXEC, 3);
        exec_cgroups_close(&cg);
        if (fd < 0)
                errno = ENOENT;
        return fd;
}

int device_policy_apply(pid_t pid, struct failure *f) {
        struct bpf_insn prog[8 + 8 * (sizeof allowed / sizeof allowed[0])];
        size_t n = build(prog);
        int cg = open_cgroup2_of(pid);
        if (cg < 0 && errno == ENOENT) {
                /* No cgroup2 hierarchy in our mount namespace (a pure v1 host, or run under `ip netns exec`,
                 * which mounts a sysfs of its own): nothing to attach a program to. */
                report_warning("no device policy for this container: no cgroup2 hierarchy is mounted here, so its root can "
                               "open any device node it can make or finds in its tree (register it with machined, or use -U)",
                               0);
                return 0;
        }
        if (cg < 0)
                return fail(f, "devices", "cgroup", "", errno, "cannot find the container's cgroup2 cgroup for its device policy");
        union bpf_attr load = { 0 };
        load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        load.insns = (__u64) (uintptr_t) prog;
        load.insn_cnt = (__u32) n;
        load.license = (__u64) (uintptr_t) "GPL";
        int pfd = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
        if (pfd < 0) {
                int e = errno;
                close(cg);
                /* No BPF here (inside a container whose manager filters bpf(),
                 * or a kernel without it): said, not hidden; -U still keeps the
                 * host's devices out (a user namespace cannot mknod). */
                if (e == EPERM || e == ENOSYS || e == EINVAL) {
                        report_warning("no device policy for this container: BPF cgroup device programs are not available here, so its root can open "
                                       "any device node it can make or finds in its tree (register it with machined, or use -U)",
                                       e);
                        return 0;
                }
                return fail(f, "devices", "bpf", "", e, "cannot load the device policy program (a BPF cgroup device program)");
        }
        union bpf_attr at = { 0 };
        at.target_fd = (__u32) cg;
        at.attach_bpf_fd = (__u32) pfd;
        at.attach_type = BPF_CGROUP_DEVICE;
        at.attach_flags = BPF_F_ALLOW_MULTI;
        int r = (int) syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof at);
        int e = errno;
        close(pfd);
        close(cg);
        if (r < 0)
                return fail(f, "devices", "bpf", "", e, "cannot attach the device policy to the container's cgroup");
        return 0;
}
