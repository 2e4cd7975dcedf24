/* The monitor's system bus connection (see bus.h).
 *
 * Where we are: the monitor, host namespaces, root; called before the
 * container's init is forked (bus_connect) and from the poll loop. */
#define _GNU_SOURCE
#include "bus.h"
#include "bus-wire.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"
#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"

/* Long enough for a busy dbus-daemon, short enough that a hung one cannot stall a start for long. */
#define SETUP_TIMEOUT_SECONDS 10

enum { SERIAL_HELLO = 1, SERIAL_MATCH = 2, SERIAL_OWNER = 3 };

#define JOB_NEW_MATCH "type='signal',sender='" SYSTEMD_NAME "',interface='" SYSTEMD_NAME ".Manager',member='JobNew'"

static int send_msg(struct bus *b, const struct msg_out *m) {
        if (m->overflow) {
                errno = EMSGSIZE;
                return -1;
        }
        /* MSG_NOSIGNAL: a closed bus is an error to report, not a SIGPIPE. */
        for (size_t off = 0; off < m->len;) {
                ssize_t n = send(b->fd, m->data + off, m->len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                off += (size_t) n;
        }
        return 0;
}

static void set_name(char *dst, size_t cap, const char *src) {
        snprintf(dst, cap, "%s", src ? src : "");
}

static void answer_unknown_method(struct bus *b, const struct msg_in *in) {
        if ((in->flags & MSG_FLAG_NO_REPLY_EXPECTED) || !in->sender)
                return;
        struct msg_out out;
        msg_error(&out, ++b->serial, in->sender, in->serial, "org.freedesktop.DBus.Error.UnknownMethod");
        (void) send_msg(b, &out);
}

/* A call whose answer nobody waits for: a failure is no worse than not sending it. */
static void send_call(struct bus *b, const char *dest, const char *path, const char *iface, const char *member, const char *sig, const char *a1, const char *a2) {
        struct msg_out m;
        msg_method_call(&m, ++b->serial, dest, path, iface, member, sig, a1, a2);
        (void) send_msg(b, &m);
}

/* systemd has a (new) name on the bus. When we follow its stop jobs, it
 * must announce them to us: it sends unit and job signals only while a
 * client is subscribed, and forgets subscribers when its bus restarts. */
static void systemd_owner_is(struct bus *b, const char *owner) {
        set_name(b->systemd_owner, sizeof b->systemd_owner, owner);
        if (b->follow_stops && b->systemd_owner[0])
                send_call(b, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_NAME ".Manager", "Subscribe", NULL, NULL, NULL);
}

/* A job of systemd's for our scope: asks its type (the answer comes to handle). */
static void ask_job_type(struct bus *b, const char *job) {
        send_call(b, SYSTEMD_NAME, job, "org.freedesktop.DBus.Properties", "Get", "ss", SYSTEMD_NAME ".Job", "JobType");
        b->job_query = b->serial;
}

/* One complete message: returns BUS_STOP_REQUESTED for a RequestStop that
 * counts, or (following stop jobs) for a stop job of our scope. */
static enum bus_result handle(struct bus *b, const struct msg_in *in) {
        const char *sender = in->sender ? in->sender : "";
        switch (in->type) {
        case MSG_METHOD_RETURN:
        case MSG_ERROR:
                if (b->job_query && in->reply_serial == b->job_query) {
                        b->job_query = 0;
                        /* An error: the job is over already (the scope is gone, and init with it). */
                        if (in->type == MSG_METHOD_RETURN && in->n_args == 1 && in->args[0] &&
                            (strcmp(in->args[0], "stop") == 0 || strcmp(in->args[0], "restart") == 0))
                                return BUS_STOP_REQUESTED;
                        return BUS_OK;
                }
                if (b->awaited && in->reply_serial == b->awaited) {
                        b->awaited = 0;
                        b->reply.error = in->type == MSG_ERROR;
                        set_name(b->reply.error_name, sizeof b->reply.error_name, in->error_name);
                        set_name(b->reply.text, sizeof b->reply.text, in->n_args >= 1 ? in->args[0] : NULL);
                }
                if (in->reply_serial == SERIAL_HELLO && in->type == MSG_METHOD_RETURN && in->n_args == 1)
                        set_name(b->unique_name, sizeof b->unique_name, in->args[0]);
                else if (in->reply_serial == b->owner_query && b->owner_query) {
                        /* An error means nobody owns the name (yet): NameOwnerChanged tells us when. */
                        if (in->type == MSG_METHOD_RETURN && in->n_args == 1)
                                systemd_owner_is(b, in->args[0]);
                        b->owner_query = 0;
                }
                return BUS_OK;
        case MSG_SIGNAL:
                if (strcmp(sender, DBUS_NAME) == 0 && in->member && strcmp(in->member, "NameOwnerChanged") == 0 && in->n_args == 3 &&
                    strcmp(in->args[0], SYSTEMD_NAME) == 0) {
                        systemd_owner_is(b, in->args[2]);
                        return BUS_OK;
                }
                /* Anyone may send us a signal: only systemd's count. */
                if (!b->systemd_owner[0] || strcmp(sender, b->systemd_owner) != 0 || !in->member || !in->interface)
                        return BUS_OK;
                /* systemd sends RequestStop to a scope's controller alone, and we control one scope. */
                if (b->controller && strcmp(in->member, "RequestStop") == 0 && strcmp(in->interface, "org.freedesktop.systemd1.Scope") == 0)
                        return BUS_STOP_REQUESTED;
                /* JobNew (id, job, unit): "machinectl terminate" and "systemctl stop" make a stop job. */
                if (b->follow_stops && strcmp(in->member, "JobNew") == 0 && in->n_args == 3 && in->args[1] && in->args[2] &&
                    strcmp(in->args[2], b->unit) == 0) {
                        ask_job_type(b, in->args[1]);
                        return BUS_OK;
                }
                if (strcmp(in->member, "JobRemoved") == 0 && in->n_args == 4 && in->args[1] && in->args[3]) {
                        struct bus_job *j = &b->jobs[b->n_jobs++ % (sizeof b->jobs / sizeof b->jobs[0])];
                        set_name(j->path, sizeof j->path, in->args[1]);
                        set_name(j->result, sizeof j->result, in->args[3]);
                }
                return BUS_OK;
        case MSG_METHOD_CALL:
                answer_unknown_method(b, in);
                return BUS_OK;
        default:
                return BUS_OK;
        }
}

/* Handles every complete message in the buffer. */
static enum bus_result drain(struct bus *b) {
        enum bus_result result = BUS_OK;
        size_t at = 0;
        for (;;) {
                if (b->skip) {
                        size_t n = b->len - at < b->skip ? b->len - at : b->skip;
                        at += n;
                        b->skip -= n;
                        if (b->skip)
                                break;
                }
                long size = msg_size(b->buf + at, b->len - at);
                if (size < 0) {
                        errno = EBADMSG;
                        return BUS_CLOSED;
                }
                if (size == 0)
                        break;
                if (size > MSG_MAX_SIZE) {
                        b->skip = (size_t) size;
                        continue;
                }
                if ((size_t) size > b->len - at)
                        break;
                struct msg_in in;
                if (msg_parse(b->buf + at, (size_t) size, &in) == 0 && handle(b, &in) == BUS_STOP_REQUESTED)
                        result = BUS_STOP_REQUESTED;
                at += (size_t) size;
        }
        memmove(b->buf, b->buf + at, b->len - at);
        b->len -= at;
        return result;
}

/* A reconnect's "OK <guid>" line, once whole: 1 when taken off the buffer, 0 when not whole yet, -1 when refused. */
static int take_auth_answer(struct bus *b) {
        unsigned char *end = memmem(b->buf, b->len, "\r\n", 2);
        if (!end) {
                errno = EBADMSG;
                return b->len > 512 ? -1 : 0;
        }
        if (b->len < 3 || memcmp(b->buf, "OK ", 3) != 0) {
                errno = EACCES;
                return -1;
        }
        size_t line = (size_t) (end - b->buf) + 2;
        memmove(b->buf, b->buf + line, b->len - line);
        b->len -= line;
        b->authing = false;
        return 1;
}

enum bus_result bus_receive(struct bus *b) {
        enum bus_result result = BUS_OK;
        for (;;) {
                if (b->len == b->cap) {
                        errno = EMSGSIZE; /* cannot happen: cap > MSG_MAX_SIZE and larger ones are skipped */
                        return BUS_CLOSED;
                }
                ssize_t n = recv(b->fd, b->buf + b->len, b->cap - b->len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return result;
                if (n <= 0) {
                        if (n == 0)
                                errno = ECONNRESET;
                        return BUS_CLOSED;
                }
                b->len += (size_t) n;
                if (b->authing) {
                        int a = take_auth_answer(b);
                        if (a < 0)
                                return BUS_CLOSED;
                        if (a == 0)
                                continue;
                }
                enum bus_result r = drain(b);
                if (r == BUS_CLOSED)
                        return r;
                if (r == BUS_STOP_REQUESTED)
                        result = r;
        }
}

/* SASL EXTERNAL: the kernel tells the bus our uid; we name it (hex of
 * its decimal digits). The line starts with the NUL byte the bus expects
 * first; returns its length. */
static size_t auth_line(char *line, size_t cap) {
        char uid[16], hex[40];
        snprintf(uid, sizeof uid, "%u", (unsigned) getuid());
        for (size_t i = 0; uid[i]; i++)
                snprintf(hex + 2 * i, 3, "%02x", (unsigned char) uid[i]);
        return (size_t) snprintf(line, cap, "%cAUTH EXTERNAL %s\r\n", 0, hex);
}

static int authenticate(struct bus *b, char *err, size_t errlen) {
        char line[128];
        size_t n = auth_line(line, sizeof line);
        if (write_all(b->fd, line, n) < 0) {
                snprintf(err, errlen, "cannot send the authentication to the system bus");
                return -1;
        }
        size_t got = 0;
        while (got < sizeof line - 1 && (got < 2 || memcmp(line + got - 2, "\r\n", 2) != 0)) {
                ssize_t k = read(b->fd, line + got, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        if (k == 0)
                                errno = ECONNRESET;
                        snprintf(err, errlen, "the system bus did not answer the authentication");
                        return -1;
                }
                got += (size_t) k;
        }
        line[got] = 0;
        if (strncmp(line, "OK ", 3) != 0) {
                errno = EACCES;
                snprintf(err, errlen, "the system bus refused the authentication");
                return -1;
        }
        return 0;
}

/* The bus socket's address; -1 (ENAMETOOLONG) when the path does not fit. */
static int bus_address(const char *socket_path, struct sockaddr_un *sa, socklen_t *sa_len) {
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        if (strlen(socket_path) >= sizeof sa->sun_path) {
                errno = ENAMETOOLONG;
                return -1;
        }
        strcpy(sa->sun_path, socket_path);
        *sa_len = sizeof *sa;
        /* '@name': an abstract socket (the address's unix:abstract=). */
        if (socket_path[0] == '@') {
                sa->sun_path[0] = 0;
                *sa_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(socket_path));
        }
        return 0;
}

/* After BEGIN: Hello (our unique name: the scope's Controller), a match
 * for changes of systemd's owner, then its current owner: in this order,
 * no change between the last two is missed. Following stop jobs, a match
 * for systemd's JobNew too (Subscribe follows once systemd is there). */
static int send_setup(struct bus *b) {
        struct msg_out m;
        b->serial = SERIAL_OWNER;
        b->owner_query = SERIAL_OWNER;
        msg_method_call(&m, SERIAL_HELLO, DBUS_NAME, DBUS_PATH, DBUS_NAME, "Hello", NULL);
        if (send_msg(b, &m) < 0)
                return -1;
        msg_method_call(&m, SERIAL_MATCH, DBUS_NAME, DBUS_PATH, DBUS_NAME, "AddMatch", "s",
                        "type='signal',sender='" DBUS_NAME "',interface='" DBUS_NAME "',member='NameOwnerChanged',arg0='" SYSTEMD_NAME "'");
        if (send_msg(b, &m) < 0)
                return -1;
        msg_method_call(&m, SERIAL_OWNER, DBUS_NAME, DBUS_PATH, DBUS_NAME, "GetNameOwner", "s", SYSTEMD_NAME);
        if (send_msg(b, &m) < 0)
                return -1;
        if (b->follow_stops) {
                msg_method_call(&m, ++b->serial, DBUS_NAME, DBUS_PATH, DBUS_NAME, "AddMatch", "s", JOB_NEW_MATCH);
                if (send_msg(b, &m) < 0)
                        return -1;
        }
        return 0;
}

int bus_connect(struct bus *b, const char *socket_path, char *err, size_t errlen) {
        *b = (struct bus){ .fd = -1, .cap = MSG_MAX_SIZE + 4096 };
        struct sockaddr_un sa;
        socklen_t sa_len;
        if (bus_address(socket_path, &sa, &sa_len) < 0) {
                snprintf(err, errlen, "bad system bus socket path %s", socket_path);
                return -1;
        }
        b->buf = malloc(b->cap);
        b->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (!b->buf || b->fd < 0) {
                snprintf(err, errlen, "cannot make a socket for the system bus");
                goto fail;
        }
        struct timeval tv = { .tv_sec = SETUP_TIMEOUT_SECONDS };
        (void) setsockopt(b->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void) setsockopt(b->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(b->fd, (struct sockaddr *) &sa, sa_len) < 0) {
                snprintf(err, errlen, "cannot connect to the system bus at %s", socket_path);
                goto fail;
        }
        if (authenticate(b, err, errlen) < 0)
                goto fail;

        if (write_all(b->fd, "BEGIN\r\n", 7) < 0 || send_setup(b) < 0)
                goto send_failed;

        /* Blocking reads (with the timeout) until both answers are in. */
        while (!b->unique_name[0] || b->owner_query) {
                ssize_t n = recv(b->fd, b->buf + b->len, b->cap - b->len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0)
                                errno = ECONNRESET;
                        snprintf(err, errlen, "the system bus did not answer Hello");
                        goto fail;
                }
                b->len += (size_t) n;
                if (drain(b) == BUS_CLOSED) {
                        snprintf(err, errlen, "the system bus sent a malformed message");
                        goto fail;
                }
        }
        int flags = fcntl(b->fd, F_GETFL);
        if (flags < 0 || fcntl(b->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                snprintf(err, errlen, "cannot make the system bus socket non-blocking");
                goto fail;
        }
        return 0;
send_failed:
        snprintf(err, errlen, "cannot send to the system bus");
fail: {
        int e = errno;
        bus_close(b);
        errno = e;
        return -1;
}
}

int bus_reconnect(struct bus *b, const char *socket_path) {
        if (b->fd >= 0)
                close(b->fd);
        b->fd = -1;
        b->len = b->skip = 0;
        b->unique_name[0] = b->systemd_owner[0] = 0;
        b->awaited = b->owner_query = b->job_query = 0;
        b->n_jobs = 0;
        memset(b->jobs, 0, sizeof b->jobs);
        /* The scope's Controller stays the old connection's name, which the
         * new bus may give to anyone: its RequestStop no longer counts. */
        if (b->controller) {
                b->controller = false;
                b->follow_stops = b->unit[0] != 0;
        }
        struct sockaddr_un sa;
        socklen_t sa_len;
        if (bus_address(socket_path, &sa, &sa_len) < 0)
                return -1;
        if (!b->buf && !(b->buf = malloc(b->cap)))
                return -1;
        b->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (b->fd < 0)
                return -1;
        /* A Unix socket connects at once or not at all (EAGAIN: its backlog is full; try later). */
        char line[128];
        size_t n = auth_line(line, sizeof line);
        n += (size_t) snprintf(line + n, sizeof line - n, "BEGIN\r\n");
        if (connect(b->fd, (struct sockaddr *) &sa, sa_len) < 0 || send(b->fd, line, n, MSG_NOSIGNAL) != (ssize_t) n || send_setup(b) < 0) {
                int e = errno;
                close(b->fd);
                b->fd = -1;
                errno = e;
                return -1;
        }
        b->authing = true;
        return 0;
}

unsigned bus_next_serial(struct bus *b) {
        return ++b->serial;
}

/* Reads and handles what comes until done() or the time is up; 0 when done. */
static int wait_until(struct bus *b, bool (*done)(const struct bus *, const void *), const void *arg, int timeout_ms) {
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (!done(b, arg)) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
                if (left <= 0) {
                        errno = ETIMEDOUT;
                        return -1;
                }
                struct pollfd p = { .fd = b->fd, .events = POLLIN };
                int r = poll(&p, 1, (int) left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -1;
                /* Stop requests meanwhile are not lost: the caller's loop is not running yet, or init is gone. */
                if (r > 0 && bus_receive(b) == BUS_CLOSED)
                        return -1;
        }
        return 0;
}

static bool replied(const struct bus *b, const void *arg) {
        (void) arg;
        return b->awaited == 0;
}

int bus_call(struct bus *b, struct msg_out *m, int timeout_ms) {
        /* The serial is in the message (bytes 8..11, little endian: we wrote it). */
        b->awaited = (uint32_t) m->data[8] | (uint32_t) m->data[9] << 8 | (uint32_t) m->data[10] << 16 | (uint32_t) m->data[11] << 24;
        b->reply = (struct bus_reply){ 0 };
        if (send_msg(b, m) < 0 || wait_until(b, replied, NULL, timeout_ms) < 0) {
                int e = errno;
                b->awaited = 0;
                errno = e;
                return -1;
        }
        return 0;
}

static const struct bus_job *find_job(const struct bus *b, const char *job) {
        for (size_t i = 0; i < sizeof b->jobs / sizeof b->jobs[0]; i++)
                if (strcmp(b->jobs[i].path, job) == 0)
                        return &b->jobs[i];
        return NULL;
}

static bool job_done(const struct bus *b, const void *job) {
        return find_job(b, job) != NULL;
}

const char *bus_wait_job(struct bus *b, const char *job, int timeout_ms) {
        if (wait_until(b, job_done, job, timeout_ms) < 0)
                return NULL;
        return find_job(b, job)->result;
}

void bus_close(struct bus *b) {
        if (b->fd >= 0)
                close(b->fd);
        b->fd = -1;
        free(b->buf);
        b->buf = NULL;
        b->len = 0;
}
