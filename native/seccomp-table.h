/* Included by each ABI's unit right after that ABI's __NR_* header: the
 * deny list with its numbers, as the unit's TABLE. */
#include <linux/capability.h>
#include "seccomp.h"

static const struct denied_syscall denied[] = {
#define DENY(nr, cap) { nr, cap },
#include "seccomp-list.h"
#undef DENY
};

#define TABLE { denied, sizeof denied / sizeof denied[0], __NR_socket }
