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

/* One complete message: returns BUS_STOP_REQUESTED for a RequestStop that counts. */
static enum bus_result handle(struct bus *b, const struct msg_in *in) {
        const char *sender = in->sender ? in->sender : "";
        switch (in->type) {
        case MSG_METHOD_RETURN:
        case MSG_ERROR:
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
                                set_name(b->systemd_owner, sizeof b->systemd_owner, in->args[0]);
                        b->owner_query = 0;
                }
                return BUS_OK;
        case MSG_SIGNAL:
                if (strcmp(sender, DBUS_NAME) == 0 && in->member && strcmp(in->member, "NameOwnerChanged") == 0 && in->n_args == 3 &&
                    strcmp(in->args[0], SYSTEMD_NAME) == 0) {
                        set_name(b->systemd_owner, sizeof b->systemd_owner, in->args[2]);
                        return BUS_OK;
                }
                /* Anyone may send us a signal: only systemd's count. */
                if (!b->systemd_owner[0] || strcmp(sender, b->systemd_owner) != 0 || !in->member || !in->interface)
                        return BUS_OK;
                /* systemd sends RequestStop to a scope's controller alone, and we control one scope. */
                if (b->controller && strcmp(in->member, "RequestStop") == 0 && strcmp(in->interface, "org.freedesktop.systemd1.Scope") == 0)
                        return BUS_STOP_REQUESTED;
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
                enum bus_result r = drain(b);
                if (r == BUS_CLOSED)
                        return r;
                if (r == BUS_STOP_REQUESTED)
                        result = r;
        }
}

/* SASL EXTERNAL: the kernel tells the bus our uid; we name it (hex of its decimal digits). */
static int authenticate(struct bus *b, char *err, size_t errlen) {
        char uid[16], hex[40], line[128];
        snprintf(uid, sizeof uid, "%u", (unsigned) getuid());
        for (size_t i = 0; uid[i]; i++)
                snprintf(hex + 2 * i, 3, "%02x", (unsigned char) uid[i]);
        int n = snprintf(line, sizeof line, "%cAUTH EXTERNAL %s\r\n", 0, hex);
        if (write_all(b->fd, line, (size_t) n) < 0) {
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

int bus_connect(struct bus *b, const char *socket_path, char *err, size_t errlen) {
        *b = (struct bus){ .fd = -1, .cap = MSG_MAX_SIZE + 4096 };
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(socket_path) >= sizeof sa.sun_path) {
                errno = ENAMETOOLONG;
                snprintf(err, errlen, "bad system bus socket path %s", socket_path);
                return -1;
        }
        strcpy(sa.sun_path, socket_path);
        socklen_t sa_len = sizeof sa;
        /* '@name': an abstract socket (the address's unix:abstract=). */
        if (socket_path[0] == '@') {
                sa.sun_path[0] = 0;
                sa_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(socket_path));
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

        /* BEGIN, then Hello (our unique name: the scope's Controller), a
         * match for changes of systemd's owner, then its current owner: in
         * this order, no change between the last two is missed. */
        struct msg_out m;
        b->serial = SERIAL_OWNER;
        b->owner_query = SERIAL_OWNER;
        if (write_all(b->fd, "BEGIN\r\n", 7) < 0)
                goto send_failed;
        msg_method_call(&m, SERIAL_HELLO, DBUS_NAME, DBUS_PATH, DBUS_NAME, "Hello", NULL);
        if (send_msg(b, &m) < 0)
                goto send_failed;
        msg_method_call(&m, SERIAL_MATCH, DBUS_NAME, DBUS_PATH, DBUS_NAME, "AddMatch", "s",
                        "type='signal',sender='" DBUS_NAME "',interface='" DBUS_NAME "',member='NameOwnerChanged',arg0='" SYSTEMD_NAME "'");
        if (send_msg(b, &m) < 0)
                goto send_failed;
        msg_method_call(&m, SERIAL_OWNER, DBUS_NAME, DBUS_PATH, DBUS_NAME, "GetNameOwner", "s", SYSTEMD_NAME);
        if (send_msg(b, &m) < 0)
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
