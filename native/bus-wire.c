/* D-Bus message encoding (see bus-wire.h). Pure functions: no I/O. */
#define _GNU_SOURCE
#include "bus-wire.h"

#include <stdarg.h>
#include <string.h>

/* Header field codes. */
enum { F_PATH = 1, F_INTERFACE = 2, F_MEMBER = 3, F_ERROR_NAME = 4, F_REPLY_SERIAL = 5, F_DESTINATION = 6, F_SENDER = 7, F_SIGNATURE = 8 };

/* ---- out ---- */

static void put(struct msg_out *m, const void *p, size_t n) {
        if (m->len + n > sizeof m->data) {
                m->overflow = true;
                return;
        }
        memcpy(m->data + m->len, p, n);
        m->len += n;
}

static void align(struct msg_out *m, size_t a) {
        static const unsigned char zeros[8];
        put(m, zeros, (a - m->len % a) % a);
}

static void set_u32(struct msg_out *m, size_t at, uint32_t v) {
        if (at + 4 > m->len)
                return;
        unsigned char b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
        memcpy(m->data + at, b, 4);
}

static void put_u8(struct msg_out *m, uint8_t v) {
        put(m, &v, 1);
}

static void put_u32(struct msg_out *m, uint32_t v) {
        align(m, 4);
        unsigned char b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
        put(m, b, 4);
}

void msg_put_u32(struct msg_out *m, uint32_t v) {
        put_u32(m, v);
}

void msg_put_u64(struct msg_out *m, uint64_t v) {
        align(m, 8);
        unsigned char b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (unsigned char) (v >> (8 * i));
        put(m, b, 8);
}

void msg_put_bool(struct msg_out *m, bool v) {
        put_u32(m, v ? 1 : 0);
}

size_t msg_open_array(struct msg_out *m, size_t element_align) {
        put_u32(m, 0);
        size_t mark = m->len;
        /* Padding to the first element is not part of the length. */
        align(m, element_align);
        return mark << 4 | (m->len - mark);
}

void msg_close_array(struct msg_out *m, size_t mark) {
        size_t at = mark >> 4, pad = mark & 0xf;
        set_u32(m, at - 4, (uint32_t) (m->len - at - pad));
}

void msg_open_struct(struct msg_out *m) {
        align(m, 8);
}

void msg_put_byte_array(struct msg_out *m, const unsigned char *p, size_t n) {
        put_u32(m, (uint32_t) n);
        put(m, p, n);
}


static void put_string(struct msg_out *m, const char *s) {
        size_t n = strlen(s);
        put_u32(m, (uint32_t) n);
        put(m, s, n + 1);
}

static void put_signature(struct msg_out *m, const char *s) {
        put_u8(m, (uint8_t) strlen(s));
        put(m, s, strlen(s) + 1);
}

void msg_put_string(struct msg_out *m, const char *s) {
        put_string(m, s);
}

void msg_put_signature(struct msg_out *m, const char *s) {
        put_signature(m, s);
}

/* One header field: a (yv) struct, 8-aligned. */
static void field_string(struct msg_out *m, uint8_t code, char type, const char *value) {
        if (!value)
                return;
        align(m, 8);
        put_u8(m, code);
        put_signature(m, (char[]){ type, 0 });
        if (type == 'g')
                put_signature(m, value);
        else
                put_string(m, value);
}

static void field_u32(struct msg_out *m, uint8_t code, uint32_t value) {
        align(m, 8);
        put_u8(m, code);
        put_signature(m, "u");
        put_u32(m, value);
}

/* The fixed header; the lengths are filled in by finish(). */
static void begin(struct msg_out *m, uint8_t type, uint8_t flags, uint32_t serial) {
        m->len = 0;
        m->overflow = false;
        put(m, (uint8_t[]){ 'l', type, flags, 1 }, 4);
        put_u32(m, 0); /* body length */
        put_u32(m, serial);
        put_u32(m, 0); /* header field array length */
}

static void end_fields(struct msg_out *m) {
        set_u32(m, 12, (uint32_t) (m->len - MSG_FIXED_HEADER));
        align(m, 8);
}

static void finish(struct msg_out *m, size_t body_start) {
        set_u32(m, 4, (uint32_t) (m->len - body_start));
}

void msg_begin_call(struct msg_out *m, uint32_t serial, const char *destination, const char *path, const char *interface,
                    const char *member, const char *signature) {
        begin(m, MSG_METHOD_CALL, 0, serial);
        field_string(m, F_PATH, 'o', path);
        field_string(m, F_INTERFACE, 's', interface);
        field_string(m, F_MEMBER, 's', member);
        field_string(m, F_DESTINATION, 's', destination);
        if (signature && *signature)
                field_string(m, F_SIGNATURE, 'g', signature);
        end_fields(m);
        m->body_start = m->len;
}

void msg_end(struct msg_out *m) {
        finish(m, m->body_start);
}

void msg_method_call(struct msg_out *m, uint32_t serial, const char *destination, const char *path, const char *interface,
                     const char *member, const char *signature, ...) {
        msg_begin_call(m, serial, destination, path, interface, member, signature);
        va_list ap;
        va_start(ap, signature);
        for (const char *t = signature; t && *t; t++) {
                if (*t == 's')
                        put_string(m, va_arg(ap, const char *));
                else if (*t == 'i')
                        put_u32(m, (uint32_t) va_arg(ap, int));
                else
                        m->overflow = true; /* not a type this writer knows: refuse to send */
        }
        va_end(ap);
        msg_end(m);
}

