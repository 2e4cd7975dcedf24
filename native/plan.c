/* Decoding of the launch plan.
 *
 * Wire format (written by src/plan/encode.ts): one record a line, fields
 * separated by TAB, each field percent-escaped ("%25" for '%', "%09" for TAB,
 * "%0A" for newline; any byte may be escaped). The first line is
 * "tsnspawn-plan<TAB>1", the last "end". Records:
 *
 *   root PATH | root-id DEV INO (decimal: the tree's device and inode) | hostname NAME | ns uts|ipc|cgroup|net | console MODE
 *   read-only-root | no-syscall-filter | suppress-sync | as-pid2 | cwd PATH | user UID GID | group GID | caps HEX
 *   arg VALUE | env NAME=VALUE | exec PATH
 *   cgroup PATH (repeated: the monitor places init in these cgroups itself
 *                and opens the barrier at once; cgroup.c)
 *   userns fixed|pick BASE COUNT | userns-idmap-root | userns-chown-root | userns-prefer BASE | inner-ops-from N
 *       | userns-bind-user ID UID GID (plan.h)
 *   no-new-privileges | oom-score-adjust N | cpu N | rlimit NAME SOFT HARD | personality P | caps-ambient HEX
 *       (the payload's security and resource settings: proc-limits.h)
 *   syscall-allow ABI NR | syscall-deny ABI NR (--system-call-filter: syscall-rules.h)
 *   op KIND FIELDS...   (see op_table below)
 */
#include "plan.h"
#include "report.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FIELDS 8
#define MAX_PLAN_BYTES (16u << 20)

/* Positional layout of each op on the wire: which fields are strings (a..d),
 * which is the mode, the flags, the device numbers. */
struct op_layout {
        const char *name;
        enum op_kind kind;
        const char *fields; /* one letter a field: a b c d = strings, m = octal mode, f = flags, M/N = major/minor */
};

static const struct op_layout op_table[] = {
        { "mkdir", OP_MKDIR, "am" },
        { "touch", OP_TOUCH, "am" },
        { "bind", OP_BIND, "abf" },
        { "bind-inner", OP_BIND_INNER, "abf" },
        { "mount", OP_MOUNT, "abfc" },
        { "remount-ro", OP_REMOUNT_RO, "af" },
        { "symlink", OP_SYMLINK, "ab" },
        { "mknod", OP_MKNOD, "amMN" },
        { "write", OP_WRITE, "amc" },
        { "console", OP_CONSOLE, "a" },
        { "notify-socket", OP_NOTIFY_SOCKET, "a" },
        { "unlink", OP_UNLINK, "af" },
        { "copy", OP_COPY, "abmf" },
        { "overlay", OP_OVERLAY, "abd" },
};

static const struct {
        const char *word;
        unsigned flag;
} flag_table[] = {
        { "rec", F_REC },           { "ro", F_RO },         { "nosuid", F_NOSUID },
        { "nodev", F_NODEV },       { "noexec", F_NOEXEC }, { "strictatime", F_STRICTATIME },
        { "optional", F_OPTIONAL }, { "mkdir", F_MKDIR },       { "tree", F_TREE },
        { "rw", F_RW },
        { "sync", F_SYNC },         { "dirsync", F_DIRSYNC },       { "noatime", F_NOATIME },
        { "nodiratime", F_NODIRATIME }, { "relatime", F_RELATIME }, { "lazytime", F_LAZYTIME },
        { "silent", F_SILENT },     { "nosymfollow", F_NOSYMFOLLOW },
        { "own-cgroup", F_OWN_CGROUP }, { "idmap", F_IDMAP }, { "by-type", F_BY_TYPE },
        { "rootidmap", F_ROOTIDMAP }, { "owneridmap", F_OWNERIDMAP },
};

