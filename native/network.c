/* The container's veth links, bridges and zones (network.h). */
#define _GNU_SOURCE
#include "network.h"
#include "failure.h"
#include "netlink.h"
#include "port.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/* nspawn's lock around making, joining and removing zone bridges: taking
 * the same one keeps tsnspawn and systemd-nspawn from removing a bridge the
 * other is about to join. */
#define ZONE_LOCK_DIR "/run/systemd"
#define ZONE_LOCK ZONE_LOCK_DIR "/nspawn-network-zone"
#define ZONE_PREFIX "vz-"

static const char *const attach_words[] = { [NET_ATTACH_NONE] = "none", [NET_ATTACH_BRIDGE] = "bridge", [NET_ATTACH_ZONE] = "zone" };

static int parse_mac(const char *s, unsigned char mac[6]) {
        unsigned v[6];
        char end;
        if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6 || strlen(s) != 17)
                return -1;
        for (int i = 0; i < 6; i++)
                mac[i] = (unsigned char) v[i];
        return 0;
}

static bool ifname_ok(const char *s) {
        size_t n = strlen(s);
        return n > 0 && n < IFNAMSIZ && !strpbrk(s, "/: \t\n%");
}

static int bad(char *err, size_t errlen, const char *k, const char *what) {
        snprintf(err, errlen, "bad %s record: %s", k, what);
        return -1;
}

static int port_number(const char *s, unsigned *out) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (!*s || *end || v < 1 || v > 65535)
                return -1;
        *out = (unsigned) v;
        return 0;
}

