/* Events to Node: one JSON object a line on the control socket.
 *
 *   {"event":"pid","pid":N}                  the container's init exists (host pid)
 *   {"event":"exec"}                         init executed the payload
 *   {"event":"error","step":..,"op":..,"path":..,"errno":N,"message":..}
 *   {"event":"notify","message":..}          a datagram from /run/host/notify
 *   {"event":"exit","code":N} / {"event":"exit","signal":N}
 *   {"event":"handover","fd":N}              the supervisor's control socket is fd N in our table
 */
#pragma once

#include <stddef.h>

struct strbuf {
        char *data;
        size_t len, cap;
};

void sb_add(struct strbuf *sb, const char *s, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
void sb_add_json(struct strbuf *sb, const char *s);
void sb_free(struct strbuf *sb);

/* Writes all of buf to fd, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t n);

void report_set_fd(int fd);
void report_pid(int pid);
void report_exec(void);
void report_error(const char *step, const char *op, const char *path, int err, const char *message);
void report_notify(const char *message, size_t len);
void report_exit_code(int code);
void report_exit_signal(int sig);
void report_handover(int fd);