const char *op_kind_name(enum op_kind k) {
        for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
                if (op_table[i].kind == k)
                        return op_table[i].name;
        return "?";
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Unescapes in place; returns -1 on a malformed escape or an escaped NUL. */
static int unescape(char *s) {
        char *w = s;
        for (char *r = s; *r; r++) {
                if (*r != '%') {
                        *w++ = *r;
                        continue;
                }
                int hi = unhex(r[1]), lo = hi < 0 ? -1 : unhex(r[2]);
                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                        return -1;
                *w++ = (char) (hi * 16 + lo);
                r += 2;
        }
        *w = 0;
        return 0;
}

static int parse_flags(const char *s, unsigned *out) {
        *out = 0;
        if (strcmp(s, "-") == 0)
                return 0;
        char *copy = strdup(s), *save = NULL;
        if (!copy)
                return -1;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                size_t i;
                for (i = 0; i < sizeof flag_table / sizeof flag_table[0]; i++)
                        if (strcmp(w, flag_table[i].word) == 0)
                                break;
                if (i == sizeof flag_table / sizeof flag_table[0]) {
                        free(copy);
                        return -1;
                }
                *out |= flag_table[i].flag;
        }
        free(copy);
        return 0;
}

static int parse_uint(const char *s, int base, unsigned long long max, unsigned long long *out) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, base);
        if (errno || end == s || *end || v > max || s[0] == '-')
                return -1;
        *out = v;
        return 0;
}

static int push(void **arr, size_t *n, size_t size) {
        void *a = realloc(*arr, (*n + 2) * size);
        if (!a)
                return -1;
        memset((char *) a + (*n + 1) * size, 0, size);
        *arr = a;
        return 0;
}

static int decode_op(struct plan *p, char **f, size_t nf, char *err, size_t errlen) {
        const struct op_layout *lay = NULL;
        for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
                if (strcmp(f[1], op_table[i].name) == 0)
                        lay = &op_table[i];
        if (!lay) {
                snprintf(err, errlen, "unknown op '%s'", f[1]);
                return -1;
        }
        if (nf != 2 + strlen(lay->fields)) {
                snprintf(err, errlen, "op '%s' takes %zu fields, got %zu", f[1], strlen(lay->fields), nf - 2);
                return -1;
        }
        if (push((void **) &p->ops, &p->n_ops, sizeof(struct op)) < 0)
                return -1;
        struct op *o = &p->ops[p->n_ops];
        memset(o, 0, sizeof *o);
        o->kind = lay->kind;
        o->upper_fd = -1;
        for (size_t i = 0; lay->fields[i]; i++) {
                char *v = f[2 + i];
                unsigned long long n;
                switch (lay->fields[i]) {
                case 'a': o->a = strdup(v); break;
                case 'b': o->b = strdup(v); break;
                case 'c': o->c = strdup(v); break;
                case 'd': {
                        /* Layers, one a line: never more than ops.c takes. */
                        size_t layers = 1;
                        for (const char *c = v; *c; c++)
                                layers += *c == '\n';
                        if (layers > OVERLAY_MAX_LOWERS) {
                                snprintf(err, errlen, "op '%s': %zu lower layers, at most %d", f[1], layers, OVERLAY_MAX_LOWERS);
                                return -1;
                        }
                        o->d = strdup(v);
                        break;
                }
                case 'm':
                        if (parse_uint(v, 8, 0177777, &n) < 0)
                                goto bad;
                        o->mode = (mode_t) n;
                        break;
                case 'M':
                case 'N':
                        if (parse_uint(v, 10, 0xfffff, &n) < 0)
                                goto bad;
                        if (lay->fields[i] == 'M')
                                o->major = (unsigned) n;
                        else
                                o->minor = (unsigned) n;
                        break;
                case 'f':
                        if (parse_flags(v, &o->flags) < 0)
                                goto bad;
                        break;
                }
                continue;
        bad:
                snprintf(err, errlen, "op '%s': bad field %zu '%s'", f[1], i + 1, v);
                return -1;
        }
        /* Which string fields are paths that must be absolute. */
        const char *paths[2] = { NULL, NULL };
        switch (o->kind) {
        case OP_BIND:
        case OP_BIND_INNER:
        case OP_COPY: paths[0] = o->a; paths[1] = o->b; break;
        case OP_MOUNT:
        case OP_SYMLINK: paths[0] = o->b; break;
        default: paths[0] = o->a; break;
        }
        for (int i = 0; i < 2; i++)
                if (paths[i] && paths[i][0] != '/') {
                        snprintf(err, errlen, "op '%s': path '%s' is not absolute", f[1], paths[i]);
                        return -1;
                }
        p->n_ops++;
        return 0;
}

/* The words of enum console_mode and enum root_mode, in their order. */
static const char *const console_words[] = { "interactive", "read-only", "passive", "pipe" };
static const char *const root_mode_words[] = { "plain", "overlay", "volatile" };

