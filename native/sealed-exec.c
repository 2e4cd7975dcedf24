/* `tsnspawn exec` runs from a sealed copy of the helper.
 *
 * Its child is a process of the container from its fork until it executes
 * the command, and the container's root (which keeps CAP_SYS_PTRACE, as in
 * nspawn, without -U) could open /proc/PID/exe of it: the helper's binary
 * on the host (runc's CVE-2019-5736). Run from a memfd copy sealed against
 * writes, that link names the copy, which nobody can change. The binary on
 * the host is also busy (ETXTBSY) while a monitor runs it, but that holds
 * only as long as one does. */
#define _GNU_SOURCE
#include "sealed-exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static int sealed_copy(void) {
        int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (src < 0)
                return -1;
        int mfd = memfd_create("tsnspawn-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        struct stat st;
        if (mfd < 0 || fstat(src, &st) < 0)
                goto bad;
        for (off_t done = 0; done < st.st_size;) {
                ssize_t n = sendfile(mfd, src, NULL, (size_t) (st.st_size - done));
                if (n <= 0)
                        goto bad;
                done += n;
        }
        if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
                goto bad;
        close(src);
        return mfd;
bad:;
        int e = errno;
        close(src);
        if (mfd >= 0)
                close(mfd);
        errno = e;
        return -1;
}

void sealed_reexec(char **argv) {
        if (strcmp(argv[0], SEALED_ARGV0) == 0)
                return;
        int mfd = sealed_copy();
        if (mfd >= 0) {
                argv[0] = (char *) SEALED_ARGV0;
                fexecve(mfd, argv, environ);
        }
        /* Still the host's binary: the busy text file is the only guard left. */
        fprintf(stderr, "tsnspawn: warning: cannot run tsnspawn exec from a sealed copy of the helper (%s); going on from %s\n", strerror(errno),
                "its file on the host");
}
