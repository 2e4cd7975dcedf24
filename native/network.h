/* The container's network links: veth pairs (-n, --network-veth-extra),
 * their host sides on a bridge (--network-bridge) or a zone's bridge made on
 * demand (--network-zone), and ports forwarded with nftables (--port).
 *
 * Plan records (src/plan/encode.ts, decoded by network_record):
 *   net-veth HOST ALTNAME HOSTMAC CONTAINER CONTAINERMAC ATTACH BRIDGE [register]
 *       ALTNAME "-" for none; ATTACH none|bridge|zone (BRIDGE "-" with none);
 *       register: its index (or its bridge's) goes to machined
 *   net-move NAME                       --network-interface: a host link moved in
 *       (and back to the host's namespace at teardown: a virtual link would
 *       die with the container's namespace, a physical one return on its own)
 *   net-vlan macvlan|ipvlan PARENT NAME ALTNAME MAC
 *       --network-macvlan (bridge mode, MAC given) / --network-ipvlan (L2
 *       mode, MAC "-"): made on the host link PARENT straight into the
 *       container's namespace as NAME (ALTNAME "-" for none); removed
 *       from there at teardown, so the parent is free at once for the next
 *       start (a namespace's end takes it only in the kernel's own time)
 *   net-join PATH                       --network-namespace-path: init joins
 *       this namespace (opened and checked by the monitor before init exists)
 *       instead of making one; nothing is made in it or removed from it
 *   net-port tcp|udp HOSTPORT CONTAINERPORT
 *   net-table NAME                      the nftables table of --port
 *
 * Where it runs: the monitor, host namespaces, root; setup between forking
 * init (which has made its network namespace and waits at the barrier)
 * and registering it, as nspawn orders it; teardown once init is gone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct failure;
struct strbuf;

enum net_attach { NET_ATTACH_NONE, NET_ATTACH_BRIDGE, NET_ATTACH_ZONE };

struct net_veth {
        char *host, *alt_name, *container, *bridge;
        unsigned char host_mac[6], container_mac[6];
        enum net_attach attach;
        bool register_index;
        /* Made by network_setup: */
        int host_index, bridge_index;
};

enum net_vlan_kind { NET_VLAN_MACVLAN, NET_VLAN_IPVLAN };

struct net_vlan {
        enum net_vlan_kind kind;
        char *parent, *name, *alt_name;
        unsigned char mac[6];   /* macvlan only */
        bool made;
};

struct net_port {
        bool udp;
        unsigned host_port, container_port;
};

struct network {
        struct net_veth *links;
        size_t n_links;
        char **moved;           /* net-move: names, the same on both sides */
        size_t n_moved;
        struct net_vlan *vlans;
        size_t n_vlans;
        char *join;             /* net-join: the namespace's path */
        int join_fd;            /* opened by network_open_join, -1 before */
        struct net_port *ports;
        size_t n_ports;
        char *table;
        /* Runtime (port.c): the container's addresses the rules point at. */
        int watch_fd;           /* address changes in the container's namespace, or -1 */
        char addr4[64], addr6[64];
        bool table_made;
        /* Runtime (network.c): the container's namespace, held open so the moved links can go back. */
        int container_netns;
        bool holds_netns;
};

/* 1: a network record, decoded; 0: not one of ours; -1: bad (err says why). */
int network_record(struct network *n, char **f, size_t nf, char *err, size_t errlen);
int network_check(const struct network *n, char *err, size_t errlen);
/* Links to make or move: the monitor has work at setup and teardown. */
bool network_has_links(const struct network *n);
void network_dump_json(const struct network *n, struct strbuf *sb);

/* Makes the links once init has its network namespace: ready_fd gets one
 * byte from init when it has (EOF: init failed before; returns -2 and the
 * caller reports init's failure). -1: f says what failed, and nothing made
 * is left. Indices for machined go to ifindex[] (at most max). */
int network_setup(struct network *n, pid_t child, int ready_fd, int ifindex[], size_t max, size_t *n_ifindex, struct failure *f);

/* Once init is gone: the host sides of our links (if the namespace's end
 * has not taken them yet), the zone's bridge if we were its last member,
 * the --port table. */
void network_teardown(struct network *n);

/* Said by init once its network namespace exists (child.c). */
void network_child_ready(int ready_fd);

/* --network-namespace-path, in the monitor before init exists: opens the
 * path and checks that it is a network namespace. 0 (nothing to join, or
 * joined_fd open), or -1 with f saying why. */
int network_open_join(struct network *n, struct failure *f);
/* In init (or -U's outer child) before it makes its other namespaces:
 * enters the namespace (the caller brings its loopback up, as nspawn
 * does). 0 when there is nothing to join. */
int network_child_join(const struct network *n, struct failure *f);