/* The position of word in words, or -1. */
static int word_index(const char *word, const char *const words[], size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(word, words[i]) == 0)
                        return (int) i;
        return -1;
}

/* Records of one field that switch something on: the name, and the flag it sets. */
static const struct switch_layout {
        const char *name;
        size_t field;
} switch_table[] = {
        { "read-only-root", offsetof(struct plan, read_only_root) },
        { "no-syscall-filter", offsetof(struct plan, no_syscall_filter) },
        { "as-pid2", offsetof(struct plan, as_pid2) },
        { "userns-idmap-root", offsetof(struct plan, idmap_root) },
        { "userns-chown-root", offsetof(struct plan, chown_root) },
        { "suppress-sync", offsetof(struct plan, suppress_sync) },
};

static const struct switch_layout *switch_record(const char *name) {
        for (size_t i = 0; i < sizeof switch_table / sizeof switch_table[0]; i++)
                if (strcmp(name, switch_table[i].name) == 0)
                        return &switch_table[i];
        return NULL;
}

static int decode_record(struct plan *p, char **f, size_t nf, char *err, size_t errlen) {
        int reg = registration_record(&p->reg, f, nf, err, errlen);
        if (reg == 0)
                reg = network_record(&p->net, f, nf, err, errlen);
        if (reg == 0)
                reg = proc_limits_record(&p->limits, f, nf, err, errlen);
        if (reg == 0)
                reg = syscall_rules_record(&p->syscall_rules, f, nf, err, errlen);
        if (reg != 0)
                return reg < 0 ? -1 : 0;
        const char *k = f[0];
        unsigned long long n;
#define WANT(count)                                                                          \
        do {                                                                                 \
                if (nf != (count)) {                                                         \
                        snprintf(err, errlen, "record '%s' takes %d fields", k, (count) - 1); \
                        return -1;                                                           \
                }                                                                            \
        } while (0)
        if (strcmp(k, "root") == 0) {
                WANT(2);
                p->root = strdup(f[1]);
        } else if (strcmp(k, "root-id") == 0) {
                WANT(3);
                if (parse_uint(f[1], 10, ~0ULL, &p->root_dev) < 0 || parse_uint(f[2], 10, ~0ULL, &p->root_ino) < 0) {
                        snprintf(err, errlen, "bad root-id record");
                        return -1;
                }
                p->has_root_id = true;
        } else if (strcmp(k, "image-holder") == 0) {
                WANT(2);
                if (parse_uint(f[1], 10, 1u << 30, &n) < 0 || n == 0) {
                        snprintf(err, errlen, "bad image-holder record");
                        return -1;
                }
                p->image_holder = (int) n;
        } else if (strcmp(k, "listen-fds") == 0) {
                unsigned long long first, count;
                WANT(3);
                /* From 3 (a pre-forked monitor inherited them in place) or above. */
                if (parse_uint(f[1], 10, 1024, &first) < 0 || parse_uint(f[2], 10, 256, &count) < 0 || first < 3 || count == 0) {
                        snprintf(err, errlen, "bad listen-fds record");
                        return -1;
                }
                p->listen_first = (int) first;
                p->listen_count = (int) count;
        } else if (strcmp(k, "carry-fd") == 0) {
                unsigned long long fd, original;
                WANT(3);
                if (parse_uint(f[1], 10, 65535, &fd) < 0 || parse_uint(f[2], 10, 65535, &original) < 0 || fd < 3 || original < 3 ||
                    p->n_carry == sizeof p->carry / sizeof p->carry[0]) {
                        snprintf(err, errlen, "bad carry-fd record");
                        return -1;
                }
                p->carry[p->n_carry].fd = (int) fd;
                p->carry[p->n_carry++].original = (int) original;
        } else if (strcmp(k, "hostname") == 0) {
                WANT(2);
                p->hostname = strdup(f[1]);
        } else if (strcmp(k, "ns") == 0) {
                WANT(2);
                if (strcmp(f[1], "uts") == 0)
                        p->ns_uts = true;
                else if (strcmp(f[1], "ipc") == 0)
                        p->ns_ipc = true;
                else if (strcmp(f[1], "cgroup") == 0)
                        p->ns_cgroup = true;
                else if (strcmp(f[1], "net") == 0)
                        p->ns_net = true;
                else {
                        snprintf(err, errlen, "unknown namespace '%s'", f[1]);
                        return -1;
                }
        } else if (strcmp(k, "console") == 0) {
                WANT(2);
                int i = word_index(f[1], console_words, sizeof console_words / sizeof console_words[0]);
                if (i < 0) {
                        snprintf(err, errlen, "unknown console mode '%s'", f[1]);
                        return -1;
                }
                p->console = (enum console_mode) i;
        } else if (strcmp(k, "root-mode") == 0) {
                WANT(2);
                int i = word_index(f[1], root_mode_words, sizeof root_mode_words / sizeof root_mode_words[0]);
                if (i < 0) {
                        snprintf(err, errlen, "unknown root mode '%s'", f[1]);
                        return -1;
                }
                p->root_mode = (enum root_mode) i;
        } else if (strcmp(k, "pivot-root") == 0) {
                WANT(4);
                bool last = strcmp(f[1], "last") == 0;
                if ((!last && strcmp(f[1], "first") != 0) || f[2][0] != '/' || (f[3][0] && f[3][0] != '/')) {
                        snprintf(err, errlen, "bad pivot-root record");
                        return -1;
                }
                p->pivot_last = last;
                p->pivot_new = strdup(f[2]);
                p->pivot_old = f[3][0] ? strdup(f[3]) : NULL;
        } else if (strcmp(k, "tree-lock") == 0) {
                WANT(4);
                bool shared = strcmp(f[1], "shared") == 0;
                if ((!shared && strcmp(f[1], "exclusive") != 0) || f[2][0] != '/' || f[3][0] != '/') {
                        snprintf(err, errlen, "bad tree-lock record");
                        return -1;
                }
                p->lock_shared = shared;
                p->lock_local = strdup(f[2]);
                p->lock_global = strdup(f[3]);
        } else if (switch_record(k)) {
                WANT(1);
                *(bool *) ((char *) p + switch_record(k)->field) = true;
        } else if (strcmp(k, "cwd") == 0) {
                WANT(2);
                p->cwd = strdup(f[1]);
        } else if (strcmp(k, "user") == 0) {
                unsigned long long g;
                WANT(3);
                if (parse_uint(f[1], 10, 0xfffffffe, &n) < 0 || parse_uint(f[2], 10, 0xfffffffe, &g) < 0) {
                        snprintf(err, errlen, "bad user record");
                        return -1;
                }
                p->uid = (uid_t) n;
                p->gid = (gid_t) g;
        } else if (strcmp(k, "group") == 0) {
                WANT(2);
                if (parse_uint(f[1], 10, 0xfffffffe, &n) < 0 || push((void **) &p->groups, &p->n_groups, sizeof(gid_t)) < 0) {
                        snprintf(err, errlen, "bad group record");
                        return -1;
                }
                p->groups[p->n_groups++] = (gid_t) n;
        } else if (strcmp(k, "caps") == 0) {
                WANT(2);
                if (parse_uint(f[1], 16, ~0ULL, &n) < 0) {
                        snprintf(err, errlen, "bad caps record");
                        return -1;
                }
                p->caps_retain = n;
        } else if (strcmp(k, "arg") == 0) {
                WANT(2);
                if (push((void **) &p->argv, &p->n_argv, sizeof(char *)) < 0)
                        return -1;
                p->argv[p->n_argv++] = strdup(f[1]);
        } else if (strcmp(k, "env") == 0) {
                WANT(2);
                if (!strchr(f[1], '=')) {
                        snprintf(err, errlen, "env record without '='");
                        return -1;
                }
                if (push((void **) &p->envp, &p->n_envp, sizeof(char *)) < 0)
                        return -1;
                p->envp[p->n_envp++] = strdup(f[1]);
        } else if (strcmp(k, "exec") == 0) {
                WANT(2);
                p->exec_path = strdup(f[1]);
        } else if (strcmp(k, "cgroup") == 0) {
                WANT(2);
                if (f[1][0] != '/') {
                        snprintf(err, errlen, "cgroup path '%s' is not absolute", f[1]);
                        return -1;
                }
                if (push((void **) &p->cgroups, &p->n_cgroups, sizeof(char *)) < 0)
                        return -1;
                p->cgroups[p->n_cgroups++] = strdup(f[1]);
        } else if (strcmp(k, "userns") == 0) {
                unsigned long long base, count;
                WANT(4);
                /* 64K-aligned ranges inside the 32-bit id space, never touching
                 * (uid_t) -1; count at least 1 and at most 64K (nspawn's). */
                int mode = strcmp(f[1], "fixed") == 0 ? USERNS_FIXED : strcmp(f[1], "pick") == 0 ? USERNS_PICK : USERNS_NONE;
                if (mode == USERNS_NONE || parse_uint(f[2], 10, 0xfffefffful, &base) < 0 || parse_uint(f[3], 10, 0x10000, &count) < 0 ||
                    count == 0 || base + count > 0xffff0000ull) {
                        snprintf(err, errlen, "bad userns record");
                        return -1;
                }
                p->userns = (enum userns_mode) mode;
                p->uid_base = (uid_t) base;
                p->uid_count = (uid_t) count;
        } else if (strcmp(k, "userns-prefer") == 0) {
                unsigned long long base;
                WANT(2);
                if (parse_uint(f[1], 10, 0xfffefffful, &base) < 0 || base % 0x10000 != 0) {
                        snprintf(err, errlen, "bad userns-prefer record");
                        return -1;
                }
                p->has_prefer = true;
                p->uid_prefer = (uid_t) base;
        } else if (strcmp(k, "userns-bind-user") == 0) {
                unsigned long long id, uid, gid;
                WANT(4);
                if (p->n_bind_users >= BIND_USERS_MAX || parse_uint(f[1], 10, 0xffff, &id) < 0 || parse_uint(f[2], 10, 0xfffffffeul, &uid) < 0 ||
                    parse_uint(f[3], 10, 0xfffffffeul, &gid) < 0 || (p->n_bind_users > 0 && id <= p->bind_users[p->n_bind_users - 1].container)) {
                        snprintf(err, errlen, "bad userns-bind-user record (at most %d, ids ascending)", BIND_USERS_MAX);
                        return -1;
                }
                p->bind_users[p->n_bind_users++] = (struct bind_user_map) { .container = (uid_t) id, .uid = (uid_t) uid, .gid = (gid_t) gid };
        } else if (strcmp(k, "inner-ops-from") == 0) {
                WANT(2);
                if (parse_uint(f[1], 10, 1u << 20, &n) < 0) {
                        snprintf(err, errlen, "bad inner-ops-from record");
                        return -1;
                }
                p->inner_ops_from = (size_t) n;
        } else if (strcmp(k, "op") == 0) {
                if (nf < 2) {
                        snprintf(err, errlen, "op record without a kind");
                        return -1;
                }
                return decode_op(p, f, nf, err, errlen);
        } else {
                snprintf(err, errlen, "unknown record '%s'", k);
                return -1;
        }
#undef WANT
        return 0;
}

