#include "failure.h"
#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fail(struct failure *f, const char *step, const char *op, const char *path, int err, const char *fmt, ...) {
        f->step = step;
        f->op = op ? op : "";
        snprintf(f->path, sizeof f->path, "%s", path ? path : "");
        f->err = err;
        f->message[0] = 0;
        if (fmt) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(f->message, sizeof f->message, fmt, ap);
                va_end(ap);
        }
        return -1;
}

/* Wire: step NUL op NUL path NUL errno-decimal NUL message NUL. The pipe is
 * only ever written once, by a child about to _exit, and is far below
 * PIPE_BUF-sized concerns because the reader drains until EOF. */
void failure_send(int fd, const struct failure *f) {
        struct strbuf sb = { 0 };
        char num[16];
        snprintf(num, sizeof num, "%d", f->err);
        const char *parts[] = { f->step ? f->step : "", f->op ? f->op : "", f->path, num, f->message };
        for (size_t i = 0; i < 5; i++)
                sb_add(&sb, parts[i], strlen(parts[i]) + 1);
        (void) write_all(fd, sb.data, sb.len);
        sb_free(&sb);
}

int failure_receive_and_report(int fd) {
        struct strbuf sb = { 0 };
        char buf[4096];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                sb_add(&sb, buf, (size_t) n);
        }
        if (sb.len == 0)
                return 0;
        const char *parts[5] = { "", "", "", "0", "" };
        size_t off = 0;
        for (size_t i = 0; i < 5 && off < sb.len; i++) {
                parts[i] = sb.data + off;
                off += strlen(sb.data + off) + 1;
        }
        report_error(parts[0], parts[1], parts[2], atoi(parts[3]), parts[4][0] ? parts[4] : NULL);
        sb_free(&sb);
        return 1;
}
