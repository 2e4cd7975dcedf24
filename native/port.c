/* --port with nftables (port.h).
 *
 * One table a container, "inet NAME" (net-table record): removing it is
 * one command, and a table whose container is gone after a SIGKILL is
 * found by its name (Node removes those at the next start or list).
 * The table holds, for each port, DNAT rules in two hooks:
 * - prerouting: packets from elsewhere to any of the host's addresses;
 * - output: the host's own connections to its addresses, loopback
 *   included (nspawn has no rule here: systemd issues 6106, 30475).
 * A connection from loopback leaves for the container with a loopback
 * source, which the kernel would drop as martian on the veth, and the
 * guest could not answer to 127.0.0.1 anyway: the postrouting chain
 * masquerades loopback sources going out of our link, and route_localnet
 * is set on the link (per link, so it goes with it; the host's other
 * interfaces are left alone). IPv6 has no route_localnet: a ::1 source goes
 * out once masqueraded, but the guest's answer, given its ::1 destination
 * back by conntrack after the kernel's input checks, meets a route lookup
 * that matches ::1 only on the link it arrived on (loopback addresses are
 * looked up strictly, by interface) and is dropped as unroutable. A local
 * route for ::1 on our link (table local, a metric behind lo's own) lets
 * it in; it goes with the link, and is made again whenever the link comes
 * up (a down link has no IPv6 routes; networkd brings ours up later).
 * Nothing else can use it: the kernel drops any packet that arrives on a
 * non-loopback link with a ::1 source or destination before routing
 * (RFC 4291 2.5.3; counted as InHdrErrors), so only a de-NATed answer gets
 * that far.
 * Connections from outside (prerouting) are forwarded, which needs the
 * host's forwarding on (systemd-networkd's IPMasquerade= sets it; tsnspawn
 * leaves the host's sysctls alone and warns when it is off).
 * The container's addresses come from a netlink socket opened in its
 * network namespace: the first global IPv4 and IPv6 address of any link
 * but loopback, once duplicate address detection has passed it; rules are
 * rewritten (one atomic nft transaction) whenever they change. */
#define _GNU_SOURCE
#include "port.h"
#include "failure.h"
#include "netlink.h"
#include "report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const nft_paths[] = { "/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft" };

static int query_fd = -1;
/* What n->watch_fd (an epoll set, one descriptor for the monitor's poll) holds:
 * address changes in the container's namespace, link changes in the host's. */
static int addr_watch_fd = -1, link_watch_fd = -1;

/* Runs nft -f - with script on stdin; 0, or -1 with its first line of complaint in why. */
static int run_nft(const char *script, char *why, size_t whylen) {
        const char *nft = NULL;
        for (size_t i = 0; i < sizeof nft_paths / sizeof nft_paths[0] && !nft; i++)
                if (access(nft_paths[i], X_OK) == 0)
                        nft = nft_paths[i];
        if (!nft) {
                snprintf(why, whylen, "nft is not installed (apt-get install nftables)");
                return -1;
        }
        int in[2], err[2];
        if (pipe2(in, O_CLOEXEC) < 0)
                return snprintf(why, whylen, "pipe: %s", strerror(errno)), -1;
        if (pipe2(err, O_CLOEXEC) < 0) {
                close(in[0]);
                close(in[1]);
                return snprintf(why, whylen, "pipe: %s", strerror(errno)), -1;
        }
        pid_t pid = fork();
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (dup2(in[0], 0) < 0 || dup2(null, 1) < 0 || dup2(err[1], 2) < 0)
                        _exit(127);
                char *argv[] = { (char *) nft, "-f", "-", NULL };
                char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
                execve(nft, argv, envp);
                _exit(127);
        }
        close(in[0]);
        close(err[1]);
        if (pid < 0) {
                close(in[1]);
                close(err[0]);
                return snprintf(why, whylen, "fork: %s", strerror(errno)), -1;
        }
        (void) write_all(in[1], script, strlen(script));
        close(in[1]);
        char buf[512];
        size_t got = 0;
        ssize_t r;
        while ((r = read(err[0], buf + got, sizeof buf - 1 - got)) > 0 || (r < 0 && errno == EINTR))
                if (r > 0)
                        got += (size_t) r;
        close(err[0]);
        buf[got] = 0;
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        char *nl = strchr(buf, '\n');
        if (nl)
                *nl = 0;
        snprintf(why, whylen, "nft failed: %s", got ? buf : "no message");
        return -1;
}

