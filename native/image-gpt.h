#pragma once
/* Reading a GPT partition table from a disk image file (UEFI spec, chapter
 * 5.3): the header at LBA 1 (512- or 4096-byte sectors), its CRC32 and the
 * entries' CRC32 checked, so a damaged table is refused rather than half
 * used. No libblkid: the helper is one static binary. */

#include <stddef.h>
#include <stdint.h>

#define GPT_MAX_PARTITIONS 128

struct gpt_partition {
        unsigned number;        /* 1-based entry index: the kernel's loopNpNUMBER */
        char type[37];          /* type UUID, lower case */
        uint64_t first_lba, last_lba;
        uint64_t flags;         /* attribute bits (image-types.h GPT_FLAG_*) */
        char label[73];         /* UTF-16 name as UTF-8 (ASCII kept, others '?') */
};

struct gpt_table {
        unsigned sector_size;
        size_t n;
        struct gpt_partition parts[GPT_MAX_PARTITIONS];
};

/* 1: a GPT was found and read into t; 0: none (no "EFI PART" header);
 * -1: one that cannot be used, err says why. */
int gpt_read(int fd, uint64_t size, struct gpt_table *t, char *err, size_t errlen);

/* Whether the first sector holds an MBR with partitions (other than GPT's protective one). */
int mbr_has_partitions(int fd);
