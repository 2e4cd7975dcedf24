#define _GNU_SOURCE
/* Tries system calls the container's filter decides on; prints "NAME ok" or
 * "NAME ERRNO-NAME" per call. Arguments are harmless: each call either fails
 * on the filter or does nothing lasting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void report(const char *name, long r) {
        printf("%s %s\n", name, r < 0 ? (errno == EPERM ? "EPERM" : errno == ENOSYS ? "ENOSYS" : strerrorname_np(errno)) : "ok");
}

#if defined(__x86_64__)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whether this kernel takes int 0x80 at all: without IA32 emulation
 * (ia32_emulation=0, or not built) it is a fault, SIGSEGV. Tried in a child. */
static int i386_available(void) {
        pid_t p = fork();
        if (p == 0) {
                long r;
                __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
                _exit(0);
        }
        int st = 0;
        return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* An i386 system call from this 64-bit program: the kernel takes int 0x80 as the 32-bit ABI. */
static long syscall_i386(long nr, long a, long b, long c) {
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
        if (r < 0 && r > -4096) {
                errno = (int) -r;
                return -1;
        }
        return r;
}
#endif

int main(void) {
        setvbuf(stdout, NULL, _IONBF, 0);
        report("getpid", syscall(SYS_getpid));
        report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* KEY_SPEC_USER_KEYRING */, 0));
        report("add_key", syscall(SYS_add_key, "user", "tsnspawn-probe", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */));
        report("swapoff", syscall(SYS_swapoff, "/nonexistent"));
        report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
        report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
        static char page[4096];
        report("mlock", syscall(SYS_mlock, page, sizeof page));
        report("syslog", syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
        report("audit-socket", socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT));
        report("route-socket", socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
        report("pidfd_getfd", syscall(SYS_pidfd_getfd, -1, 0, 0));
        report("process_vm_readv", syscall(SYS_process_vm_readv, 0, NULL, 0, NULL, 0, 0));
        /* @clock and its neighbour: settimeofday(NULL, NULL) sets nothing (ok
         * with CAP_SYS_TIME), CLOCK_MONOTONIC cannot be set (EINVAL once past
         * the filter); sethostname with a bad length is EINVAL past the filter. */
        struct timespec ts = { 0, 0 };
        report("clock_gettime", syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts));
        report("settimeofday", syscall(SYS_settimeofday, NULL, NULL));
        report("clock_settime", syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts));
        report("sethostname", syscall(SYS_sethostname, NULL, -1));
#if defined(__x86_64__)
        report("x32-kexec_load", syscall(0x40000000 | 528, 0, 0, NULL, 0));
        if (i386_available()) {
                report("i386-getpid", syscall_i386(20, 0, 0, 0));
                report("i386-keyctl", syscall_i386(288, 0, -4, 0));
                report("i386-sethostname", syscall_i386(74, 0, -1, 0));
        } else
                printf("i386-getpid unavailable\ni386-keyctl unavailable\ni386-sethostname unavailable\n");
        report("x32-keyctl", syscall(SYS_keyctl | 0x40000000, 0, -4, 0));
        report("x32-sethostname", syscall(SYS_sethostname | 0x40000000, NULL, -1));
#endif
        return 0;
}