int network_record(struct network *n, char **f, size_t nf, char *err, size_t errlen) {
        const char *k = f[0];
        if (strcmp(k, "net-veth") == 0) {
                if (nf != 8 && !(nf == 9 && strcmp(f[8], "register") == 0))
                        return bad(err, errlen, k, "takes HOST ALTNAME HOSTMAC CONTAINER CONTAINERMAC ATTACH BRIDGE [register]");
                struct net_veth v = { .host_index = 0 };
                int a = -1;
                for (int i = 0; i < 3; i++)
                        if (strcmp(f[6], attach_words[i]) == 0)
                                a = i;
                if (!ifname_ok(f[1]) || !ifname_ok(f[4]) || parse_mac(f[3], v.host_mac) < 0 || parse_mac(f[5], v.container_mac) < 0 || a < 0 ||
                    (a != NET_ATTACH_NONE) != (strcmp(f[7], "-") != 0) || (a != NET_ATTACH_NONE && !ifname_ok(f[7])))
                        return bad(err, errlen, k, "a link name, MAC address or attachment is not valid");
                struct net_veth *links = realloc(n->links, (n->n_links + 1) * sizeof *links);
                if (!links)
                        return bad(err, errlen, k, "out of memory");
                n->links = links;
                v.host = strdup(f[1]);
                v.alt_name = strcmp(f[2], "-") == 0 ? NULL : strdup(f[2]);
                v.container = strdup(f[4]);
                v.attach = (enum net_attach) a;
                v.bridge = a == NET_ATTACH_NONE ? NULL : strdup(f[7]);
                v.register_index = nf == 9;
                n->links[n->n_links++] = v;
                return 1;
        }
        if (strcmp(k, "net-move") == 0) {
                if (nf != 2 || !ifname_ok(f[1]))
                        return bad(err, errlen, k, "takes NAME, a link name");
                char **moved = realloc(n->moved, (n->n_moved + 1) * sizeof *moved);
                if (!moved)
                        return bad(err, errlen, k, "out of memory");
                n->moved = moved;
                n->moved[n->n_moved++] = strdup(f[1]);
                return 1;
        }
        if (strcmp(k, "net-vlan") == 0) {
                struct net_vlan v = { .made = false };
                bool mac = nf == 6 && strcmp(f[1], "macvlan") == 0;
                if (nf != 6 || (!mac && strcmp(f[1], "ipvlan") != 0) || !ifname_ok(f[2]) || !ifname_ok(f[3]) ||
                    (mac ? parse_mac(f[5], v.mac) < 0 : strcmp(f[5], "-") != 0))
                        return bad(err, errlen, k, "takes macvlan|ipvlan PARENT NAME ALTNAME MAC (MAC \"-\" for ipvlan)");
                struct net_vlan *vlans = realloc(n->vlans, (n->n_vlans + 1) * sizeof *vlans);
                if (!vlans)
                        return bad(err, errlen, k, "out of memory");
                n->vlans = vlans;
                v.kind = mac ? NET_VLAN_MACVLAN : NET_VLAN_IPVLAN;
                v.parent = strdup(f[2]);
                v.name = strdup(f[3]);
                v.alt_name = strcmp(f[4], "-") == 0 ? NULL : strdup(f[4]);
                n->vlans[n->n_vlans++] = v;
                return 1;
        }
        if (strcmp(k, "net-join") == 0) {
                if (nf != 2 || f[1][0] != '/' || n->join)
                        return bad(err, errlen, k, "takes PATH, an absolute path, once");
                n->join = strdup(f[1]);
                return 1;
        }
        if (strcmp(k, "net-port") == 0) {
                struct net_port p;
                if (nf != 4 || (strcmp(f[1], "tcp") != 0 && strcmp(f[1], "udp") != 0) || port_number(f[2], &p.host_port) < 0 ||
                    port_number(f[3], &p.container_port) < 0)
                        return bad(err, errlen, k, "takes tcp|udp HOSTPORT CONTAINERPORT");
                p.udp = strcmp(f[1], "udp") == 0;
                struct net_port *ports = realloc(n->ports, (n->n_ports + 1) * sizeof *ports);
                if (!ports)
                        return bad(err, errlen, k, "out of memory");
                n->ports = ports;
                n->ports[n->n_ports++] = p;
                return 1;
        }
        if (strcmp(k, "net-table") == 0) {
                if (nf != 2 || !f[1][0] || strspn(f[1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(f[1]))
                        return bad(err, errlen, k, "takes NAME (letters, digits, '-', '_', '.')");
                free(n->table);
                n->table = strdup(f[1]);
                return 1;
        }
        return 0;
}

bool network_has_links(const struct network *n) {
        return n->n_links > 0 || n->n_moved > 0 || n->n_vlans > 0;
}

int network_check(const struct network *n, char *err, size_t errlen) {
        if (n->n_ports > 0 && (!n->table || n->n_links == 0)) {
                snprintf(err, errlen, "net-port records need a net-table record and a net-veth record");
                return -1;
        }
        if (n->join && network_has_links(n)) {
                snprintf(err, errlen, "a net-join record goes with no link records");
                return -1;
        }
        return 0;
}

static void dump_mac(struct strbuf *sb, const char *name, const unsigned char m[6]) {
        sb_addf(sb, ",\"%s\":\"%02x:%02x:%02x:%02x:%02x:%02x\"", name, m[0], m[1], m[2], m[3], m[4], m[5]);
}

void network_dump_json(const struct network *n, struct strbuf *sb) {
        if (n->n_links == 0 && n->n_ports == 0 && n->n_moved == 0 && n->n_vlans == 0 && !n->join)
                return;
        sb_adds(sb, ",\"network\":{\"links\":[");
        for (size_t i = 0; i < n->n_links; i++) {
                const struct net_veth *v = &n->links[i];
                sb_adds(sb, i ? ",{\"host\":" : "{\"host\":");
                sb_add_json(sb, v->host);
                if (v->alt_name) {
                        sb_adds(sb, ",\"altName\":");
                        sb_add_json(sb, v->alt_name);
                }
                dump_mac(sb, "hostMac", v->host_mac);
                sb_adds(sb, ",\"container\":");
                sb_add_json(sb, v->container);
                dump_mac(sb, "containerMac", v->container_mac);
                if (v->bridge) {
                        sb_addf(sb, ",\"attach\":{\"kind\":\"%s\",\"bridge\":", attach_words[v->attach]);
                        sb_add_json(sb, v->bridge);
                        sb_adds(sb, "}");
                }
                sb_addf(sb, ",\"register\":%s}", v->register_index ? "true" : "false");
        }
        sb_adds(sb, "],\"moved\":[");
        for (size_t i = 0; i < n->n_moved; i++) {
                sb_adds(sb, i ? "," : "");
                sb_add_json(sb, n->moved[i]);
        }
        sb_adds(sb, "],\"vlans\":[");
        for (size_t i = 0; i < n->n_vlans; i++) {
                const struct net_vlan *v = &n->vlans[i];
                sb_addf(sb, "%s{\"kind\":\"%s\",\"parent\":", i ? "," : "", v->kind == NET_VLAN_MACVLAN ? "macvlan" : "ipvlan");
                sb_add_json(sb, v->parent);
                sb_adds(sb, ",\"name\":");
                sb_add_json(sb, v->name);
                if (v->alt_name) {
                        sb_adds(sb, ",\"altName\":");
                        sb_add_json(sb, v->alt_name);
                }
                if (v->kind == NET_VLAN_MACVLAN)
                        dump_mac(sb, "mac", v->mac);
                sb_adds(sb, "}");
        }
        sb_adds(sb, "],\"ports\":[");
        for (size_t i = 0; i < n->n_ports; i++)
                sb_addf(sb, "%s{\"protocol\":\"%s\",\"hostPort\":%u,\"containerPort\":%u}", i ? "," : "", n->ports[i].udp ? "udp" : "tcp",
                        n->ports[i].host_port, n->ports[i].container_port);
        sb_adds(sb, "]");
        if (n->table) {
                sb_adds(sb, ",\"table\":");
                sb_add_json(sb, n->table);
        }
        if (n->join) {
                sb_adds(sb, ",\"join\":");
                sb_add_json(sb, n->join);
        }
        sb_adds(sb, "}");
}

void network_child_ready(int ready_fd) {
        if (ready_fd < 0)
                return;
        (void) write(ready_fd, "n", 1);
        close(ready_fd);
}

/* ---- the zone lock ---- */

/* Held for making or joining a zone's bridge and for removing an empty
 * one. nspawn removes the lock file when it lets go, so a descriptor whose
 * file was unlinked meanwhile is opened again. */
static int zone_lock(void) {
        (void) mkdir(ZONE_LOCK_DIR, 0755);
        for (int tries = 0; tries < 100; tries++) {
                int fd = open(ZONE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -1;
                struct stat st;
                if (flock(fd, LOCK_EX) == 0 && fstat(fd, &st) == 0 && st.st_nlink > 0)
                        return fd;
                close(fd);
        }
        errno = EDEADLK;
        return -1;
}

static void zone_unlock(int fd) {
        if (fd >= 0)
                close(fd);
}

/* ---- links ---- */

struct bridge_scan {
        int index[64];
        char name[64][IFNAMSIZ];
        int members[64];
        size_t n;
        const char *keep;       /* the zone about to be joined: not swept */
};

static void scan_bridges(const struct nl_link *l, void *data) {
        struct bridge_scan *s = data;
        if (strcmp(l->kind, "bridge") == 0 && strncmp(l->name, ZONE_PREFIX, strlen(ZONE_PREFIX)) == 0 && s->n < 64) {
                s->index[s->n] = l->index;
                snprintf(s->name[s->n], IFNAMSIZ, "%s", l->name);
                s->members[s->n++] = 0;
        }
}

static void count_members(const struct nl_link *l, void *data) {
        struct bridge_scan *s = data;
        for (size_t i = 0; i < s->n; i++)
                if (l->master == s->index[i])
                        s->members[i]++;
}

static int delete_link(int fd, int index) {
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_DELLINK, 0, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        return nl_call(fd, &m);
}

/* Zone bridges without members (left by a container whose manager was
 * killed: its veth went with the namespace, the bridge stayed). Called
 * with the zone lock held, so no bridge here is between being made and
 * being joined. only: just that bridge (a zone's last member leaving). */
static void remove_empty_zones(int fd, const char *only, const char *keep) {
        struct bridge_scan s = { .n = 0, .keep = keep };
        if (nl_dump_links(fd, scan_bridges, &s) < 0 || (s.n > 0 && nl_dump_links(fd, count_members, &s) < 0))
                return;
        for (size_t i = 0; i < s.n; i++) {
                if (s.members[i] > 0 || (only && strcmp(s.name[i], only) != 0) || (keep && strcmp(s.name[i], keep) == 0))
                        continue;
                if (delete_link(fd, s.index[i]) < 0 && errno != ENODEV) {
                        char msg[128];
                        snprintf(msg, sizeof msg, "cannot remove the empty zone bridge %s", s.name[i]);
                        report_warning(msg, errno);
                }
        }
}

static void set_link_flags(struct ifinfomsg *ifi, unsigned flags) {
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_flags = flags;
        ifi->ifi_change = flags;
}

static int make_veth(int fd, const struct net_veth *v, pid_t child) {
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        nl_put_str(&m, IFLA_IFNAME, v->host);
        nl_put(&m, IFLA_ADDRESS, v->host_mac, 6);
        nl_nest_begin(&m, IFLA_LINKINFO, 0);
        nl_put_str(&m, IFLA_INFO_KIND, "veth");
        nl_nest_begin(&m, IFLA_INFO_DATA, 0);
        /* The peer's attributes follow an ifinfomsg of its own. */
        struct ifinfomsg *peer = nl_nest_begin(&m, VETH_INFO_PEER, sizeof(struct ifinfomsg));
        if (peer)
                peer->ifi_family = AF_UNSPEC;
        nl_put_str(&m, IFLA_IFNAME, v->container);
        nl_put(&m, IFLA_ADDRESS, v->container_mac, 6);
        nl_put_u32(&m, IFLA_NET_NS_PID, (uint32_t) child);
        nl_nest_end(&m);
        nl_nest_end(&m);
        nl_nest_end(&m);
        return nl_call(fd, &m);
}

/* The full name as an alternative name when the kernel's was shortened (nspawn does the same; optional). */
static void add_alt_name(int fd, const struct net_veth *v) {
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_NEWLINKPROP, NLM_F_EXCL, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = v->host_index;
        nl_nest_begin(&m, IFLA_PROP_LIST, 0);
        nl_put_str(&m, IFLA_ALT_IFNAME, v->alt_name);
        nl_nest_end(&m);
        if (nl_call(fd, &m) < 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "cannot give %s its full name %s as an alternative name", v->host, v->alt_name);
                report_warning(msg, errno);
        }
}

static int make_bridge(int fd, const char *name) {
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi);
        /* Up at once: systemd-networkd (80-container-vz.network) configures it, and without networkd its members still reach each other. */
        set_link_flags(ifi, IFF_UP);
        nl_put_str(&m, IFLA_IFNAME, name);
        nl_nest_begin(&m, IFLA_LINKINFO, 0);
        nl_put_str(&m, IFLA_INFO_KIND, "bridge");
        nl_nest_end(&m);
        return nl_call(fd, &m);
}

static int join_bridge(int fd, int index, int bridge_index) {
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_SETLINK, 0, sizeof *ifi);
        set_link_flags(ifi, IFF_UP);
        ifi->ifi_index = index;
        nl_put_u32(&m, IFLA_MASTER, (uint32_t) bridge_index);
        return nl_call(fd, &m);
}