/* Field 22 of /proc/self/stat: with the pid, names this process whatever pids are reused. */
static const char *own_start_time(void) {
        static char start[32];
        if (start[0])
                return start;
        char buf[1024];
        int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        snprintf(start, sizeof start, "0");
        if (n <= 0)
                return start;
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        /* After "(comm)": field 3 on; the start time is field 22. */
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        if (p)
                snprintf(start, sizeof start, "%.*s", (int) strcspn(p + 1, " "), p + 1);
        return start;
}

static const struct net_veth *main_link(const struct network *n) {
        for (size_t i = 0; i < n->n_links; i++)
                if (n->links[i].register_index)
                        return &n->links[i];
        return &n->links[0];
}

static void add_rules(struct strbuf *sb, const struct network *n) {
        for (size_t i = 0; i < n->n_ports; i++) {
                const struct net_port *p = &n->ports[i];
                const char *proto = p->udp ? "udp" : "tcp";
                if (n->addr4[0])
                        sb_addf(sb, "  meta nfproto ipv4 fib daddr type local %s dport %u dnat ip to %s:%u\n", proto, p->host_port, n->addr4, p->container_port);
                if (n->addr6[0])
                        sb_addf(sb, "  meta nfproto ipv6 fib daddr type local %s dport %u dnat ip6 to [%s]:%u\n", proto, p->host_port, n->addr6, p->container_port);
        }
}

static int write_table(struct network *n, char *why, size_t whylen) {
        const char *ifname = main_link(n)->host;
        struct strbuf sb = { 0 };
        /* add + delete + define: one transaction that replaces the table whether or not it was there. */
        sb_addf(&sb, "add table inet %s\ndelete table inet %s\ntable inet %s {\n", n->table, n->table, n->table);
        /* Who holds it: a table whose monitor is gone (SIGKILL) is stale (src/runtime/port-tables.ts). */
        sb_addf(&sb, " comment \"tsnspawn monitor %d %s\"\n", (int) getpid(), own_start_time());
        sb_adds(&sb, " chain prerouting {\n  type nat hook prerouting priority dstnat; policy accept;\n");
        add_rules(&sb, n);
        sb_adds(&sb, " }\n chain output {\n  type nat hook output priority -100; policy accept;\n");
        add_rules(&sb, n);
        sb_adds(&sb, " }\n chain postrouting {\n  type nat hook postrouting priority srcnat; policy accept;\n");
        sb_addf(&sb, "  oifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n  oifname \"%s\" ip6 saddr ::1 masquerade\n }\n}\n", ifname, ifname);
        int r = run_nft(sb.data, why, whylen);
        sb_free(&sb);
        if (r == 0)
                n->table_made = true;
        return r;
}

/* Connections from other hosts are forwarded to the container, which needs
 * the host's forwarding on; said once a family, never changed (the host's
 * sysctls are its administrator's, or systemd-networkd's). */
static const struct {
        const char *sysctl, *name;
} forwarding[] = {
        { "/proc/sys/net/ipv4/ip_forward", "net.ipv4.ip_forward" },
        { "/proc/sys/net/ipv6/conf/all/forwarding", "net.ipv6.conf.all.forwarding" },
};

