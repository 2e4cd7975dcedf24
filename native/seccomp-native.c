/* The deny list with the native ABI's system call numbers. */
#include <linux/capability.h>
#include <sys/syscall.h>
#include "seccomp.h"

static const struct denied_syscall denied[] = {
#define DENY(nr, cap) { nr, cap },
#include "seccomp-list.h"
#undef DENY
};
const struct syscall_table seccomp_native = { denied, sizeof denied / sizeof denied[0], __NR_socket };
