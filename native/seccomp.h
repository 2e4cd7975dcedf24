/* The container's system call filter (systemd-nspawn's default policy as a
 * deny list): installed in the child right before it drops privileges. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct syscall_rules;

struct denied_syscall {
        int nr;
        int allowed_by_cap; /* -1: never allowed */
};

/* One ABI's numbers: its denied calls, and socket(2) for the audit rule (-1: none). */
struct syscall_table {
        /* systemd's name of the ABI ("x86-64", "x32", "x86", "arm64"; NULL:
         * none on this architecture), as --system-call-filter's rules name it
         * (syscall-rules.h), and what its numbers add to a call's number
         * there (x32's bit), so that a rule's NR is nr_base + NR. */
        const char *abi;
        uint32_t nr_base;
        const struct denied_syscall *denied;
        size_t n;
        int socket_nr;
        /* --suppress-sync (seccomp-sync-list.h): the calls made to succeed
         * without doing anything, and open/openat/openat2 (-1: none). */
        const int *sync_calls;
        size_t n_sync;
        int open_nr, openat_nr, openat2_nr;
};

/* What seccomp_install puts in the filter. */
enum {
        SECCOMP_DENY_LIST = 1 << 0,    /* nspawn's default policy (off with SYSTEMD_SECCOMP=0) */
        SECCOMP_SUPPRESS_SYNC = 1 << 1, /* --suppress-sync=yes */
};

/* The native ABI; on x86-64 also x32 (numbers with bit 30 set) and i386 (int 0x80). */
extern const struct syscall_table seccomp_native;
extern const struct syscall_table seccomp_x32;
extern const struct syscall_table seccomp_i386;

/* Installs the filter with the parts in what (SECCOMP_*); caps_retain: the
 * capabilities the container keeps; rules: --system-call-filter's changes
 * to the deny list (NULL: none). */
int seccomp_install(uint64_t caps_retain, unsigned what, const struct syscall_rules *rules);
