/* Included by each ABI's unit right after that ABI's __NR_* header: the
 * deny list with its numbers, as the unit's TABLE. */
#include <linux/capability.h>
#include "seccomp.h"

static const struct denied_syscall denied[] = {
#define DENY(nr, cap) { nr, cap },
#include "seccomp-list.h"
#undef DENY
};

static const int sync_calls[] = {
#define SUPPRESS(nr) nr,
#include "seccomp-sync-list.h"
#undef SUPPRESS
};

#ifdef __NR_open
#define OPEN_NR __NR_open
#else
#define OPEN_NR -1
#endif
#ifdef __NR_openat2
#define OPENAT2_NR __NR_openat2
#else
#define OPENAT2_NR -1
#endif

/* The unit defines ABI_NAME and ABI_NR_BASE (syscall_table's abi and nr_base). */
#define TABLE { ABI_NAME, ABI_NR_BASE, denied, sizeof denied / sizeof denied[0], __NR_socket, sync_calls, sizeof sync_calls / sizeof sync_calls[0], OPEN_NR, __NR_openat, OPENAT2_NR }