static const char *option_of(const struct net_veth *v) {
        if (v->attach == NET_ATTACH_BRIDGE)
                return "--network-bridge";
        if (v->attach == NET_ATTACH_ZONE)
                return "--network-zone";
        return v->register_index ? "--network-veth" : "--network-veth-extra";
}

/* Attaches v's host side to its bridge; a zone's is made first if missing. */
static int attach(int fd, struct net_veth *v, struct failure *f) {
        int index = (int) if_nametoindex(v->bridge);
        if (index == 0 && v->attach == NET_ATTACH_ZONE) {
                if (make_bridge(fd, v->bridge) < 0 && errno != EEXIST)
                        return fail(f, "network", "bridge", v->bridge, errno, "cannot make the zone's bridge %s (%s)", v->bridge, option_of(v));
                index = (int) if_nametoindex(v->bridge);
        }
        if (index == 0)
                return fail(f, "network", "bridge", v->bridge, errno, "cannot attach %s to the bridge %s: there is no such link (create the bridge, or fix %s)",
                            v->host, v->bridge, option_of(v));
        if (join_bridge(fd, v->host_index, index) < 0)
                return fail(f, "network", "bridge", v->bridge, errno, "cannot attach %s to the bridge %s (is it a bridge? %s)", v->host, v->bridge, option_of(v));
        v->bridge_index = index;
        return 0;
}

