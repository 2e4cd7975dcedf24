/* --as-pid2: a minimal init as PID 1 with the payload as PID 2 (nspawn's stub). */
#pragma once
#include <sys/types.h>

/* In PID 1 after the payload was forked as pid: reaps every process, turns
 * halt/poweroff/reboot signals into SIGTERM + SIGHUP for the payload, and
 * exits with the payload's exit status (255 if it died of a signal).
 * uuid: for the environment /proc/1/environ shows. Never returns. */
void stub_init(pid_t payload, const char *uuid) __attribute__((noreturn));