static void warn_without_forwarding(int family_index) {
        static bool said[2];
        if (said[family_index])
                return;
        said[family_index] = true;
        char c = '1', msg[256];
        int fd = open(forwarding[family_index].sysctl, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        if (read(fd, &c, 1) == 1 && c == '0') {
                snprintf(msg, sizeof msg,
                         "--port answers only the host's own connections over %s: %s is 0 (set it, or let systemd-networkd's IPMasquerade= do so)",
                         family_index ? "IPv6" : "IPv4", forwarding[family_index].name);
                report_warning(msg, 0);
        }
        close(fd);
}

struct addr_pick {
        char a4[64], a6[64];
};

static void pick_address(struct nlmsghdr *h, void *data) {
        struct addr_pick *p = data;
        if (h->nlmsg_type != RTM_NEWADDR)
                return;
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        /* A tentative address (duplicate address detection still running)
         * drops what comes to it; the event when it settles picks it then. */
        if (ifa->ifa_scope != RT_SCOPE_UNIVERSE || (ifa->ifa_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
                return;
        int len = (int) IFA_PAYLOAD(h);
        const void *addr = NULL;
        for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == IFA_ADDRESS || (a->rta_type == IFA_LOCAL && ifa->ifa_family == AF_INET))
                        addr = RTA_DATA(a);
        if (!addr)
                return;
        char *slot = ifa->ifa_family == AF_INET ? p->a4 : ifa->ifa_family == AF_INET6 ? p->a6 : NULL;
        if (slot && !slot[0])
                inet_ntop(ifa->ifa_family, addr, slot, 64);
}

/* Picks the container's addresses afresh; rewrites the table when they changed. */
static int refresh(struct network *n, char *why, size_t whylen) {
        struct addr_pick p = { "", "" };
        struct nl_msg m;
        struct ifaddrmsg *ifa = nl_begin(&m, RTM_GETADDR, NLM_F_DUMP, sizeof *ifa);
        ifa->ifa_family = AF_UNSPEC;
        if (nl_request(query_fd, &m, pick_address, &p) < 0) {
                snprintf(why, whylen, "cannot list the container's addresses: %s", strerror(errno));
                return -1;
        }
        if (n->table_made && strcmp(p.a4, n->addr4) == 0 && strcmp(p.a6, n->addr6) == 0)
                return 0;
        snprintf(n->addr4, sizeof n->addr4, "%s", p.a4);
        snprintf(n->addr6, sizeof n->addr6, "%s", p.a6);
        if (n->addr4[0])
                warn_without_forwarding(0);
        if (n->addr6[0])
                warn_without_forwarding(1);
        return write_table(n, why, whylen);
}

/* ::1 as a local address on our link too (see the top): RTM_NEWROUTE
 * "local ::1 dev LINK table local metric 1024"; 0 also when it is there
 * already or the link is down. */
static int add_loopback6_route(int index) {
        int fd = nl_open();
        if (fd < 0)
                return -1;
        struct nl_msg m;
        struct rtmsg *rt = nl_begin(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_APPEND, sizeof *rt);
        rt->rtm_family = AF_INET6;
        rt->rtm_dst_len = 128;
        rt->rtm_table = RT_TABLE_LOCAL;
        rt->rtm_protocol = RTPROT_STATIC;
        rt->rtm_scope = RT_SCOPE_HOST;
        rt->rtm_type = RTN_LOCAL;
        nl_put(&m, RTA_DST, &in6addr_loopback, sizeof in6addr_loopback);
        nl_put_u32(&m, RTA_OIF, (uint32_t) index);
        nl_put_u32(&m, RTA_PRIORITY, 1024);
        /* APPEND: other containers' links have the same route at the same
         * metric (EXCL would refuse ours); the same one twice is EEXIST.
         * A link that is down takes no IPv6 route (and loses its routes when
         * it goes down): added again at each link event (port_on_event). */
        int r = nl_call(fd, &m) < 0 && errno != EEXIST && errno != ENETDOWN ? -1 : 0;
        int e = errno;
        close(fd);
        errno = e;
        return r;
}

static int set_route_localnet(const char *ifname) {
        char path[128];
        snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", ifname);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        int r = write(fd, "1", 1) == 1 ? 0 : -1;
        close(fd);
        return r;
}

int port_start(struct network *n, pid_t child, struct failure *f) {
        char path[64], why[600];
        /* Our children go to our own pid namespace again (see port.h). */
        int pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (pidns < 0 || setns(pidns, CLONE_NEWPID) < 0) {
                int e = errno;
                if (pidns >= 0)
                        close(pidns);
                return fail(f, "network", "port", "", e, "cannot forward ports (--port): cannot go back to our pid namespace for nft");
        }
        close(pidns);
        /* Two sockets in the container's network namespace: one that hears of address changes, one to ask. */
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) child);
        int ours = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), theirs = open(path, O_RDONLY | O_CLOEXEC);
        int watch = -1;
        if (ours >= 0 && theirs >= 0 && setns(theirs, CLONE_NEWNET) == 0) {
                watch = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
                struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
                if (watch >= 0 && bind(watch, (struct sockaddr *) &sa, sizeof sa) < 0) {
                        close(watch);
                        watch = -1;
                }
                query_fd = nl_open();
                if (setns(ours, CLONE_NEWNET) < 0) {
                        /* Cannot happen for root; going on in the wrong namespace would be worse than dying. */
                        report_error("network", "port", "", errno, "cannot return to the host's network namespace");
                        _exit(1);
                }
        }
        int e = errno;
        if (ours >= 0)
                close(ours);
        if (theirs >= 0)
                close(theirs);
        if (watch < 0 || query_fd < 0)
                return fail(f, "network", "port", path, e, "cannot forward ports (--port): cannot watch the container's addresses");
        addr_watch_fd = watch;
        link_watch_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        struct sockaddr_nl links = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
        if (link_watch_fd < 0 || bind(link_watch_fd, (struct sockaddr *) &links, sizeof links) < 0)
                return fail(f, "network", "port", main_link(n)->host, errno, "cannot forward ports (--port): cannot watch the host's links");
        n->watch_fd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN };
        if (n->watch_fd < 0 || epoll_ctl(n->watch_fd, EPOLL_CTL_ADD, addr_watch_fd, &ev) < 0 || epoll_ctl(n->watch_fd, EPOLL_CTL_ADD, link_watch_fd, &ev) < 0)
                return fail(f, "network", "port", "", errno, "cannot forward ports (--port): epoll");
        if (set_route_localnet(main_link(n)->host) < 0)
                return fail(f, "network", "port", main_link(n)->host, errno, "cannot forward ports (--port): cannot set route_localnet on %s", main_link(n)->host);
        if (add_loopback6_route(main_link(n)->host_index) < 0)
                return fail(f, "network", "port", main_link(n)->host, errno, "cannot forward ports (--port): cannot add the route for ::1 on %s",
                            main_link(n)->host);
        if (refresh(n, why, sizeof why) < 0)
                return fail(f, "network", "port", n->table, 0, "cannot forward ports (--port): %s", why);
        return 0;
}

