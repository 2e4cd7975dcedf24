/* Events to Node: one JSON object a line on the control socket.
 *
 *   {"event":"pid","pid":N[,"registered":KIND]}  the container's init exists (host pid),
 *                                            registered (machine, unit or scope) if so (registration.h)
 *   {"event":"exec"}                         init executed the payload
 *   {"event":"error","step":..,"op":..,"path":..,"errno":N,"message":..}
 *   {"event":"notify","message":..}          a datagram from /run/host/notify
 *   {"event":"exit","code":N} / {"event":"exit","signal":N}
 *   {"event":"handover","socket":"@NAME"}    the supervisor connects to this abstract socket
 *   {"event":"stop"}                         systemd asked the scope's controller to stop it
 *   {"event":"warning","message":..}         something to tell the user; the run goes on
 *   {"event":"workdir","path":..[,"dev":"N","ino":"N"]}  an overlay work directory on the host:
 *                                            its name before it is made, then its identity once made
 *                                            (Node records it, so that whatever kills us, it is removed)
 */
#pragma once

#include <stdbool.h>
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

/* Where events go; events held meanwhile are written first. */
void report_set_fd(int fd);
/* Nobody to send to for now: events are held, in order. */
void report_hold(void);
/* uid_base: the container's root on the host under a user namespace, else -1. */
void report_pid(int pid, const char *registered, long long uid_base);
void report_stop(void);
void report_warning(const char *message, int err);
void report_exec(void);
void report_error(const char *step, const char *op, const char *path, int err, const char *message);
void report_notify(const char *message, size_t len);
void report_exit_code(int code);
void report_exit_signal(int sig);
void report_handover(const char *socket_name);
void report_workdir(const char *path, unsigned long long dev, unsigned long long ino, bool made);