/* --network-interface: the link named so in the socket's namespace goes
 * to the namespace of pid (or of the descriptor netns_fd when pid is 0). */
static int move_link(int fd, int index, pid_t pid, int netns_fd) {
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_NEWLINK, 0, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        if (pid)
                nl_put_u32(&m, IFLA_NET_NS_PID, (uint32_t) pid);
        else
                nl_put_u32(&m, IFLA_NET_NS_FD, (uint32_t) netns_fd);
        return nl_call(fd, &m);
}

/* The container's namespace, held open from setup to teardown: the moved
 * links go back out of it, the macvlan/ipvlan links are named and removed
 * in it. */
static int hold_netns(struct network *n, pid_t child, const char *option, struct failure *f) {
        if (n->holds_netns)
                return 0;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) child);
        n->container_netns = open(path, O_RDONLY | O_CLOEXEC);
        if (n->container_netns < 0)
                return fail(f, "network", "netns", path, errno, "cannot open the container's network namespace (%s)", option);
        n->holds_netns = true;
        return 0;
}

/* A netlink socket of the namespace netns_fd (a socket stays in the
 * namespace it was made in); we return to ours at once. */
static int open_in_netns(int netns_fd) {
        int ours = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1;
        if (ours < 0)
                return -1;
        if (setns(netns_fd, CLONE_NEWNET) == 0) {
                fd = nl_open();
                int e = errno;
                if (setns(ours, CLONE_NEWNET) < 0) {
                        /* Cannot happen for root; going on in the wrong namespace would be worse than dying. */
                        report_error("network", "netns", "", errno, "cannot return to the host's network namespace");
                        _exit(1);
                }
                errno = e;
        }
        close(ours);
        return fd;
}

