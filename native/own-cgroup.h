/* The container's own cgroup in a hierarchy mounted whole (no cgroup
 * namespace: $SYSTEMD_NSPAWN_USE_CGNS=0). */
#pragma once
#include <stddef.h>

/* The calling process's path in the cgroup hierarchy whose mount mountfd
 * (an O_PATH descriptor) names: the "0::" line of /proc/self/cgroup for a
 * cgroup2 mount, the name=systemd line for a v1 one. 0 and the path
 * ("/..."), or -1 with errno (ENOENT: we are in no such hierarchy). */
int own_cgroup_path(int mountfd, char *out, size_t len);
