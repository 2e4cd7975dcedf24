#define _GNU_SOURCE
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int caps_restrict_bounding(uint64_t retain) {
        /* Probe the kernel's capability count instead of trusting headers. */
        for (int cap = 0; cap < 64; cap++) {
                if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
                        if (errno == EINVAL)
                                break;
                        return -1;
                }
                if (!(retain & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        return -1;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -1;
        return 0;
}

int caps_restrict_process(uint64_t retain) {
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2];
        if (syscall(SYS_capget, &hdr, data) < 0)
                return -1;
        for (int i = 0; i < 2; i++) {
                uint32_t keep = (uint32_t) (retain >> (32 * i));
                data[i].effective &= keep;
                data[i].permitted &= keep;
                data[i].inheritable &= keep;
        }
        return (int) syscall(SYS_capset, &hdr, data);
}

int caps_raise_ambient(uint64_t ambient) {
        /* A capability may be raised into the ambient set only when it is in
         * both the permitted and the inheritable set. */
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2];
        if (syscall(SYS_capget, &hdr, data) < 0)
                return -1;
        for (int i = 0; i < 2; i++)
                data[i].inheritable |= (uint32_t) (ambient >> (32 * i));
        if (syscall(SYS_capset, &hdr, data) < 0)
                return -1;
        for (int cap = 0; cap < 64; cap++)
                if ((ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                        return -1;
        return 0;
}
