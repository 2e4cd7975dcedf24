#pragma once

/* argv[0] of the sealed copy: how it knows it already is one. */
#define SEALED_ARGV0 "tsnspawn-helper (sealed)"

/* Executes argv again from a sealed memfd copy of this binary, unless it
 * is that copy already (argv[0]); returns only when it could not (after a
 * warning on stderr). */
void sealed_reexec(char **argv);
