/* The deny list with i386 numbers: on x86-64, a 32-bit program (int 0x80)
 * makes its calls by these, and the filter must catch them too. This unit
 * sees only the i386 numbers (asm/unistd_32.h), not the native ones. */
#include "seccomp.h"

#if defined(__x86_64__)
#include <asm/unistd_32.h>
#include "seccomp-table.h"
#define ABI_NAME "x86"
#define ABI_NR_BASE 0
const struct syscall_table seccomp_i386 = TABLE;
#else
const struct syscall_table seccomp_i386 = { NULL, 0, NULL, 0, -1, NULL, 0, -1, -1, -1 };
#endif
