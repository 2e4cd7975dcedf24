/* Attacks a container's root tries on its host, one a subcommand, for
 * test/integration/escape.test.ts. Each prints "blocked ERRNO-NAME" or
 * "open" (the attack got through) and exits 0; the test decides.
 * Built static, so it runs in any tree. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int report(long r) {
        if (r < 0)
                printf("blocked %s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
        else
                printf("open\n");
        return 0;
}

/* The "shocker" attack: a handle for inode 2 (the root directory of most
 * file systems) of the file system that holds / here, opened with
 * open_by_handle_at; it needs CAP_DAC_READ_SEARCH and reaches outside any
 * bind or chroot. */
static int by_handle(void) {
        struct {
                struct file_handle fh;
                unsigned char bytes[8];
        } h = { .fh = { .handle_bytes = 8, .handle_type = 1 } };
        unsigned int ino = 2, gen = 0;
        memcpy(h.fh.f_handle, &ino, 4);
        memcpy(h.fh.f_handle + 4, &gen, 4);
        int mnt = open("/", O_RDONLY | O_DIRECTORY);
        return report(open_by_handle_at(mnt, &h.fh, O_RDONLY));
}

int main(int argc, char **argv) {
        const char *what = argc > 1 ? argv[1] : "";
        if (strcmp(what, "open-by-handle") == 0)
                return by_handle();
        if (strcmp(what, "init-module") == 0)
                /* An empty module: allowed, the kernel would say ENOEXEC. */
                return report(syscall(SYS_init_module, "", 0UL, ""));
        if (strcmp(what, "clock") == 0) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                return report(clock_settime(CLOCK_REALTIME, &ts));
        }
        if (strcmp(what, "keyring") == 0)
                /* add_key into the session keyring: the host kernel's keyrings are not namespaced. */
                return report(syscall(SYS_add_key, "user", "tsnspawn-escape", "x", 1UL, -3 /* KEY_SPEC_SESSION_KEYRING */));
        if (strcmp(what, "ptrace-host") == 0)
                /* pid given: a host process (not in our PID namespace). */
                return report(ptrace(PTRACE_ATTACH, (pid_t) atoi(argc > 2 ? argv[2] : "0"), NULL, NULL));
        if (strcmp(what, "kill-host") == 0)
                return report(kill((pid_t) atoi(argc > 2 ? argv[2] : "0"), 0));
        if (strcmp(what, "reboot") == 0)
                /* The host's reboot(2) halts the machine; in a PID namespace it ends the container. Cmd 0: a harmless query-less call that still needs CAP_SYS_BOOT. */
                return report(syscall(SYS_reboot, 0xfee1dead, 672274793, 0x0 /* LINUX_REBOOT_CMD_CAD_OFF */, NULL));
        fprintf(stderr, "escape-probe: unknown attack %s\n", what);
        return 2;
}
