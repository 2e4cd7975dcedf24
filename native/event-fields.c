/* Reading the monitor's events (report.c's JSON lines) in the supervisor.
 * The lines are flat objects written by report.c: a key in quotes followed
 * by ':' cannot occur inside a value, where every quote is escaped. */
#include "event-fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *value_of(const char *line, const char *key) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\":", key);
        const char *p = strstr(line, pat);
        return p ? p + strlen(pat) : NULL;
}

static int hexval(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *event_string(const char *line, const char *key) {
        const char *p = value_of(line, key);
        if (!p || *p != '"')
                return NULL;
        char *out = malloc(strlen(p) + 1), *w = out;
        if (!out)
                return NULL;
        for (p++; *p && *p != '"'; p++) {
                if (*p != '\\') {
                        *w++ = *p;
                        continue;
                }
                p++;
                switch (*p) {
                case 'n': *w++ = '\n'; break;
                case 'r': *w++ = '\r'; break;
                case 't': *w++ = '\t'; break;
                case 'b': *w++ = '\b'; break;
                case 'f': *w++ = '\f'; break;
                case 'u': {
                        /* report.c escapes only control characters this way. */
                        int v = 0;
                        for (int i = 1; i <= 4; i++) {
                                int h = hexval(p[i]);
                                if (h < 0) {
                                        free(out);
                                        return NULL;
                                }
                                v = v * 16 + h;
                        }
                        *w++ = (char) (v < 0x80 ? v : '?');
                        p += 4;
                        break;
                }
                case 0:
                        free(out);
                        return NULL;
                default: *w++ = *p; break;
                }
        }
        if (*p != '"') {
                free(out);
                return NULL;
        }
        *w = 0;
        return out;
}

bool event_int(const char *line, const char *key, long *out) {
        const char *p = value_of(line, key);
        if (!p)
                return false;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
                return false;
        *out = v;
        return true;
}

bool event_is(const char *line, const char *name) {
        char pat[64];
        snprintf(pat, sizeof pat, "{\"event\":\"%s\"", name);
        return strncmp(line, pat, strlen(pat)) == 0;
}
