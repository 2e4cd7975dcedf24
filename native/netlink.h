/* A small rtnetlink client (NETLINK_ROUTE): requests built attribute by
 * attribute, answered by an ACK or an error, and link dumps.
 *
 * Where it runs: the monitor, in the network namespace the socket was
 * opened in (a socket stays bound to its namespace whatever the process
 * does later). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NL_BUF 4096
#define NL_MAX_NEST 4

struct nl_msg {
        unsigned char buf[NL_BUF];
        size_t len;
        size_t nest[NL_MAX_NEST];
        size_t depth;
        bool overflow;
};

/* A socket in the caller's current network namespace; -1 with errno. */
int nl_open(void);

/* A new request: nlmsghdr of type and flags (NLM_F_REQUEST|NLM_F_ACK are
 * added), then a zeroed struct ifinfomsg-sized header of hdr_len bytes the
 * caller fills through the returned pointer. */
void *nl_begin(struct nl_msg *m, uint16_t type, uint16_t flags, size_t hdr_len);
void nl_put(struct nl_msg *m, uint16_t type, const void *data, size_t len);
void nl_put_u32(struct nl_msg *m, uint16_t type, uint32_t v);
void nl_put_str(struct nl_msg *m, uint16_t type, const char *s);
/* A nested attribute; data (hdr_len bytes, e.g. VETH_INFO_PEER's ifinfomsg) may lead it. */
void *nl_nest_begin(struct nl_msg *m, uint16_t type, size_t hdr_len);
void nl_nest_end(struct nl_msg *m);

/* Sends and waits for the ACK: 0, or -1 with errno the kernel's answer. */
int nl_call(int fd, struct nl_msg *m);

struct nlmsghdr;
/* Sends and hands each answer (a dump's parts) to fn until the end: 0, or -1 with errno. */
int nl_request(int fd, struct nl_msg *m, void (*fn)(struct nlmsghdr *h, void *data), void *data);

struct nl_link {
        int index;
        int master;             /* IFLA_MASTER, 0 if none */
        char name[16];
        char kind[16];          /* IFLA_INFO_KIND ("veth", "bridge"), "" if none */
};

/* All links of the socket's namespace: calls fn for each; -1 with errno if the dump failed. */
int nl_dump_links(int fd, void (*fn)(const struct nl_link *l, void *data), void *data);
/* One link by index: 0 and *out, or -1 with errno (ENODEV: none). */
int nl_get_link(int fd, int index, struct nl_link *out);
