#pragma once

#include <stddef.h>

/* prefix followed by 16 random hex digits: a name nobody can guess and
 * plant first. Returns -1 when the kernel gives no randomness. */
int random_name(char *buf, size_t len, const char *prefix);
