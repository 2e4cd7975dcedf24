/* The deny list with the native architecture's system call numbers. */
#include <linux/capability.h>
#include <sys/syscall.h>
#include "seccomp.h"

const struct denied_syscall seccomp_native_denied[] = {
#define DENY(nr, cap) { nr, cap },
#include "seccomp-list.h"
#undef DENY
};
const size_t seccomp_native_n = sizeof seccomp_native_denied / sizeof seccomp_native_denied[0];
