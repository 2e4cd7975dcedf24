/* User namespaces: the uid range a container gets, and the ids its setup
 * runs with.
 *
 * The range: with "pick" the monitor walks 64K-aligned ranges from the
 * plan's first candidate (Node derives it from the machine name, so a
 * container tends to get the same range each time) and takes the first one
 * whose lock it can get. The lock is systemd-nspawn's own lock file,
 * /run/systemd/nspawn-uid/BASE, taken as nspawn takes it (an open file
 * description lock, F_OFD_SETLK: flock would not see it), so tsnspawn and nspawn
 * containers started at the same moment never share a range; the monitor
 * holds it until init is gone, then removes it. */
#define _GNU_SOURCE
#include "userns.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* nspawn's CONTAINER_UID_BASE_MIN/MAX: above the users of a normal system,
 * below the ids of systemd's dynamic users. */
#define PICK_MIN 0x00080000u
#define PICK_MAX 0x6fff0000u
#define RANGE 0x10000u
#define LOCK_DIR "/run/systemd/nspawn-uid"
/* Tried before giving up: a busy host has a few hundred containers, not thousands. */
#define PICK_TRIES 4096u

static void lock_path(char buf[static 64], uid_t base) {
        snprintf(buf, 64, LOCK_DIR "/%u", (unsigned) base);
}

/* An exclusive lock of the range's lock file, if nobody has it: the
 * descriptor, -1 if taken, -2 on another error. After locking, the file
 * must still be the one at the path (a holder that finished removes it
 * under its lock). */
static int try_lock(uid_t base) {
        char path[64];
        lock_path(path, base);
        for (;;) {
                int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -2;
                struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
                if (fcntl(fd, F_OFD_SETLK, &l) < 0) {
                        int e = errno;
                        close(fd);
                        errno = e;
                        return e == EAGAIN || e == EACCES ? -1 : -2;
                }
                struct stat a, b;
                if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                        return fd;
                close(fd); /* removed meanwhile: take the new file */
        }
}

/* Whether a --bind-user host id falls in the range at base (it would be
 * mapped twice: nspawn refuses that). */
static bool holds_bound_id(const struct plan *p, uid_t base) {
        for (size_t i = 0; i < p->n_bind_users; i++)
                if ((p->bind_users[i].uid >= base && p->bind_users[i].uid - base < RANGE) ||
                    (p->bind_users[i].gid >= base && p->bind_users[i].gid - base < RANGE))
                        return true;
        return false;
}

int userns_acquire(struct plan *p, int *lock_fd, struct failure *f) {
        *lock_fd = -1;
        if (p->userns == USERNS_NONE)
                return 0;
        if (mkdir("/run/systemd", 0755) < 0 && errno != EEXIST)
                return fail(f, "userns", "lock", "/run/systemd", errno, "cannot create /run/systemd for the uid range locks");
        if (mkdir(LOCK_DIR, 0755) < 0 && errno != EEXIST)
                return fail(f, "userns", "lock", LOCK_DIR, errno, "cannot create the uid range lock directory");
        if (p->userns == USERNS_FIXED) {
                if (holds_bound_id(p, p->uid_base))
                        return fail(f, "userns", "range", "", EINVAL, "a --bind-user id is inside the container's range %u-%u", (unsigned) p->uid_base,
                                    (unsigned) (p->uid_base + p->uid_count - 1));
                /* A range the user chose may be shared on purpose (nspawn
                 * allows it); the lock, when free, only keeps "pick" off it. */
                int fd = try_lock(p->uid_base);
                *lock_fd = fd >= 0 ? fd : -1;
                return 0;
        }
        /* As nspawn's: the range the tree is already owned by first, while
         * it is free, so a chowned tree is not shifted again. */
        if (p->has_prefer && p->uid_prefer >= PICK_MIN && p->uid_prefer < PICK_MAX && !holds_bound_id(p, p->uid_prefer)) {
                int fd = try_lock(p->uid_prefer);
                if (fd == -2)
                        return fail(f, "userns", "lock", LOCK_DIR, errno, "cannot lock a uid range for --private-users=pick");
                if (fd >= 0) {
                        p->uid_base = p->uid_prefer;
                        *lock_fd = fd;
                        return 0;
                }
        }
        unsigned slots = (PICK_MAX - PICK_MIN) / RANGE;
        unsigned first = p->uid_base >= PICK_MIN && p->uid_base < PICK_MAX ? (p->uid_base - PICK_MIN) / RANGE : 0;
        for (unsigned i = 0; i < PICK_TRIES && i < slots; i++) {
                uid_t base = PICK_MIN + ((first + i) % slots) * RANGE;
                if (holds_bound_id(p, base))
                        continue;
                int fd = try_lock(base);
                if (fd == -2)
                        return fail(f, "userns", "lock", LOCK_DIR, errno, "cannot lock a uid range for --private-users=pick");
                if (fd >= 0) {
                        p->uid_base = base;
                        *lock_fd = fd;
                        return 0;
                }
        }
        return fail(f, "userns", "pick", LOCK_DIR, EBUSY, "no free uid range for --private-users=pick after %u tries", PICK_TRIES);
}

