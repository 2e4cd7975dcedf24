/* D-Bus messages on the wire (the specification's "Message Protocol"):
 * building the few method calls and errors the monitor sends, and reading
 * the header fields and string arguments of what it receives. Little
 * endian out; either byte order in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
        MSG_METHOD_CALL = 1,
        MSG_METHOD_RETURN = 2,
        MSG_ERROR = 3,
        MSG_SIGNAL = 4,
};

enum { MSG_FLAG_NO_REPLY_EXPECTED = 0x1 };

/* Fixed part of the header; the header-field array's length follows it. */
#define MSG_FIXED_HEADER 16
/* Larger messages are skipped unread: nothing we act on is near this. */
#define MSG_MAX_SIZE (64 * 1024)

struct msg_out {
        unsigned char data[8192];
        size_t len, body_start;
        bool overflow;
};

/* A method call; signature (NULL: no body) has only 's' (a const char *
 * argument follows) and 'i' (an int). */
void msg_method_call(struct msg_out *m, uint32_t serial, const char *destination, const char *path, const char *interface,
                     const char *member, const char *signature, ...);

/* A method call whose body the caller writes with the msg_put_* calls
 * below, in the order of signature; msg_end fills in the body's length. */
void msg_begin_call(struct msg_out *m, uint32_t serial, const char *destination, const char *path, const char *interface,
                    const char *member, const char *signature);
void msg_end(struct msg_out *m);
void msg_put_string(struct msg_out *m, const char *s);   /* s and o */
void msg_put_signature(struct msg_out *m, const char *s); /* g */
void msg_put_u32(struct msg_out *m, uint32_t v);         /* u, i */
void msg_put_u64(struct msg_out *m, uint64_t v);         /* t */
void msg_put_bool(struct msg_out *m, bool v);            /* b */
void msg_put_byte_array(struct msg_out *m, const unsigned char *p, size_t n); /* ay */
/* Arrays: open returns a mark for close, which writes the length;
 * element_align: 8 for structs and dict entries, 4 for u and s, 1 for y. */
size_t msg_open_array(struct msg_out *m, size_t element_align);
void msg_close_array(struct msg_out *m, size_t mark);
void msg_open_struct(struct msg_out *m);
/* An error reply without a body. */
void msg_error(struct msg_out *m, uint32_t serial, const char *destination, uint32_t reply_serial, const char *error_name);

struct msg_in {
        uint8_t type, flags;
        uint32_t serial, reply_serial;
        const char *path, *interface, *member, *sender, *signature, *error_name;
        /* The body's leading arguments while they are s, o (the string),
         * v holding s or o (its string) or u (NULL here, the value in
         * nums): "s", "sss", "uoss", "v"... */
        const char *args[4];
        uint32_t nums[4];
        size_t n_args;
};

/* Total size of the message starting at buf once its first 16 bytes are
 * there; 0 if they are not yet, -1 if they are not a D-Bus header. */
long msg_size(const unsigned char *buf, size_t len);

/* Parses a complete message of msg_size bytes in place (strings point
 * into buf). Returns -1 if it is malformed. */
int msg_parse(unsigned char *buf, size_t size, struct msg_in *out);
