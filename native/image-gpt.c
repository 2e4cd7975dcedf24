/* GPT reading (image-gpt.h). Where we are: the image holder (image.c),
 * full root, before anything is attached; only pread on the image file. */
#define _GNU_SOURCE
#include "image-gpt.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t crc32(const uint8_t *p, size_t n) {
        uint32_t c = 0xffffffffu;
        for (size_t i = 0; i < n; i++) {
                c ^= p[i];
                for (int k = 0; k < 8; k++)
                        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
        }
        return ~c;
}

static uint32_t le32_at(const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, 4);
        return le32toh(v);
}

static uint64_t le64_at(const uint8_t *p) {
        uint64_t v;
        memcpy(&v, p, 8);
        return le64toh(v);
}

/* GUIDs are stored mixed-endian: the first three fields little endian. */
static void guid_format(const uint8_t *g, char out[37]) {
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8],
                 g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

static bool read_exact(int fd, void *buf, size_t n, uint64_t off) {
        size_t got = 0;
        while (got < n) {
                ssize_t r = pread(fd, (char *) buf + got, n - got, (off_t) (off + got));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return false;
                got += (size_t) r;
        }
        return true;
}

int mbr_has_partitions(int fd) {
        uint8_t s[512];
        if (!read_exact(fd, s, sizeof s, 0) || s[510] != 0x55 || s[511] != 0xaa)
                return 0;
        for (int i = 0; i < 4; i++) {
                uint8_t type = s[446 + 16 * i + 4];
                if (type != 0 && type != 0xee)
                        return 1;
        }
        return 0;
}

static int bad(char *err, size_t errlen, const char *what) {
        snprintf(err, errlen, "its GPT partition table is damaged (%s)", what);
        return -1;
}

int gpt_read(int fd, uint64_t size, struct gpt_table *t, char *err, size_t errlen) {
        static const unsigned sizes[] = { 512, 4096 };
        uint8_t hdr[512];
        unsigned ss = 0;
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && !ss; i++)
                if (size >= 2ull * sizes[i] && read_exact(fd, hdr, sizeof hdr, sizes[i]) && memcmp(hdr, "EFI PART", 8) == 0)
                        ss = sizes[i];
        if (!ss)
                return 0;
        uint32_t hsize = le32_at(hdr + 12);
        if (hsize < 92 || hsize > sizeof hdr)
                return bad(err, errlen, "header size");
        uint32_t want = le32_at(hdr + 16);
        memset(hdr + 16, 0, 4);
        if (crc32(hdr, hsize) != want)
                return bad(err, errlen, "header checksum");
        uint64_t entries_lba = le64_at(hdr + 72);
        uint32_t n = le32_at(hdr + 80), esize = le32_at(hdr + 84);
        if (esize < 128 || esize > 4096 || esize % 8 != 0 || n == 0 || n > 1024 || entries_lba * ss + (uint64_t) n * esize > size)
                return bad(err, errlen, "entry array");
        uint8_t *ents = malloc((size_t) n * esize);
        if (!ents || !read_exact(fd, ents, (size_t) n * esize, entries_lba * ss)) {
                free(ents);
                snprintf(err, errlen, "cannot read its GPT partition entries: %s", strerror(errno ? errno : EIO));
                return -1;
        }
        if (crc32(ents, (size_t) n * esize) != le32_at(hdr + 88)) {
                free(ents);
                return bad(err, errlen, "entry checksum");
        }
        t->sector_size = ss;
        t->n = 0;
        static const uint8_t zero[16];
        for (uint32_t i = 0; i < n; i++) {
                const uint8_t *e = ents + (size_t) i * esize;
                if (memcmp(e, zero, 16) == 0)
                        continue;
                if (t->n == GPT_MAX_PARTITIONS) {
                        free(ents);
                        snprintf(err, errlen, "its GPT has more than %d partitions", GPT_MAX_PARTITIONS);
                        return -1;
                }
                struct gpt_partition *p = &t->parts[t->n++];
                p->number = i + 1;
                guid_format(e, p->type);
                p->first_lba = le64_at(e + 32);
                p->last_lba = le64_at(e + 40);
                p->flags = le64_at(e + 48);
                size_t w = 0;
                for (size_t k = 0; k < 36 && w < sizeof p->label - 1; k++) {
                        uint16_t c = (uint16_t) (e[56 + 2 * k] | e[57 + 2 * k] << 8);
                        if (!c)
                                break;
                        p->label[w++] = c < 0x80 && c >= 0x20 ? (char) c : '?';
                }
                p->label[w] = 0;
                if (p->last_lba < p->first_lba || (p->last_lba + 1) * ss > size) {
                        free(ents);
                        return bad(err, errlen, "a partition lies outside the file");
                }
        }
        free(ents);
        return 1;
}
