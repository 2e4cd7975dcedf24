#pragma once
/* -i/--image: the image holder and the monitor's joining of its mount
 * namespace (image.c, image-join.c). */

#include "failure.h"
#include <sys/types.h>

/* Where every holder mounts its tmpfs, in its own mount namespace only; on
 * the host an empty directory that stays (like /run/tsnspawn/machines). */
#define IMAGE_MOUNT_BASE "/run/tsnspawn/image"

/* tsnspawn-helper --image PATH --name NAME [--read-only] */
int image_holder_main(int argc, char **argv);

/* The monitor joins the holder's mount namespace (the holder is a child
 * of parent_pid, Node) and ends the holder: from then on the namespace
 * lives as long as the monitor and the container. 0, or -1 with f set. */
int image_join(pid_t holder, pid_t parent_pid, struct failure *f);
