/* tsnspawn-helper --image PATH --name NAME [--read-only]: the image holder.
 *
 * Where we are: a child of Node, full root, at first in the host's mount
 * namespace. It reads the image's partition table (image-gpt.c), picks the
 * partitions by their Discoverable Partitions type (image-types.c), attaches
 * the file to a free loop device (LOOP_CONFIGURE through /dev/loop-control,
 * partition scanning on, LO_FLAGS_AUTOCLEAR, read-only when asked or when
 * the file cannot be written), then unshares a mount namespace of its own
 * and mounts a tmpfs on IMAGE_MOUNT_BASE there, the root partition at
 * IMAGE_MOUNT_BASE/NAME and /usr, /home, /srv, /var, /var/tmp partitions
 * below it. None of these mounts exists on the host.
 *
 * It prints one JSON line on stdout ({"root":...} or {"error":...}) and
 * waits. Node reads the tree through /proc/PID/root/...; the monitor joins
 * this namespace (image-join.c, setns) and kills us. The loop device's only
 * users are then the mounts in the monitor's and the container's
 * namespaces: when the last process of those is gone, the mounts go, the
 * device's last opener closes it and the kernel detaches it (autoclear).
 * So nothing is left on the host after any exit, SIGKILL included. If the
 * monitor never comes (a check in Node refused the start), stdin's end of
 * file or Node's death (PR_SET_PDEATHSIG) ends us, with the same effect. */
#define _GNU_SOURCE
#include "image.h"
#include "image-fs.h"
#include "image-gpt.h"
#include "image-types.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/blkpg.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The partitions mounted besides the root, in mount order (/var before /var/tmp). */
static const enum part_role mount_order[] = { PART_USR, PART_VAR, PART_TMP, PART_HOME, PART_SRV };

struct chosen {
        const struct gpt_partition *part; /* NULL: the whole file (no partition table) */
        const char *fstype;
        bool read_only;
};

struct holder {
        const char *path, *name;
        bool read_only;           /* --read-only, or the file is not writable */
        int file_fd, loop_fd, loop_nr;
        uint64_t size;
        struct gpt_table gpt;
        bool has_gpt;
        struct chosen root, others[sizeof mount_order / sizeof mount_order[0]];
};

static char err[1024];

static int failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int failf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, sizeof err, fmt, ap);
        va_end(ap);
        return -1;
}

static void say_error(void) {
        struct strbuf sb = { 0 };
        sb_adds(&sb, "{\"error\":");
        sb_add_json(&sb, err);
        sb_adds(&sb, "}\n");
        (void) write_all(STDOUT_FILENO, sb.data, sb.len);
        sb_free(&sb);
}