struct find_name {
        const char *name;
        int index;
};

static void match_name(const struct nl_link *l, void *data) {
        struct find_name *q = data;
        if (strcmp(l->name, q->name) == 0)
                q->index = l->index;
}

/* The index of the link named so in the socket's namespace, 0 if none. */
static int find_link(int fd, const char *name) {
        struct find_name q = { name, 0 };
        return nl_dump_links(fd, match_name, &q) < 0 ? 0 : q.index;
}

/* Moves the --network-interface links in. */
static int move_links_in(int fd, struct network *n, pid_t child, struct failure *f) {
        if (n->n_moved == 0)
                return 0;
        if (hold_netns(n, child, "--network-interface", f) < 0)
                return -1;
        for (size_t i = 0; i < n->n_moved; i++) {
                int index = (int) if_nametoindex(n->moved[i]);
                if (index == 0)
                        return fail(f, "network", "move", n->moved[i], errno,
                                    "cannot move the link %s into the container: there is no such link on the host (fix --network-interface)", n->moved[i]);
                if (move_link(fd, index, child, -1) < 0)
                        return fail(f, "network", "move", n->moved[i], errno, "cannot move the link %s into the container (--network-interface)", n->moved[i]);
        }
        return 0;
}

static const char *vlan_option(const struct net_vlan *v) {
        return v->kind == NET_VLAN_MACVLAN ? "--network-macvlan" : "--network-ipvlan";
}

static const char *vlan_kind(const struct net_vlan *v) {
        return v->kind == NET_VLAN_MACVLAN ? "macvlan" : "ipvlan";
}

/* A macvlan (bridge mode: links on one parent reach each other) or an
 * ipvlan (L2 mode) on the host link parent_index, made straight into the
 * namespace of child, as nspawn's setup_macvlan()/setup_ipvlan(). */
