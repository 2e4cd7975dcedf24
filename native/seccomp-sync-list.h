/* --suppress-sync: the calls of systemd's @sync set, made to return 0
 * without doing anything (nspawn's seccomp_suppress_sync). Included by each
 * ABI's table with that ABI's __NR_* numbers; a call the ABI lacks is
 * skipped. SUPPRESS(number). */

#ifdef __NR_sync
SUPPRESS(__NR_sync)
#endif
#ifdef __NR_syncfs
SUPPRESS(__NR_syncfs)
#endif
#ifdef __NR_fsync
SUPPRESS(__NR_fsync)
#endif
#ifdef __NR_fdatasync
SUPPRESS(__NR_fdatasync)
#endif
#ifdef __NR_sync_file_range
SUPPRESS(__NR_sync_file_range)
#endif
#ifdef __NR_sync_file_range2
SUPPRESS(__NR_sync_file_range2)
#endif
#ifdef __NR_arm_sync_file_range
SUPPRESS(__NR_arm_sync_file_range)
#endif
#ifdef __NR_msync
SUPPRESS(__NR_msync)
#endif
