#pragma once

#include <sys/types.h>

/* A new user namespace that maps just one uid and one gid (inside ->
 * outside: uid_in -> uid_out, gid_in -> gid_out), for an idmapped mount of
 * one owner (nspawn's rootidmap and owneridmap). Returns its descriptor, or
 * -1 with errno set. The caller must be real root. */
int idmap_userns_one(uid_t uid_in, uid_t uid_out, gid_t gid_in, gid_t gid_out);
