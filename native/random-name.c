#include "random-name.h"

#include <stdio.h>
#include <sys/random.h>
#include <sys/types.h>

int random_name(char *buf, size_t len, const char *prefix) {
        unsigned char r[8];
        if (getrandom(r, sizeof r, 0) != (ssize_t) sizeof r)
                return -1;
        int n = snprintf(buf, len, "%s%02x%02x%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
        return n < 0 || (size_t) n >= len ? -1 : 0;
}