void port_on_event(struct network *n) {
        char buf[8192], why[600];
        int fds[] = { addr_watch_fd, link_watch_fd };
        for (size_t i = 0; i < 2; i++)
                while (recv(fds[i], buf, sizeof buf, MSG_DONTWAIT) > 0 || errno == EINTR) {
                }
        /* Any link event: our link may have come up (the route needs it up). */
        if (add_loopback6_route(main_link(n)->host_index) < 0) {
                snprintf(why, sizeof why, "cannot add the route for ::1 on %s (--port from ::1)", main_link(n)->host);
                report_warning(why, errno);
        }
        if (refresh(n, why, sizeof why) < 0)
                report_warning(why, 0);
}

void port_stop(struct network *n) {
        if (n->watch_fd >= 0) {
                close(n->watch_fd);
                n->watch_fd = -1;
        }
        if (addr_watch_fd >= 0) {
                close(addr_watch_fd);
                addr_watch_fd = -1;
        }
        if (link_watch_fd >= 0) {
                close(link_watch_fd);
                link_watch_fd = -1;
        }
        if (query_fd >= 0) {
                close(query_fd);
                query_fd = -1;
        }
        if (!n->table_made)
                return;
        char script[256], why[600];
        snprintf(script, sizeof script, "delete table inet %s\n", n->table);
        if (run_nft(script, why, sizeof why) < 0)
                report_warning(why, 0);
        n->table_made = false;
}
