#pragma once

#include <stdbool.h>

/* The event's name is NAME: the line starts {"event":"NAME". */
bool event_is(const char *line, const char *name);
/* The string value of key, unescaped (malloc'd), or NULL. */
char *event_string(const char *line, const char *key);
/* The integer value of key. */
bool event_int(const char *line, const char *key, long *out);
