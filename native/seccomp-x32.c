/* The deny list with x32 numbers (bit 30 set; some calls have numbers of
 * their own, 512 and up): on x86-64 a program can use this ABI whether or
 * not the kernel serves it. This unit sees only asm/unistd_x32.h. */
#include "seccomp.h"

#if defined(__x86_64__)
/* asm/unistd.h defines this bit for the x32 numbers; unistd_x32.h alone does not. */
#define __X32_SYSCALL_BIT 0x40000000
#include <asm/unistd_x32.h>
#include "seccomp-table.h"
#define ABI_NAME "x32"
#define ABI_NR_BASE __X32_SYSCALL_BIT
const struct syscall_table seccomp_x32 = TABLE;
#else
const struct syscall_table seccomp_x32 = { NULL, 0, NULL, 0, -1, NULL, 0, -1, -1, -1 };
#endif