static int open_image(struct holder *h) {
        if (!h->read_only) {
                h->file_fd = open(h->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
                /* A file we may not write is run read-only, as nspawn does. */
                if (h->file_fd < 0 && (errno == EROFS || errno == EACCES || errno == EPERM))
                        h->read_only = true;
                else if (h->file_fd < 0)
                        return failf("cannot open it: %s", strerror(errno));
        }
        if (h->read_only && (h->file_fd = open(h->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
                return failf("cannot open it: %s", strerror(errno));
        struct stat st;
        if (fstat(h->file_fd, &st) < 0)
                return failf("cannot inspect it: %s", strerror(errno));
        if (S_ISBLK(st.st_mode))
                return failf("it is a block device; tsnspawn runs image files only (copy it into a file, or mount it and use -D)");
        if (!S_ISREG(st.st_mode))
                return failf("it is not a regular file");
        h->size = (uint64_t) st.st_size;
        /* One writer or many readers. The lock belongs to this open file, which
         * the loop device keeps (LOOP_CONFIGURE takes a reference to it): it
         * lasts exactly as long as the device stays attached, so a second
         * container can never mount the same file systems read-write at once. */
        if (flock(h->file_fd, (h->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return failf("cannot lock it: %s", strerror(errno));
                return failf("it is in use by another container, %s (run both with --read-only or -x, or one after the other)",
                             h->read_only ? "which writes to it" : "which has it attached");
        }
        return 0;
}

/* The filesystem of a chosen partition (or the whole file); refuses what we cannot mount. */
static int probe(struct holder *h, struct chosen *c, const char *what) {
        uint64_t off = c->part ? c->part->first_lba * h->gpt.sector_size : 0;
        c->fstype = fs_probe(h->file_fd, off);
        if (!c->fstype)
                return failf("its %s partition has no file system tsnspawn knows (ext4, btrfs, xfs, squashfs, erofs, vfat)", what);
        if (strcmp(c->fstype, "crypto_LUKS") == 0)
                return failf("its %s partition is encrypted (LUKS), which tsnspawn does not support (unlock it with systemd-cryptsetup and use -D)", what);
        return 0;
}

/* systemd's choice among several root (or /usr) partitions: the newest version by label. */
static bool newer(const struct gpt_partition *a, const struct gpt_partition *b) {
        return strverscmp(a->label, b->label) > 0;
}

static int choose_partitions(struct holder *h) {
        const struct gpt_partition *found[PART_IGNORED + 1] = { 0 };
        size_t n_generic = 0;
        for (size_t i = 0; i < h->gpt.n; i++) {
                const struct gpt_partition *p = &h->gpt.parts[i];
                const struct part_type *t = part_type_lookup(p->type);
                if (t->role == PART_IGNORED || (p->flags & GPT_FLAG_NO_AUTO))
                        continue;
                if (t->role == PART_VERITY)
                        return failf("it has a %s partition (%s); tsnspawn does not set up dm-verity (use systemd-nspawn, or an image without verity)", t->what, p->type);
                if (t->role == PART_GENERIC)
                        n_generic++;
                const struct gpt_partition **slot = &found[t->role];
                /* As systemd: the first of a kind wins, but for root and /usr the newest by label. */
                if (!*slot || ((t->role == PART_ROOT || t->role == PART_USR) && newer(p, *slot)))
                        *slot = p;
        }
        /* As nspawn (DISSECT_IMAGE_GENERIC_ROOT): without a typed root, a single
         * generic Linux partition (fdisk's and older mkosi's default type) is the root. */
        if (!found[PART_ROOT] && n_generic > 1)
                return failf("it has no root partition for this architecture (GPT type %s) and %zu generic Linux partitions, so none is the root "
                             "(give the root its type, e.g. with sfdisk --part-type)",
                             part_type_native_root(), n_generic);
        if (!found[PART_ROOT])
                found[PART_ROOT] = found[PART_GENERIC];
        if (!found[PART_ROOT])
                return failf("it has no root partition for this architecture (GPT type %s), or only ones marked no-auto", part_type_native_root());
        h->root.part = found[PART_ROOT];
        h->root.read_only = h->read_only || (h->root.part->flags & GPT_FLAG_READ_ONLY);
        if (probe(h, &h->root, "root") < 0)
                return -1;
        for (size_t i = 0; i < sizeof mount_order / sizeof mount_order[0]; i++) {
                struct chosen *c = &h->others[i];
                c->part = found[mount_order[i]];
                if (!c->part)
                        continue;
                c->read_only = h->read_only || (c->part->flags & GPT_FLAG_READ_ONLY);
                if (probe(h, c, part_role_mountpoint(mount_order[i])) < 0)
                        return -1;
        }
        return 0;
}

/* What the file holds: a GPT disk image, or one file system as a whole. */
static int dissect(struct holder *h) {
        int r = gpt_read(h->file_fd, h->size, &h->gpt, err, sizeof err);
        if (r < 0)
                return -1;
        if (r > 0) {
                h->has_gpt = true;
                return choose_partitions(h);
        }
        h->root.read_only = h->read_only;
        h->root.fstype = fs_probe(h->file_fd, 0);
        if (h->root.fstype && strcmp(h->root.fstype, "crypto_LUKS") == 0)
                return failf("it is encrypted (LUKS), which tsnspawn does not support (unlock it with systemd-cryptsetup and use -D)");
        if (h->root.fstype)
                return 0;
        if (mbr_has_partitions(h->file_fd))
                return failf("it has an MBR partition table; tsnspawn runs GPT disk images (as systemd-repart and mkosi build them) and plain file system images");
        return failf("it is neither a GPT disk image nor a file system image tsnspawn knows (ext4, btrfs, xfs, squashfs, erofs, vfat)");
}

/* A free loop device with the file attached: autoclear, partitions scanned. */
static int attach_loop(struct holder *h) {
        int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return failf("cannot open /dev/loop-control: %s (is the loop module loaded?)", strerror(errno));
        struct loop_config cfg = { .fd = (unsigned) h->file_fd };
        cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (h->has_gpt ? LO_FLAGS_PARTSCAN : 0) | (h->read_only ? LO_FLAGS_READ_ONLY : 0);
        if (h->has_gpt && h->gpt.sector_size != 512)
                cfg.block_size = h->gpt.sector_size;
        snprintf((char *) cfg.info.lo_file_name, LO_NAME_SIZE, "%s", h->path);
        /* Another program may take the free device between the two calls: then the next. */
        for (int attempt = 0; attempt < 64; attempt++) {
                int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (nr < 0) {
                        int e = errno;
                        close(ctl);
                        return failf("cannot get a free loop device: %s", strerror(e));
                }
                char dev[64];
                snprintf(dev, sizeof dev, "/dev/loop%d", nr);
                int fd = open(dev, (h->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
                if (fd < 0) {
                        int e = errno;
                        close(ctl);
                        return failf("cannot open %s: %s", dev, strerror(e));
                }
                if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
                        close(ctl);
                        h->loop_fd = fd;
                        h->loop_nr = nr;
                        return 0;
                }
                int e = errno;
                close(fd);
                if (e != EBUSY) {
                        close(ctl);
                        return failf("cannot attach it to %s: %s", dev, strerror(e));
                }
        }
        close(ctl);
        return failf("cannot attach it to a loop device: every free one was taken meanwhile");
}

/* The block device of a chosen partition: /dev/loopNpM, added by hand if the
 * kernel's scan has not made it (systemd does the same, racing the kernel). */
static int device_of(struct holder *h, const struct chosen *c, char *dev, size_t len) {
        if (!c->part) {
                snprintf(dev, len, "/dev/loop%d", h->loop_nr);
                return 0;
        }
        snprintf(dev, len, "/dev/loop%dp%u", h->loop_nr, c->part->number);
        if (access(dev, F_OK) == 0)
                return 0;
        uint64_t ss = h->gpt.sector_size;
        struct blkpg_partition bp = {
                .start = (long long) (c->part->first_lba * ss),
                .length = (long long) ((c->part->last_lba - c->part->first_lba + 1) * ss),
                .pno = (int) c->part->number,
        };
        struct blkpg_ioctl_arg a = { .op = BLKPG_ADD_PARTITION, .datalen = sizeof bp, .data = &bp };
        if (ioctl(h->loop_fd, BLKPG, &a) < 0 && errno != EBUSY)
                return failf("cannot add partition %u of %s: %s", c->part->number, dev, strerror(errno));
        if (access(dev, F_OK) < 0)
                return failf("the kernel made no device %s for partition %u", dev, c->part->number);
        return 0;
}

/* The directory at path inside the root (symlinks resolved in it, never out
 * of it), made when missing and the root can be written. -1 with errno set. */
static int open_mountpoint(int rootfd, const char *path, bool can_make) {
        struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        const char *rel = path + 1;
        int fd = (int) syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
        if (fd >= 0 || errno != ENOENT || !can_make)
                return fd;
        /* Only the last component is made: /var/tmp's parent is there (mount_order mounts /var first). */
        char parent[64];
        snprintf(parent, sizeof parent, "%s", rel);
        char *slash = strrchr(parent, '/');
        int pfd = slash ? (*slash = 0, (int) syscall(SYS_openat2, rootfd, parent, &how, sizeof how)) : rootfd;
        if (pfd < 0)
                return -1;
        int r = mkdirat(pfd, slash ? slash + 1 : rel, 0755);
        int e = errno;
        if (pfd != rootfd)
                close(pfd);
        if (r < 0 && e != EEXIST) {
                errno = e;
                return -1;
        }
        return (int) syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
}

static int mount_one(struct holder *h, const struct chosen *c, const char *target, const char *what) {
        char dev[64];
        if (device_of(h, c, dev, sizeof dev) < 0)
                return -1;
        if (mount(dev, target, c->fstype, c->read_only ? MS_RDONLY : 0, NULL) < 0)
                return failf("cannot mount its %s partition (%s, %s): %s", what, dev, c->fstype, strerror(errno));
        return 0;
}

/* In a mount namespace of our own: tmpfs on the base, the root, the rest. */
static int mount_all(struct holder *h, char *root, size_t rootlen) {
        if (mkdir("/run/tsnspawn", 0755) < 0 && errno != EEXIST)
                return failf("cannot create /run/tsnspawn: %s", strerror(errno));
        if (mkdir(IMAGE_MOUNT_BASE, 0700) < 0 && errno != EEXIST)
                return failf("cannot create %s: %s", IMAGE_MOUNT_BASE, strerror(errno));
        if (unshare(CLONE_NEWNS) < 0)
                return failf("cannot create a mount namespace: %s", strerror(errno));
        /* Nothing of ours may reach the host; the host's mounts still reach us. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return failf("cannot make the mount namespace a slave of the host's: %s", strerror(errno));
        if (mount("tsnspawn-image", IMAGE_MOUNT_BASE, "tmpfs", MS_NODEV | MS_NOSUID | MS_NOEXEC, "mode=0700") < 0)
                return failf("cannot mount a tmpfs on %s: %s", IMAGE_MOUNT_BASE, strerror(errno));
        snprintf(root, rootlen, "%s/%s", IMAGE_MOUNT_BASE, h->name);
        if (mkdir(root, 0755) < 0)
                return failf("cannot create %s: %s", root, strerror(errno));
        if (mount_one(h, &h->root, root, "root") < 0)
                return -1;
        int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return failf("cannot open the mounted root: %s", strerror(errno));
        for (size_t i = 0; i < sizeof mount_order / sizeof mount_order[0]; i++) {
                const struct chosen *c = &h->others[i];
                const char *where = part_role_mountpoint(mount_order[i]);
                if (!c->part)
                        continue;
                int fd = open_mountpoint(rootfd, where, !h->root.read_only);
                if (fd < 0) {
                        int e = errno;
                        close(rootfd);
                        if (e == ENOENT)
                                return failf("cannot mount its %s partition: the root partition has no %s, and it is read-only, so none can be made", where, where);
                        return failf("cannot mount its %s partition: %s in the root partition: %s", where, where, strerror(e));
                }
                char target[64];
                snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
                int r = mount_one(h, c, target, where);
                close(fd);
                if (r < 0) {
                        close(rootfd);
                        return -1;
                }
        }
        close(rootfd);
        return 0;
}

static void say_ready(const struct holder *h, const char *root) {
        struct strbuf sb = { 0 };
        char dev[64];
        sb_adds(&sb, "{\"root\":");
        sb_add_json(&sb, root);
        snprintf(dev, sizeof dev, "/dev/loop%d", h->loop_nr);
        sb_adds(&sb, ",\"loop\":");
        sb_add_json(&sb, dev);
        sb_addf(&sb, ",\"readOnly\":%s,\"rootReadOnly\":%s,\"partitions\":[", h->read_only ? "true" : "false", h->root.read_only ? "true" : "false");
        sb_addf(&sb, "{\"where\":\"/\",\"fstype\":\"%s\",\"number\":%u}", h->root.fstype, h->root.part ? h->root.part->number : 0);
        for (size_t i = 0; i < sizeof mount_order / sizeof mount_order[0]; i++)
                if (h->others[i].part)
                        sb_addf(&sb, ",{\"where\":\"%s\",\"fstype\":\"%s\",\"number\":%u}", part_role_mountpoint(mount_order[i]), h->others[i].fstype,
                                h->others[i].part->number);
        sb_adds(&sb, "]}\n");
        (void) write_all(STDOUT_FILENO, sb.data, sb.len);
        sb_free(&sb);
}

int image_holder_main(int argc, char **argv) {
        pid_t parent = getppid();
        struct holder h = { .file_fd = -1, .loop_fd = -1 };
        for (int i = 0; i < argc; i++) {
                if (strcmp(argv[i], "--read-only") == 0)
                        h.read_only = true;
                else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
                        h.path = argv[++i];
                else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
                        h.name = argv[++i];
        }
        if (!h.path || !h.name || !*h.name || strchr(h.name, '/') || strcmp(h.name, ".") == 0 || strcmp(h.name, "..") == 0 || strlen(h.name) > 64) {
                fprintf(stderr, "usage: tsnspawn-helper --image PATH --name NAME [--read-only]\n");
                return 2;
        }
        /* Die with Node; checked after setting it, Node may be gone already. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                return 1;
        char root[128];
        if (open_image(&h) < 0 || dissect(&h) < 0 || attach_loop(&h) < 0 || mount_all(&h, root, sizeof root) < 0) {
                /* Our loop descriptor's close detaches the device (autoclear); our mounts die with us. */
                say_error();
                return 1;
        }
        /* From now on only the mounts hold the device. */
        close(h.loop_fd);
        close(h.file_fd);
        say_ready(&h, root);
        /* Until the monitor has joined us (it kills us then) or Node lets go. */
        char buf[256];
        for (;;) {
                ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
                if (n == 0 || (n < 0 && errno != EINTR))
                        return 0;
        }
}
