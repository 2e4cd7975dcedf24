#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int report_fd = -1;

void sb_add(struct strbuf *sb, const char *s, size_t n) {
        if (sb->len + n + 1 > sb->cap) {
                size_t cap = sb->cap ? sb->cap * 2 : 256;
                while (cap < sb->len + n + 1)
                        cap *= 2;
                char *d = realloc(sb->data, cap);
                if (!d)
                        abort();
                sb->data = d;
                sb->cap = cap;
        }
        memcpy(sb->data + sb->len, s, n);
        sb->len += n;
        sb->data[sb->len] = 0;
}

void sb_adds(struct strbuf *sb, const char *s) {
        sb_add(sb, s, strlen(s));
}

void sb_addf(struct strbuf *sb, const char *fmt, ...) {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        sb_add(sb, buf, (size_t) n < sizeof buf ? (size_t) n : sizeof buf - 1);
}

void sb_add_json(struct strbuf *sb, const char *s) {
        sb_add(sb, "\"", 1);
        if (s) {
                for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                        if (*p == '"' || *p == '\\') {
                                char esc[2] = { '\\', (char) *p };
                                sb_add(sb, esc, 2);
                        } else if (*p < 0x20 || *p == 0x7f)
                                sb_addf(sb, "\\u%04x", *p);
                        else
                                sb_add(sb, (const char *) p, 1);
                }
        }
        sb_add(sb, "\"", 1);
}

void sb_free(struct strbuf *sb) {
        free(sb->data);
        sb->data = NULL;
        sb->len = sb->cap = 0;
}

int write_all(int fd, const void *buf, size_t n) {
        const char *p = buf;
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Events while nobody is attached (between the handover and the
 * supervisor's connect): kept in order until report_set_fd. */
static struct strbuf held;

void report_set_fd(int fd) {
        report_fd = fd;
        if (fd >= 0 && held.len) {
                (void) write_all(fd, held.data, held.len);
                sb_free(&held);
        }
}

void report_hold(void) {
        report_fd = -1;
}

static void emit(struct strbuf *sb) {
        sb_add(sb, "}\n", 2);
        /* Node going away is handled by PR_SET_PDEATHSIG; a failed write here
         * has nobody left to tell. */
        if (report_fd >= 0)
                (void) write_all(report_fd, sb->data, sb->len);
        else
                sb_add(&held, sb->data, sb->len);
        sb_free(sb);
}

void report_pid(int pid, const char *registered, long long uid_base) {
        struct strbuf sb = { 0 };
        sb_addf(&sb, "{\"event\":\"pid\",\"pid\":%d", pid);
        if (uid_base >= 0)
                sb_addf(&sb, ",\"uidBase\":%lld", uid_base);
        if (registered) {
                sb_adds(&sb, ",\"registered\":");
                sb_add_json(&sb, registered);
        }
        emit(&sb);
}

void report_stop(void) {
        struct strbuf sb = { 0 };
        sb_adds(&sb, "{\"event\":\"stop\"");
        emit(&sb);
}

void report_warning(const char *message, int err) {
        struct strbuf sb = { 0 }, m = { 0 };
        sb_adds(&m, message);
        if (err) {
                sb_adds(&m, ": ");
                sb_adds(&m, strerror(err));
        }
        sb_adds(&sb, "{\"event\":\"warning\",\"message\":");
        sb_add_json(&sb, m.data);
        sb_free(&m);
        emit(&sb);
}

void report_exec(void) {
        struct strbuf sb = { 0 };
        sb_adds(&sb, "{\"event\":\"exec\"");
        emit(&sb);
}

void report_error(const char *step, const char *op, const char *path, int err, const char *message) {
        struct strbuf sb = { 0 };
        sb_adds(&sb, "{\"event\":\"error\",\"step\":");
        sb_add_json(&sb, step);
        sb_adds(&sb, ",\"op\":");
        sb_add_json(&sb, op ? op : "");
        sb_adds(&sb, ",\"path\":");
        sb_add_json(&sb, path ? path : "");
        sb_addf(&sb, ",\"errno\":%d,\"message\":", err);
        /* The message names the step and object; strerror says why. */
        struct strbuf m = { 0 };
        sb_adds(&m, message && *message ? message : "failed");
        if (err) {
                sb_adds(&m, ": ");
                sb_adds(&m, strerror(err));
        }
        sb_add_json(&sb, m.data);
        sb_free(&m);
        emit(&sb);
}

void report_notify(const char *message, size_t len) {
        char *copy = strndup(message, len);
        if (!copy)
                return;
        struct strbuf sb = { 0 };
        sb_adds(&sb, "{\"event\":\"notify\",\"message\":");
        sb_add_json(&sb, copy);
        free(copy);
        emit(&sb);
}

void report_exit_code(int code) {
        struct strbuf sb = { 0 };
        sb_addf(&sb, "{\"event\":\"exit\",\"code\":%d", code);
        emit(&sb);
}

void report_exit_signal(int sig) {
        struct strbuf sb = { 0 };
        sb_addf(&sb, "{\"event\":\"exit\",\"signal\":%d", sig);
        emit(&sb);
}

void report_handover(const char *socket_name) {
        struct strbuf sb = { 0 };
        sb_adds(&sb, "{\"event\":\"handover\",\"socket\":");
        sb_add_json(&sb, socket_name);
        emit(&sb);
}

void report_workdir(const char *path, unsigned long long dev, unsigned long long ino, bool made) {
        struct strbuf sb = { 0 };
        sb_adds(&sb, "{\"event\":\"workdir\",\"path\":");
        sb_add_json(&sb, path);
        /* Strings: an inode number may not fit a JSON number's 53 bits. */
        if (made)
                sb_addf(&sb, ",\"dev\":\"%llu\",\"ino\":\"%llu\"", dev, ino);
        emit(&sb);
}
