/* The deny list with the native ABI's system call numbers. */
#include <sys/syscall.h>
#include "seccomp-table.h"

const struct syscall_table seccomp_native = TABLE;
