/* The deny list with i386 numbers: on x86-64, a 32-bit program (int 0x80)
 * makes its calls by these, and the filter must catch them too. This unit
 * sees only the i386 numbers (asm/unistd_32.h), not the native ones. */
#include <linux/capability.h>
#include "seccomp.h"

#if defined(__x86_64__)
#include <asm/unistd_32.h>
const struct denied_syscall seccomp_i386_denied[] = {
#define DENY(nr, cap) { nr, cap },
#include "seccomp-list.h"
#undef DENY
};
const size_t seccomp_i386_n = sizeof seccomp_i386_denied / sizeof seccomp_i386_denied[0];
#else
const struct denied_syscall seccomp_i386_denied[] = { { -1, -1 } };
const size_t seccomp_i386_n = 0;
#endif
