#!/bin/sh
# Builds native/tsnspawn-helper: one static binary from native/*.c, and
# native/tsnspawn-handover.node: the Node addon of the handover
# (native/addon/, a shared object Node loads; not part of the helper). The
# Makefile and `npm install` (package.json "install") both call this, so
# an installed package builds the same helper as a checkout.
# Static: the supervisor starts in Node's pid with no dynamic loader to run
# first (a shorter moment before it blocks SIGTERM), and needs no NSS.
set -eu
cd "$(dirname "$0")"
${CC:-cc} ${CFLAGS:--O2 -g} -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter -static -o tsnspawn-helper ./*.c
${CC:-cc} ${CFLAGS:--O2 -g} -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter -shared -fPIC -o tsnspawn-handover.node addon/handover-gate.c
