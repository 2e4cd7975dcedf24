#pragma once

#include <stdint.h>

/* Drops every capability not in retain from the bounding set and clears the
 * ambient set. The effective set is untouched, so changing uid, gid and
 * groups still works afterwards (even with --drop-capability=all). */
int caps_restrict_bounding(uint64_t retain);

/* Then, as the payload's user: the permitted, effective and inheritable
 * sets to at most retain, so the payload starts with no more even as root. */
int caps_restrict_process(uint64_t retain);

/* --ambient-capability: the capabilities (already permitted) into the
 * inheritable and ambient sets, so the payload keeps them across exec
 * even as a user other than root. */
int caps_raise_ambient(uint64_t ambient);
