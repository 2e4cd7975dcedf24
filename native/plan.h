/* The launch plan as the helper holds it after decoding.
 *
 * TypeScript decides everything (policy); this struct is the complete list of
 * what the helper must do (mechanism). The wire format is described in
 * plan.c and produced by src/plan/encode.ts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "network.h"
#include "proc-limits.h"
#include "registration.h"
#include "rootfs.h"
#include "syscall-rules.h"

enum op_kind {
        OP_MKDIR,       /* path mode: mkdir -p inside the root */
        OP_TOUCH,       /* path mode: create an empty file if nothing is there */
        OP_BIND,        /* src(host) dst flags: bind a host path into the root */
        OP_BIND_INNER,  /* src(root) dst flags: bind a path of the root onto another */
        OP_MOUNT,       /* fstype dst flags data: mount a fresh file system */
        OP_REMOUNT_RO,  /* dst flags: make an existing mount read-only */
        OP_SYMLINK,     /* target path */
        OP_MKNOD,       /* path mode major minor (mode includes the file type) */
        OP_WRITE,       /* path mode content */
        OP_CONSOLE,     /* path: bind the console pty's peer onto path */
        OP_NOTIFY_SOCKET, /* path: bind the monitor's notify socket at path */
        OP_UNLINK,      /* path flags: remove a file (e.g. the source of a bind, once bound) */
        OP_COPY,        /* src(host) dst mode flags: copy a host file's bytes into the tree */
        OP_OVERLAY,     /* dst upper lowers(d): --overlay/--overlay-ro (upper "" = tmpfs, "-" = read-only) */
        OP__MAX,
};

/* nspawn's 60514..60577: the container ids --bind-user gives out. */
#define BIND_USERS_MAX 64

/* Flags of mount-like ops, spelled as words on the wire. */
enum {
        F_REC = 1 << 0,         /* recursive bind / recursive read-only */
        F_RO = 1 << 1,
        F_NOSUID = 1 << 2,
        F_NODEV = 1 << 3,
        F_NOEXEC = 1 << 4,
        F_STRICTATIME = 1 << 5,
        F_OPTIONAL = 1 << 6,    /* a missing source or destination is not an error */
        F_MKDIR = 1 << 7,       /* create the destination (directory, or file for file sources) */
        F_TREE = 1 << 8,        /* bind-inner source from the user ('+'): on the tree's own mount only */
        F_RW = 1 << 9,          /* clear read-only on the new bind (a writable window in a read-only tree) */
        /* A fresh mount's further flags, as a user gives them (--tmpfs=PATH:OPTIONS). */
        F_SYNC = 1 << 10,
        F_DIRSYNC = 1 << 11,
        F_NOATIME = 1 << 12,
        F_NODIRATIME = 1 << 13,
        F_RELATIME = 1 << 14,
        F_LAZYTIME = 1 << 15,
        F_SILENT = 1 << 16,
        F_NOSYMFOLLOW = 1 << 17,
        /* bind-inner of a cgroup hierarchy's mount: our own cgroup in it, onto itself (own-cgroup.c) */
        F_OWN_CGROUP = 1 << 18,
        F_IDMAP = 1 << 19,      /* a bind idmapped to the container's user namespace (--bind=...:idmap, -U only) */
        /* bind-inner from a directory of inaccessible nodes (reg, dir, fifo, sock, chr, blk): the one of the
         * target's type, read where the target is resolved (--inaccessible; ops.c) */
        F_BY_TYPE = 1 << 20,
        /* idmapped binds of one id (nspawn's rootidmap and owneridmap; -U only, ops.c): the source's
         * owner as the container's root, or as the owner of the destination; nobody else mapped */
        F_ROOTIDMAP = 1 << 21,
        F_OWNERIDMAP = 1 << 22,
};

struct workdir;

/* Lower layers of one overlay: the kernel's overlayfs stacks at most 500
 * (OVL_MAX_STACK). More is refused (Node first, the decoder again). */
#define OVERLAY_MAX_LOWERS 500

struct op {
        enum op_kind kind;
        char *a, *b, *c, *d;    /* positional string arguments, meaning per kind */
        unsigned flags;
        mode_t mode;
        unsigned major, minor;
        /* OP_OVERLAY with an upper the monitor made (workdir.c): a
         * descriptor of the upper as the monitor opened it (host's mount
         * namespace; the child compares what it opens with it) and the work
         * directory made beside it; else -1 and NULL. */
        int upper_fd;
        const struct workdir *workdir;
};

