/* --port: nftables rules that forward the host's ports to the container's
 * address, kept up to date as the guest's addresses come and go (DHCP
 * comes after the start), removed once init is gone.
 *
 * Where it runs: the monitor, host namespaces, root, after init was
 * forked (so the pid namespace for our children can be set back to ours:
 * the monitor unshared CLONE_NEWPID for init, and nft must not run in the
 * container's pid namespace, which will be gone when we remove the table). */
#pragma once

#include "network.h"

/* Opens the watch on the container's addresses and writes the first rules. */
int port_start(struct network *n, pid_t child, struct failure *f);
/* The watch socket is readable: the guest's addresses changed. */
void port_on_event(struct network *n);
/* Removes the table (nothing if it was never made). */
void port_stop(struct network *n);
