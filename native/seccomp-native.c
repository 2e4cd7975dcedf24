/* The deny list with the native ABI's system call numbers. */
#include <sys/syscall.h>
#include "seccomp-table.h"

#if defined(__x86_64__)
#define ABI_NAME "x86-64"
#elif defined(__aarch64__)
#define ABI_NAME "arm64"
#else
#define ABI_NAME NULL
#endif
#define ABI_NR_BASE 0

const struct syscall_table seccomp_native = TABLE;