enum console_mode {
        CONSOLE_INTERACTIVE,
        CONSOLE_READ_ONLY,
        CONSOLE_PASSIVE,
        CONSOLE_PIPE,
};

struct plan {
        char *root;             /* host path of the tree */
        unsigned long long root_dev, root_ino; /* the tree Node inspected (tree.c) */
        bool has_root_id;
        /* -i: the image holder whose mount namespace the monitor joins first (image.h); 0: none. */
        int image_holder;
        char *hostname;
        bool ns_uts, ns_ipc, ns_cgroup, ns_net;
        enum console_mode console;
        bool read_only_root;
        bool no_syscall_filter; /* SYSTEMD_SECCOMP=0: no seccomp filter */
        bool as_pid2;           /* --as-pid2: a stub init is PID 1, the payload PID 2 */
        bool suppress_sync;     /* --suppress-sync=yes: the sync calls do nothing (seccomp.c) */
        struct syscall_rules syscall_rules; /* --system-call-filter (syscall-rules.h); none: no records */
        enum root_mode root_mode;
        /* --pivot-root ("pivot-root first|last NEW OLD", rootfs.c): the
         * directory of the tree that becomes the root, and where the whole
         * tree is mounted inside it (NULL: nowhere). pivot_last: the root
         * mode's mount of the whole tree first, then the pivot inside it (-x). */
        char *pivot_new, *pivot_old;
        bool pivot_last;
        /* The tree's lock ("tree-lock shared|exclusive LOCAL GLOBAL",
         * tree-lock.c): nspawn's two lock files; NULL: no lock. */
        char *lock_local, *lock_global;
        bool lock_shared;
        char *cwd;
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        uint64_t caps_retain;   /* bit mask of capabilities kept in the bounding set */
        char **argv;            /* NULL terminated */
        size_t n_argv;
        char **envp;            /* NULL terminated */
        size_t n_envp;
        char *exec_path;        /* absolute path inside the root, or a name looked up in PATH */
        struct op *ops;
        size_t n_ops;
        struct registration reg; /* with machined or systemd; kind REG_NONE: none */
        /* Socket activation: listen_count sockets, ours from listen_first
         * on, become the payload's 3, 4, ... ("listen-fds FIRST COUNT"). */
        int listen_first, listen_count;
        /* tsnspawn's descriptors the monitor holds for the supervisor ("carry-fd
         * FD ORIGINAL"): Node's execve keeps only 0-2, so the monitor hands
         * them over (SCM_RIGHTS) and the supervisor puts them back at ORIGINAL. */
        struct { int fd, original; } carry[32];
        size_t n_carry;
        /* Host paths of the container's cgroups (made by Node) when the
         * monitor is to place init there itself and open the barrier at
         * once (nothing to register first); none: Node does it at the barrier. */
        char **cgroups;
        size_t n_cgroups;
        /* A user namespace ("userns fixed|pick BASE COUNT", userns.c):
         * container ids 0..COUNT-1 are host ids BASE..; with pick, BASE is
         * the first candidate and the monitor takes the first free range
         * from there. "userns-idmap-root": the tree is mounted idmapped
         * (its files' owners on disk stay as they are). "inner-ops-from N":
         * ops from N on run inside the user namespace, the ones before by
         * the outer child as real root (see child.c). */
        enum userns_mode { USERNS_NONE, USERNS_FIXED, USERNS_PICK } userns;
        uid_t uid_base, uid_count;
        bool idmap_root;
        /* "userns-chown-root": before the start the monitor shifts the tree's
         * files into the range unless its top directory already is of it
         * (userns-chown.c). "userns-prefer BASE": with pick, the range tried
         * first (the tree's owner's); has_prefer says there is one. */
        bool chown_root;
        bool has_prefer;
        uid_t uid_prefer;
        /* "userns-bind-user ID UID GID" (--bind-user): container id ID (uid
         * and gid) is the host's UID and GID instead of BASE+ID; ascending. */
        struct bind_user_map { uid_t container, uid; gid_t gid; } bind_users[BIND_USERS_MAX];
        size_t n_bind_users;
        size_t inner_ops_from;
        struct network net;     /* veth links and --port (network.h); none: no records */
        struct proc_limits limits; /* --no-new-privileges, --rlimit, ... (proc-limits.h); none: no records */
};

/* Reads a plan from fd until the "end" record. On failure returns -1 and puts
 * a message in err. */
int plan_read(int fd, struct plan *p, char *err, size_t errlen);

/* Prints the decoded plan as one JSON object (for tests of the encoding). */
void plan_dump_json(const struct plan *p, int fd);

const char *op_kind_name(enum op_kind k);
