/* The container's system call filter (systemd-nspawn's default policy as a
 * deny list): installed in the child right before it drops privileges. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct denied_syscall {
        int nr;
        int allowed_by_cap; /* -1: never allowed */
};

/* One ABI's numbers: its denied calls, and socket(2) for the audit rule (-1: none). */
struct syscall_table {
        const struct denied_syscall *denied;
        size_t n;
        int socket_nr;
};

/* The native ABI; on x86-64 also x32 (numbers with bit 30 set) and i386 (int 0x80). */
extern const struct syscall_table seccomp_native;
extern const struct syscall_table seccomp_x32;
extern const struct syscall_table seccomp_i386;

/* Installs the filter; caps_retain: the capabilities the container keeps. */
int seccomp_install(uint64_t caps_retain);