static int decode_line(struct plan *p, char *line, bool *done, bool first, char *err, size_t errlen) {
        char *f[MAX_FIELDS + 2];
        size_t nf = 0;
        for (char *s = line;;) {
                if (nf == MAX_FIELDS + 1) {
                        snprintf(err, errlen, "too many fields");
                        return -1;
                }
                f[nf++] = s;
                char *tab = strchr(s, '\t');
                if (!tab)
                        break;
                *tab = 0;
                s = tab + 1;
        }
        for (size_t i = 0; i < nf; i++)
                if (unescape(f[i]) < 0) {
                        snprintf(err, errlen, "bad escape in field %zu", i);
                        return -1;
                }
        if (first) {
                if (nf != 2 || strcmp(f[0], "tsnspawn-plan") != 0 || strcmp(f[1], "1") != 0) {
                        snprintf(err, errlen, "not a version 1 plan");
                        return -1;
                }
                return 0;
        }
        if (nf == 1 && strcmp(f[0], "end") == 0) {
                *done = true;
                return 0;
        }
        return decode_record(p, f, nf, err, errlen);
}

int plan_read(int fd, struct plan *p, char *err, size_t errlen) {
        /* Node writes the plan and then waits for our "pid" event before it
         * sends anything else, so whole chunks can be read: any byte after
         * "end" is a protocol error. */
        struct strbuf buf = { 0 };
        size_t start = 0, lineno = 0;
        bool done = false;
        memset(p, 0, sizeof *p);
        p->console = CONSOLE_PIPE;
        proc_limits_init(&p->limits);
        while (!done) {
                char chunk[8192];
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        snprintf(err, errlen, "plan ended before its 'end' record");
                        sb_free(&buf);
                        return -1;
                }
                sb_add(&buf, chunk, (size_t) n);
                if (buf.len > MAX_PLAN_BYTES) {
                        snprintf(err, errlen, "plan too large");
                        sb_free(&buf);
                        return -1;
                }
                char *nl;
                while (!done && (nl = memchr(buf.data + start, '\n', buf.len - start))) {
                        *nl = 0;
                        char lerr[256];
                        if (decode_line(p, buf.data + start, &done, lineno == 0, lerr, sizeof lerr) < 0) {
                                snprintf(err, errlen, "plan line %zu: %s", lineno + 1, lerr);
                                sb_free(&buf);
                                return -1;
                        }
                        lineno++;
                        start = (size_t) (nl - buf.data) + 1;
                }
        }
        bool trailing = start != buf.len;
        sb_free(&buf);
        if (trailing) {
                snprintf(err, errlen, "data after the plan's 'end' record");
                return -1;
        }
        if (registration_check(&p->reg, err, errlen) < 0 || network_check(&p->net, err, errlen) < 0)
                return -1;
        if (!p->root || !p->has_root_id || !p->exec_path || p->n_argv == 0) {
                snprintf(err, errlen, "plan lacks root, root-id, exec or arg records");
                return -1;
        }
        if (p->userns == USERNS_NONE ? p->inner_ops_from != 0 || p->idmap_root || p->chown_root || p->has_prefer : p->inner_ops_from > p->n_ops) {
                snprintf(err, errlen, "inner-ops-from, userns-idmap-root, userns-chown-root or userns-prefer without a fitting userns record");
                return -1;
        }
        if (p->n_bind_users > 0 && (p->userns == USERNS_NONE || p->bind_users[p->n_bind_users - 1].container >= p->uid_count)) {
                snprintf(err, errlen, "userns-bind-user outside the userns record's range");
                return -1;
        }
        if (p->idmap_root && p->chown_root) {
                snprintf(err, errlen, "userns-idmap-root and userns-chown-root together");
                return -1;
        }
        if (p->chown_root && p->uid_count != 0x10000) {
                snprintf(err, errlen, "userns-chown-root needs a whole 64K range");
                return -1;
        }
        if (p->userns == USERNS_NONE)
                p->inner_ops_from = p->n_ops;
        return 0;
}