void userns_release(int lock_fd, uid_t base) {
        if (lock_fd < 0)
                return;
        char path[64];
        lock_path(path, base);
        /* Under the lock: whoever locks the path next makes a new file. */
        (void) unlink(path);
        close(lock_fd);
}

static int write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = write(fd, text, strlen(text));
        int e = errno;
        close(fd);
        errno = e;
        return n == (ssize_t) strlen(text) ? 0 : -1;
}

/* One map: 0..count-1 -> base.., except the --bind-user ids, each mapped
 * to its host id (gids: host_gid; nspawn's make_uid_map_string). At most
 * 2 * 64 + 1 lines, below the kernel's 340. */
static int format_map(char *buf, size_t len, const struct plan *p, bool gids) {
        size_t at = 0;
        uid_t from = 0;
        for (size_t i = 0; i <= p->n_bind_users; i++) {
                uid_t upto = i < p->n_bind_users ? p->bind_users[i].container : p->uid_count;
                int n = 0;
                if (upto > from)
                        n = snprintf(buf + at, len - at, "%u %u %u\n", (unsigned) from, (unsigned) (p->uid_base + from), (unsigned) (upto - from));
                if (n < 0 || (size_t) n >= len - at)
                        return -1;
                at += (size_t) n;
                if (i == p->n_bind_users)
                        break;
                unsigned host = gids ? (unsigned) p->bind_users[i].gid : (unsigned) p->bind_users[i].uid;
                n = snprintf(buf + at, len - at, "%u %u 1\n", (unsigned) upto, host);
                if (n < 0 || (size_t) n >= len - at)
                        return -1;
                at += (size_t) n;
                from = upto + 1;
        }
        return 0;
}

int userns_write_maps(pid_t pid, const struct plan *p, struct failure *f) {
        char path[64], map[8192];
        const char *names[2] = { "uid_map", "gid_map" };
        for (int g = 0; g < 2; g++) {
                snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, names[g]);
                if (format_map(map, sizeof map, p, g == 1) < 0)
                        return fail(f, "userns", names[g], path, E2BIG, "the container's id map does not fit");
                if (write_file(path, map) < 0)
                        return fail(f, "userns", names[g], path, errno, "cannot map %s 0-%u of the container to %u-%u%s", g ? "gids" : "uids",
                                    (unsigned) p->uid_count - 1, (unsigned) p->uid_base, (unsigned) (p->uid_base + p->uid_count - 1),
                                    p->n_bind_users ? " with the --bind-user ids" : "");
        }
        return 0;
}

int userns_files_as(uid_t base, struct failure *f) {
        /* What the setup creates belongs to the container's root: on a tmpfs
         * made with uid=BASE, and through an idmapped tree (where the host's
         * root has no id at all: creating there as uid 0 fails with
         * EOVERFLOW). Changing the fs ids drops the file capabilities from
         * the effective set; they are raised again (still permitted). */
        setfsgid(base);
        setfsuid(base);
        if ((uid_t) setfsuid((uid_t) -1) != base || (gid_t) setfsgid((gid_t) -1) != base)
                return fail(f, "userns", "setfsuid", "", EPERM, "cannot create files as the container's root (host uid %u)", (unsigned) base);
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2];
        if (syscall(SYS_capget, &hdr, data) < 0)
                return fail(f, "userns", "capget", "", errno, "cannot read the setup's capabilities");
        data[0].effective = data[0].permitted;
        data[1].effective = data[1].permitted;
        if (syscall(SYS_capset, &hdr, data) < 0)
                return fail(f, "userns", "capset", "", errno, "cannot raise the setup's capabilities again");
        return 0;
}
