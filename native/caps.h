#pragma once

#include <stdint.h>

/* Drops every capability not in retain from the bounding set, and from the
 * permitted, effective, inheritable and ambient sets, so the payload starts
 * with at most retain even as root. */
int caps_restrict_bounding(uint64_t retain);
