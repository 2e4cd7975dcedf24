/* rtnetlink requests and link dumps (netlink.h). */
#define _GNU_SOURCE
#include "netlink.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ALIGN4(n) (((n) + 3u) & ~3u)

static unsigned seq_counter;

int nl_open(void) {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return -1;
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
        }
        /* Extended ACKs would only add text we do not show; errors are errnos. */
        return fd;
}

static struct nlmsghdr *hdr(struct nl_msg *m) {
        return (struct nlmsghdr *) m->buf;
}

static void *grow(struct nl_msg *m, size_t len) {
        size_t at = m->len;
        if (m->overflow || at + ALIGN4(len) > sizeof m->buf) {
                m->overflow = true;
                return NULL;
        }
        memset(m->buf + at, 0, ALIGN4(len));
        m->len += ALIGN4(len);
        hdr(m)->nlmsg_len = (uint32_t) m->len;
        return m->buf + at;
}

void *nl_begin(struct nl_msg *m, uint16_t type, uint16_t flags, size_t hdr_len) {
        memset(m, 0, sizeof *m);
        m->len = NLMSG_HDRLEN;
        struct nlmsghdr *h = hdr(m);
        h->nlmsg_len = (uint32_t) m->len;
        h->nlmsg_type = type;
        h->nlmsg_flags = (uint16_t) (flags | NLM_F_REQUEST | NLM_F_ACK);
        h->nlmsg_seq = ++seq_counter;
        return grow(m, hdr_len);
}

void nl_put(struct nl_msg *m, uint16_t type, const void *data, size_t len) {
        struct rtattr *a = grow(m, RTA_LENGTH(len));
        if (!a)
                return;
        a->rta_type = type;
        a->rta_len = (unsigned short) RTA_LENGTH(len);
        memcpy(RTA_DATA(a), data, len);
}

void nl_put_u32(struct nl_msg *m, uint16_t type, uint32_t v) {
        nl_put(m, type, &v, sizeof v);
}

void nl_put_str(struct nl_msg *m, uint16_t type, const char *s) {
        nl_put(m, type, s, strlen(s) + 1);
}

void *nl_nest_begin(struct nl_msg *m, uint16_t type, size_t hdr_len) {
        size_t at = m->len;
        struct rtattr *a = grow(m, RTA_LENGTH(hdr_len));
        if (!a || m->depth == NL_MAX_NEST) {
                m->overflow = true;
                return NULL;
        }
        /* Marked nested: the kernel checks newer attributes (IFLA_PROP_LIST) strictly. */
        a->rta_type = (unsigned short) (type | NLA_F_NESTED);
        m->nest[m->depth++] = at;
        return RTA_DATA(a);
}

void nl_nest_end(struct nl_msg *m) {
        if (m->overflow || m->depth == 0)
                return;
        size_t at = m->nest[--m->depth];
        ((struct rtattr *) (m->buf + at))->rta_len = (unsigned short) (m->len - at);
}

static int send_msg(int fd, struct nl_msg *m) {
        if (m->overflow || m->depth != 0) {
                errno = EMSGSIZE;
                return -1;
        }
        struct sockaddr_nl to = { .nl_family = AF_NETLINK };
        ssize_t n;
        do
                n = sendto(fd, m->buf, m->len, 0, (struct sockaddr *) &to, sizeof to);
        while (n < 0 && errno == EINTR);
        return n == (ssize_t) m->len ? 0 : -1;
}

/* Reads answers to seq until the ACK/error (or, for a dump, NLMSG_DONE),
 * handing each data message to fn. */
static int receive(int fd, unsigned seq, void (*fn)(struct nlmsghdr *h, void *data), void *data) {
        static unsigned char buf[32768];
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_seq != seq)
                                continue;
                        if (h->nlmsg_type == NLMSG_DONE)
                                return 0;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                if (e->error == 0)
                                        return 0;
                                errno = -e->error;
                                return -1;
                        }
                        if (fn)
                                fn(h, data);
                }
        }
}

int nl_call(int fd, struct nl_msg *m) {
        if (send_msg(fd, m) < 0)
                return -1;
        return receive(fd, hdr(m)->nlmsg_seq, NULL, NULL);
}

int nl_request(int fd, struct nl_msg *m, void (*fn)(struct nlmsghdr *h, void *data), void *data) {
        if (send_msg(fd, m) < 0)
                return -1;
        return receive(fd, hdr(m)->nlmsg_seq, fn, data);
}

static void parse_link(struct nlmsghdr *h, struct nl_link *l) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        memset(l, 0, sizeof *l);
        l->index = ifi->ifi_index;
        int len = (int) IFLA_PAYLOAD(h);
        for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type == IFLA_IFNAME)
                        snprintf(l->name, sizeof l->name, "%.*s", (int) RTA_PAYLOAD(a), (const char *) RTA_DATA(a));
                else if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= 4)
                        memcpy(&l->master, RTA_DATA(a), 4);
                else if (a->rta_type == IFLA_LINKINFO) {
                        int ilen = (int) RTA_PAYLOAD(a);
                        for (struct rtattr *b = RTA_DATA(a); RTA_OK(b, ilen); b = RTA_NEXT(b, ilen))
                                if (b->rta_type == IFLA_INFO_KIND)
                                        snprintf(l->kind, sizeof l->kind, "%.*s", (int) RTA_PAYLOAD(b), (const char *) RTA_DATA(b));
                }
        }
}

struct dump_ctx {
        void (*fn)(const struct nl_link *l, void *data);
        void *data;
};

static void on_link(struct nlmsghdr *h, void *data) {
        struct dump_ctx *c = data;
        if (h->nlmsg_type != RTM_NEWLINK)
                return;
        struct nl_link l;
        parse_link(h, &l);
        c->fn(&l, c->data);
}

int nl_dump_links(int fd, void (*fn)(const struct nl_link *l, void *data), void *data) {
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_GETLINK, NLM_F_DUMP, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        if (send_msg(fd, &m) < 0)
                return -1;
        struct dump_ctx c = { fn, data };
        return receive(fd, hdr(&m)->nlmsg_seq, on_link, &c);
}

static void on_one(struct nlmsghdr *h, void *data) {
        if (h->nlmsg_type == RTM_NEWLINK)
                parse_link(h, data);
}

int nl_get_link(int fd, int index, struct nl_link *out) {
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_GETLINK, 0, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        if (send_msg(fd, &m) < 0)
                return -1;
        memset(out, 0, sizeof *out);
        /* The answer is the link, then (NLM_F_ACK) an ACK. */
        if (receive(fd, hdr(&m)->nlmsg_seq, on_one, out) < 0)
                return -1;
        if (out->index != index) {
                errno = ENODEV;
                return -1;
        }
        return 0;
}
