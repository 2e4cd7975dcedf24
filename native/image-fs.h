#pragma once
/* What file system (if any) starts at an offset of the image: by the
 * superblock magics of the file systems images are built with (mkosi,
 * systemd-repart: ext4, btrfs, xfs, squashfs, erofs, vfat). */

#include <stdint.h>

/* The kernel's name for it ("ext4", ...), "crypto_LUKS" for a LUKS volume,
 * or NULL when nothing known is there. */
const char *fs_probe(int fd, uint64_t offset);