static void dump_strv(struct strbuf *sb, const char *name, char **v, size_t n) {
        sb_addf(sb, ",\"%s\":[", name);
        for (size_t i = 0; i < n; i++) {
                if (i)
                        sb_adds(sb, ",");
                sb_add_json(sb, v[i]);
        }
        sb_adds(sb, "]");
}

void plan_dump_json(const struct plan *p, int fd) {
        struct strbuf sb = { 0 };
        sb_adds(&sb, "{\"root\":");
        sb_add_json(&sb, p->root);
        sb_addf(&sb, ",\"rootId\":{\"dev\":\"%llu\",\"ino\":\"%llu\"}", p->root_dev, p->root_ino);
        if (p->image_holder > 0)
                sb_addf(&sb, ",\"imageHolder\":%d", p->image_holder);
        sb_adds(&sb, ",\"hostname\":");
        sb_add_json(&sb, p->hostname);
        registration_dump_json(&p->reg, &sb);
        network_dump_json(&p->net, &sb);
        proc_limits_dump_json(&p->limits, &sb);
        syscall_rules_dump_json(&p->syscall_rules, &sb);
        if (p->listen_count)
                sb_addf(&sb, ",\"listenFds\":{\"first\":%d,\"count\":%d}", p->listen_first, p->listen_count);
        for (size_t i = 0; i < p->n_carry; i++)
                sb_addf(&sb, "%s{\"fd\":%d,\"original\":%d}%s", i ? "," : ",\"carryFds\":[", p->carry[i].fd, p->carry[i].original, i + 1 == p->n_carry ? "]" : "");
        sb_addf(&sb, ",\"ns\":{\"uts\":%s,\"ipc\":%s,\"cgroup\":%s,\"net\":%s}", p->ns_uts ? "true" : "false",
                p->ns_ipc ? "true" : "false", p->ns_cgroup ? "true" : "false", p->ns_net ? "true" : "false");
        sb_addf(&sb, ",\"console\":\"%s\",\"readOnlyRoot\":%s,\"syscallFilter\":%s,\"asPid2\":%s,\"rootMode\":\"%s\",\"suppressSync\":%s,\"cwd\":", console_words[p->console],
                p->read_only_root ? "true" : "false", p->no_syscall_filter ? "false" : "true", p->as_pid2 ? "true" : "false", root_mode_words[p->root_mode],
                p->suppress_sync ? "true" : "false");
        sb_add_json(&sb, p->cwd);
        if (p->pivot_new) {
                sb_adds(&sb, ",\"pivotRoot\":{\"newRoot\":");
                sb_add_json(&sb, p->pivot_new);
                if (p->pivot_old) {
                        sb_adds(&sb, ",\"oldRoot\":");
                        sb_add_json(&sb, p->pivot_old);
                }
                sb_addf(&sb, ",\"order\":\"%s\"}", p->pivot_last ? "last" : "first");
        }
        if (p->lock_local) {
                sb_addf(&sb, ",\"treeLock\":{\"mode\":\"%s\",\"local\":", p->lock_shared ? "shared" : "exclusive");
                sb_add_json(&sb, p->lock_local);
                sb_adds(&sb, ",\"global\":");
                sb_add_json(&sb, p->lock_global);
                sb_adds(&sb, "}");
        }
        sb_addf(&sb, ",\"uid\":%u,\"gid\":%u,\"groups\":[", (unsigned) p->uid, (unsigned) p->gid);
        for (size_t i = 0; i < p->n_groups; i++)
                sb_addf(&sb, "%s%u", i ? "," : "", (unsigned) p->groups[i]);
        sb_addf(&sb, "],\"caps\":\"%llx\",\"exec\":", (unsigned long long) p->caps_retain);
        sb_add_json(&sb, p->exec_path);
        dump_strv(&sb, "argv", p->argv, p->n_argv);
        dump_strv(&sb, "env", p->envp, p->n_envp);
        dump_strv(&sb, "cgroups", p->cgroups, p->n_cgroups);
        if (p->userns != USERNS_NONE) {
                sb_addf(&sb, ",\"userns\":{\"mode\":\"%s\",\"base\":%u,\"count\":%u,\"idmapRoot\":%s,\"chownRoot\":%s,\"innerOpsFrom\":%zu",
                        p->userns == USERNS_PICK ? "pick" : "fixed", (unsigned) p->uid_base, (unsigned) p->uid_count,
                        p->idmap_root ? "true" : "false", p->chown_root ? "true" : "false", p->inner_ops_from);
                if (p->has_prefer)
                        sb_addf(&sb, ",\"prefer\":%u", (unsigned) p->uid_prefer);
                if (p->n_bind_users > 0) {
                        sb_addf(&sb, ",\"bindUsers\":[");
                        for (size_t i = 0; i < p->n_bind_users; i++)
                                sb_addf(&sb, "%s{\"container\":%u,\"uid\":%u,\"gid\":%u}", i ? "," : "", (unsigned) p->bind_users[i].container,
                                        (unsigned) p->bind_users[i].uid, (unsigned) p->bind_users[i].gid);
                        sb_addf(&sb, "]");
                }
                sb_addf(&sb, "}");
        }
        sb_adds(&sb, ",\"ops\":[");
        for (size_t i = 0; i < p->n_ops; i++) {
                const struct op *o = &p->ops[i];
                sb_addf(&sb, "%s{\"kind\":\"%s\"", i ? "," : "", op_kind_name(o->kind));
                const char *names[] = { "a", "b", "c", "d" };
                const char *vals[] = { o->a, o->b, o->c, o->d };
                for (int j = 0; j < 4; j++)
                        if (vals[j]) {
                                sb_addf(&sb, ",\"%s\":", names[j]);
                                sb_add_json(&sb, vals[j]);
                        }
                sb_addf(&sb, ",\"flags\":%u,\"mode\":%u,\"major\":%u,\"minor\":%u}", o->flags, (unsigned) o->mode,
                        o->major, o->minor);
        }
        sb_adds(&sb, "]}\n");
        (void) write_all(fd, sb.data, sb.len);
        sb_free(&sb);
}
