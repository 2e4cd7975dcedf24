#pragma once
/* The Discoverable Partitions Specification as tsnspawn -i uses it: which
 * GPT partition type UUID means what, for this machine's architecture
 * (systemd's sd-gpt.h has the same values). Fixed knowledge, one table. */

#include <stdbool.h>
#include <stdint.h>

enum part_role {
        PART_ROOT,            /* mounted as the container's / */
        PART_USR,             /* /usr */
        PART_HOME,            /* /home */
        PART_SRV,             /* /srv */
        PART_VAR,             /* /var */
        PART_TMP,             /* /var/tmp (the spec's "tmp" partition) */
        PART_VERITY,          /* dm-verity data or signature of root or /usr: refused */
        PART_GENERIC,         /* "Linux filesystem data": the root when it is the only one and no root is typed */
        PART_IGNORED,         /* ESP, XBOOTLDR, swap, other architectures: left alone */
};

/* GPT partition attribute bits (the spec's "Partition Attribute Flags"). */
#define GPT_FLAG_GROWFS    (UINT64_C(1) << 59)
#define GPT_FLAG_READ_ONLY (UINT64_C(1) << 60)
#define GPT_FLAG_NO_AUTO   (UINT64_C(1) << 63)

struct part_type {
        const char *uuid;     /* lower case, as printed */
        enum part_role role;
        const char *what;     /* for messages: "root (x86-64)", "/home", ... */
};

/* The role of a partition type UUID (lower case); PART_IGNORED if unknown. */
const struct part_type *part_type_lookup(const char *uuid);

/* The root partition type of this architecture, for messages ("4f68bce3-..."). */
const char *part_type_native_root(void);

/* Where a role's partition goes inside the root ("/usr"); NULL for the root itself. */
const char *part_role_mountpoint(enum part_role role);