static int make_vlan(int fd, const struct net_vlan *v, int parent_index, pid_t child) {
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        nl_put_u32(&m, IFLA_LINK, (uint32_t) parent_index);
        nl_put_str(&m, IFLA_IFNAME, v->name);
        if (v->kind == NET_VLAN_MACVLAN)
                nl_put(&m, IFLA_ADDRESS, v->mac, 6);
        nl_put_u32(&m, IFLA_NET_NS_PID, (uint32_t) child);
        nl_nest_begin(&m, IFLA_LINKINFO, 0);
        nl_put_str(&m, IFLA_INFO_KIND, vlan_kind(v));
        nl_nest_begin(&m, IFLA_INFO_DATA, 0);
        if (v->kind == NET_VLAN_MACVLAN)
                nl_put_u32(&m, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
        else {
                uint16_t mode = IPVLAN_MODE_L2;
                nl_put(&m, IFLA_IPVLAN_MODE, &mode, sizeof mode);
        }
        nl_nest_end(&m);
        nl_nest_end(&m);
        return nl_call(fd, &m);
}

/* The full name of a shortened link, as an alternative name (optional, as for a veth). */
static void add_vlan_alt_name(int cfd, const struct net_vlan *v) {
        int index = find_link(cfd, v->name);
        struct nl_msg m;
        struct ifinfomsg *ifi = nl_begin(&m, RTM_NEWLINKPROP, NLM_F_EXCL, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        nl_nest_begin(&m, IFLA_PROP_LIST, 0);
        nl_put_str(&m, IFLA_ALT_IFNAME, v->alt_name);
        nl_nest_end(&m);
        if (index == 0 || nl_call(cfd, &m) < 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "cannot give %s its full name %s as an alternative name", v->name, v->alt_name);
                report_warning(msg, index == 0 ? ENODEV : errno);
        }
}

static int make_vlans(int fd, struct network *n, pid_t child, struct failure *f) {
        if (n->n_vlans == 0)
                return 0;
        if (hold_netns(n, child, vlan_option(&n->vlans[0]), f) < 0)
                return -1;
        int cfd = -1;
        for (size_t i = 0; i < n->n_vlans; i++) {
                struct net_vlan *v = &n->vlans[i];
                int parent = (int) if_nametoindex(v->parent);
                if (parent == 0)
                        return fail(f, "network", vlan_kind(v), v->parent, 0,
                                    "cannot make the %s link %s: there is no link %s on the host (fix %s)", vlan_kind(v), v->name, v->parent, vlan_option(v));
                if (make_vlan(fd, v, parent, child) < 0) {
                        int e = errno;
                        if (cfd >= 0)
                                close(cfd);
                        if (e == EOPNOTSUPP)
                                return fail(f, "network", vlan_kind(v), v->parent, e, "cannot make the %s link %s on %s: this kernel has no %s support (%s)",
                                            vlan_kind(v), v->name, v->parent, vlan_kind(v), vlan_option(v));
                        return fail(f, "network", vlan_kind(v), v->parent, e, "cannot make the %s link %s on %s (%s)", vlan_kind(v), v->name, v->parent,
                                    vlan_option(v));
                }
                v->made = true;
                if (v->alt_name) {
                        if (cfd < 0)
                                cfd = open_in_netns(n->container_netns);
                        if (cfd >= 0)
                                add_vlan_alt_name(cfd, v);
                }
        }
        if (cfd >= 0)
                close(cfd);
        return 0;
}

/* In the container's namespace, while it is held: the macvlan/ipvlan links
 * go (their parent is free for the next start at once), the moved links
 * back to the host's namespace (by name, from a socket opened there). */
static void container_teardown(struct network *n) {
        if (!n->holds_netns)
                return;
        int ours = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        int fd = ours >= 0 ? open_in_netns(n->container_netns) : -1;
        if (fd < 0)
                report_warning("cannot reach the container's network namespace to remove its macvlan/ipvlan links and move its --network-interface links back", errno);
        for (size_t i = 0; i < n->n_vlans && fd >= 0; i++) {
                struct net_vlan *v = &n->vlans[i];
                int index = v->made ? find_link(fd, v->name) : 0;
                if (index > 0 && delete_link(fd, index) < 0 && errno != ENODEV) {
                        char msg[160];
                        snprintf(msg, sizeof msg, "cannot remove the %s link %s from the container (%s)", vlan_kind(v), v->name, vlan_option(v));
                        report_warning(msg, errno);
                }
                v->made = false;
        }
        for (size_t i = 0; i < n->n_moved && fd >= 0; i++) {
                int index = find_link(fd, n->moved[i]);
                if (index == 0 || move_link(fd, index, 0, ours) == 0)
                        continue;
                char msg[160];
                snprintf(msg, sizeof msg, "cannot move the link %s back to the host (--network-interface)", n->moved[i]);
                report_warning(msg, errno);
        }
        if (fd >= 0)
                close(fd);
        if (ours >= 0)
                close(ours);
        close(n->container_netns);
        n->holds_netns = false;
}

static int wait_for_namespace(int ready_fd) {
        char c;
        ssize_t r;
        do
                r = read(ready_fd, &c, 1);
        while (r < 0 && errno == EINTR);
        close(ready_fd);
        return r == 1 ? 0 : -1;
}

static bool has_zone(const struct network *n) {
        for (size_t i = 0; i < n->n_links; i++)
                if (n->links[i].attach == NET_ATTACH_ZONE)
                        return true;
        return false;
}

int network_setup(struct network *n, pid_t child, int ready_fd, int ifindex[], size_t max, size_t *n_ifindex, struct failure *f) {
        *n_ifindex = 0;
        n->watch_fd = -1;
        if (wait_for_namespace(ready_fd) < 0)
                return -2;
        int fd = nl_open();
        if (fd < 0)
                return fail(f, "network", "netlink", "", errno, "cannot open a netlink socket");
        /* One lock for the whole setup when a zone is involved: the sweep of
         * stale zone bridges and the making and joining of ours. */
        int lock = -1;
        if (has_zone(n) && (lock = zone_lock()) < 0) {
                close(fd);
                return fail(f, "network", "lock", ZONE_LOCK, errno, "cannot take the network zone lock");
        }
        if (lock >= 0)
                remove_empty_zones(fd, NULL, NULL);
        int r = 0;
        for (size_t i = 0; i < n->n_links && r == 0; i++) {
                struct net_veth *v = &n->links[i];
                if (make_veth(fd, v, child) < 0) {
                        r = errno == EEXIST ? fail(f, "network", "veth", v->host, errno,
                                                   "cannot make the veth link %s (%s): a link of that name exists (another container of this name, or one "
                                                   "left behind: ip link delete %s)",
                                                   v->host, option_of(v), v->host)
                                            : fail(f, "network", "veth", v->host, errno, "cannot make the veth pair %s/%s (%s)", v->host, v->container, option_of(v));
                        break;
                }
                v->host_index = (int) if_nametoindex(v->host);
                if (v->host_index == 0) {
                        r = fail(f, "network", "veth", v->host, errno, "cannot find the veth link %s just made", v->host);
                        break;
                }
                if (v->alt_name)
                        add_alt_name(fd, v);
                if (v->attach != NET_ATTACH_NONE)
                        r = attach(fd, v, f);
                if (r == 0 && v->register_index && *n_ifindex < max)
                        ifindex[(*n_ifindex)++] = v->bridge_index ? v->bridge_index : v->host_index;
        }
        if (r == 0)
                r = move_links_in(fd, n, child, f);
        if (r == 0)
                r = make_vlans(fd, n, child, f);
        close(fd);
        zone_unlock(lock);
        if (r == 0 && n->n_ports > 0)
                r = port_start(n, child, f);
        if (r < 0)
                network_teardown(n);
        return r;
}

void network_teardown(struct network *n) {
        port_stop(n);
        container_teardown(n);
        int fd = nl_open();
        if (fd < 0) {
                report_warning("cannot open a netlink socket to remove the container's links", errno);
                return;
        }
        /* The links usually die with the container's namespace, but that
         * happens in the kernel's own time: removed here, they are gone
         * when tsnspawn exits, and a zone can tell it is empty. A link is
         * ours only while it still has its index and name. */
        for (size_t i = 0; i < n->n_links; i++) {
                struct net_veth *v = &n->links[i];
                struct nl_link l;
                if (v->host_index > 0 && nl_get_link(fd, v->host_index, &l) == 0 && strcmp(l.name, v->host) == 0)
                        (void) delete_link(fd, v->host_index);
                v->host_index = 0;
        }
        if (has_zone(n)) {
                int lock = zone_lock();
                if (lock >= 0) {
                        for (size_t i = 0; i < n->n_links; i++)
                                if (n->links[i].attach == NET_ATTACH_ZONE)
                                        remove_empty_zones(fd, n->links[i].bridge, NULL);
                        zone_unlock(lock);
                }
        }
        close(fd);
}

/* ---- --network-namespace-path ---- */

int network_open_join(struct network *n, struct failure *f) {
        n->join_fd = -1;
        if (!n->join)
                return 0;
        int fd = open(n->join, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return fail(f, "network", "join", n->join, errno, "cannot open the network namespace %s (fix --network-namespace-path)", n->join);
        /* A namespace file is an nsfs inode (ip netns add binds one onto
         * /run/netns/NAME), and the kernel tells its type. */
        struct statfs sf;
        int type = fstatfs(fd, &sf) == 0 && sf.f_type == NSFS_MAGIC ? ioctl(fd, NS_GET_NSTYPE) : -1;
        if (type != CLONE_NEWNET) {
                close(fd);
                return fail(f, "network", "join", n->join, 0,
                            "cannot join %s: it is not a network namespace (fix --network-namespace-path: ip netns add NAME makes one at /run/netns/NAME)", n->join);
        }
        n->join_fd = fd;
        return 0;
}

int network_child_join(const struct network *n, struct failure *f) {
        if (!n->join)
                return 0;
        if (setns(n->join_fd, CLONE_NEWNET) < 0)
                return fail(f, "namespaces", "net", n->join, errno, "cannot join the network namespace %s (--network-namespace-path)", n->join);
        close(n->join_fd);
        return 0;
}
