/* The container's system call filter (systemd-nspawn's default policy as a
 * deny list): installed in the child right before it drops privileges. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct denied_syscall {
        int nr;
        int allowed_by_cap; /* -1: never allowed */
};

/* Tables for the native architecture and, on x86-64, its i386 compat ABI. */
extern const struct denied_syscall seccomp_native_denied[];
extern const size_t seccomp_native_n;
extern const struct denied_syscall seccomp_i386_denied[];
extern const size_t seccomp_i386_n;

/* Installs the filter; caps_retain: the capabilities the container keeps. */
int seccomp_install(uint64_t caps_retain);
