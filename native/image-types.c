/* The partition type table (image-types.h). Only this architecture's root,
 * /usr and their verity partitions are listed as such: a root of another
 * architecture is no root here, as for systemd-nspawn without a secondary
 * architecture. */
#include "image-types.h"

#include <string.h>

#if defined(__x86_64__)
#define ARCH "x86-64"
#define ROOT_UUID "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define USR_UUID "8484680c-9521-48c6-9c11-b0720656f69e"
#define ROOT_VERITY_UUID "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
#define USR_VERITY_UUID "77ff5f63-e7b6-4633-acf4-1565b864c0e6"
#define ROOT_VERITY_SIG_UUID "41092b05-9fc8-4523-994f-2def0408b176"
#define USR_VERITY_SIG_UUID "e7bb33fb-06cf-4e81-8273-e543b413e2e2"
#elif defined(__aarch64__)
#define ARCH "arm64"
#define ROOT_UUID "b921b045-1df0-41c3-af44-4c6f280d3fae"
#define USR_UUID "b0e01050-ee5f-4390-949a-9101b17104e9"
#define ROOT_VERITY_UUID "df3300ce-d69f-4c92-978c-9bfb0f38d820"
#define USR_VERITY_UUID "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e"
#define ROOT_VERITY_SIG_UUID "6db69de6-29f4-4758-a7a5-962190f00ce3"
#define USR_VERITY_SIG_UUID "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a"
#else
#error "add this architecture's partition types to image-types.c"
#endif

static const struct part_type table[] = {
        { ROOT_UUID, PART_ROOT, "root (" ARCH ")" },
        { USR_UUID, PART_USR, "/usr (" ARCH ")" },
        { ROOT_VERITY_UUID, PART_VERITY, "root verity (" ARCH ")" },
        { USR_VERITY_UUID, PART_VERITY, "/usr verity (" ARCH ")" },
        { ROOT_VERITY_SIG_UUID, PART_VERITY, "root verity signature (" ARCH ")" },
        { USR_VERITY_SIG_UUID, PART_VERITY, "/usr verity signature (" ARCH ")" },
        { "933ac7e1-2eb4-4f13-b844-0e14e2aef915", PART_HOME, "/home" },
        { "3b8f8425-20e0-4f3b-907f-1a25a76f98e8", PART_SRV, "/srv" },
        { "4d21b016-b534-45c2-a9fb-5c16e091fd2d", PART_VAR, "/var" },
        { "7ec6f557-3bc5-4aca-b293-16ef5df639d1", PART_TMP, "/var/tmp" },
        { "0fc63daf-8483-4772-8e79-3d69d8477de4", PART_GENERIC, "Linux filesystem data" },
        { "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", PART_IGNORED, "ESP" },
        { "bc13c2ff-59e6-4262-a352-b275fd6f7172", PART_IGNORED, "XBOOTLDR" },
        { "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", PART_IGNORED, "swap" },
};

static const struct part_type unknown = { "", PART_IGNORED, "other" };

const struct part_type *part_type_lookup(const char *uuid) {
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
                if (strcmp(table[i].uuid, uuid) == 0)
                        return &table[i];
        return &unknown;
}

const char *part_type_native_root(void) {
        return ROOT_UUID " (root, " ARCH ")";
}

const char *part_role_mountpoint(enum part_role role) {
        switch (role) {
        case PART_USR:
                return "/usr";
        case PART_HOME:
                return "/home";
        case PART_SRV:
                return "/srv";
        case PART_VAR:
                return "/var";
        case PART_TMP:
                return "/var/tmp";
        default:
                return NULL;
        }
}