void msg_error(struct msg_out *m, uint32_t serial, const char *destination, uint32_t reply_serial, const char *error_name) {
        begin(m, MSG_ERROR, MSG_FLAG_NO_REPLY_EXPECTED, serial);
        field_string(m, F_ERROR_NAME, 's', error_name);
        field_u32(m, F_REPLY_SERIAL, reply_serial);
        field_string(m, F_DESTINATION, 's', destination);
        end_fields(m);
        finish(m, m->len);
}

/* ---- in ---- */

struct reader {
        unsigned char *buf;
        size_t pos, end;
        bool big_endian;
};

static int r_align(struct reader *r, size_t a) {
        size_t p = (r->pos + a - 1) / a * a;
        if (p > r->end)
                return -1;
        r->pos = p;
        return 0;
}

static int r_u32(struct reader *r, uint32_t *v) {
        if (r_align(r, 4) < 0 || r->pos + 4 > r->end)
                return -1;
        const unsigned char *b = r->buf + r->pos;
        *v = r->big_endian ? (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3]
                           : (uint32_t) b[3] << 24 | (uint32_t) b[2] << 16 | (uint32_t) b[1] << 8 | b[0];
        r->pos += 4;
        return 0;
}

/* A string of n bytes at pos, which must be followed by its NUL. */
static int r_bytes_nul(struct reader *r, size_t n, const char **s) {
        if (n >= r->end - r->pos || r->buf[r->pos + n] != 0 || memchr(r->buf + r->pos, 0, n))
                return -1;
        *s = (const char *) r->buf + r->pos;
        r->pos += n + 1;
        return 0;
}

static int r_string(struct reader *r, const char **s) {
        uint32_t n;
        return r_u32(r, &n) < 0 ? -1 : r_bytes_nul(r, n, s);
}

static int r_signature(struct reader *r, const char **s) {
        if (r->pos >= r->end)
                return -1;
        size_t n = r->buf[r->pos++];
        return r_bytes_nul(r, n, s);
}

static uint32_t u32_at(const unsigned char *b, bool big_endian) {
        return big_endian ? (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3]
                          : (uint32_t) b[3] << 24 | (uint32_t) b[2] << 16 | (uint32_t) b[1] << 8 | b[0];
}

long msg_size(const unsigned char *buf, size_t len) {
        if (len < MSG_FIXED_HEADER)
                return 0;
        if ((buf[0] != 'l' && buf[0] != 'B') || buf[3] != 1)
                return -1;
        bool be = buf[0] == 'B';
        unsigned long long fields = u32_at(buf + 12, be), body = u32_at(buf + 4, be);
        unsigned long long header = (MSG_FIXED_HEADER + fields + 7) / 8 * 8;
        /* The specification's limit: 128 MiB. */
        if (header + body > 128ULL << 20)
                return -1;
        return (long) (header + body);
}

/* Body arguments: only leading s, o, u and v holding s or o are read (all the monitor needs). */
static void parse_leading_args(struct reader *r, const char *signature, struct msg_in *out) {
        for (const char *t = signature; *t && out->n_args < sizeof out->args / sizeof out->args[0]; t++) {
                const char *s = NULL;
                uint32_t u = 0;
                if (*t == 's' || *t == 'o') {
                        if (r_string(r, &s) < 0)
                                return;
                } else if (*t == 'u') {
                        if (r_u32(r, &u) < 0)
                                return;
                } else if (*t == 'v') {
                        /* A property's value (Properties.Get): read when it holds a string. */
                        const char *inner;
                        if (r_signature(r, &inner) < 0 || (strcmp(inner, "s") != 0 && strcmp(inner, "o") != 0) || r_string(r, &s) < 0)
                                return;
                } else
                        return;
                out->args[out->n_args] = s;
                out->nums[out->n_args++] = u;
        }
}

int msg_parse(unsigned char *buf, size_t size, struct msg_in *out) {
        memset(out, 0, sizeof *out);
        bool be = buf[0] == 'B';
        out->type = buf[1];
        out->flags = buf[2];
        out->serial = u32_at(buf + 8, be);
        size_t fields_end = MSG_FIXED_HEADER + u32_at(buf + 12, be);
        if (fields_end > size)
                return -1;
        struct reader r = { .buf = buf, .pos = MSG_FIXED_HEADER, .end = fields_end, .big_endian = be };
        while (r.pos < r.end) {
                const char *sig, *s = NULL;
                uint32_t u = 0;
                if (r_align(&r, 8) < 0 || r.pos >= r.end)
                        return -1;
                uint8_t code = buf[r.pos++];
                if (r_signature(&r, &sig) < 0 || strlen(sig) != 1)
                        return -1;
                switch (sig[0]) {
                case 's':
                case 'o':
                        if (r_string(&r, &s) < 0)
                                return -1;
                        break;
                case 'g':
                        if (r_signature(&r, &s) < 0)
                                return -1;
                        break;
                case 'u':
                        if (r_u32(&r, &u) < 0)
                                return -1;
                        break;
                default:
                        return -1; /* no header field of the specification has another type */
                }
                switch (code) {
                case F_PATH: out->path = s; break;
                case F_INTERFACE: out->interface = s; break;
                case F_MEMBER: out->member = s; break;
                case F_ERROR_NAME: out->error_name = s; break;
                case F_REPLY_SERIAL: out->reply_serial = u; break;
                case F_SENDER: out->sender = s; break;
                case F_SIGNATURE: out->signature = s; break;
                default: break;
                }
        }
        struct reader body = { .buf = buf, .pos = (fields_end + 7) / 8 * 8, .end = size, .big_endian = be };
        if (body.pos > size)
                return -1;
        /* Offsets in the body align from the message start, which is 8-aligned like the body. */
        if (out->signature)
                parse_leading_args(&body, out->signature, out);
        return 0;
}
