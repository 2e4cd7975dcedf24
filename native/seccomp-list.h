/* The system calls a container may not make, after systemd-nspawn's filter:
 * what its allow-list knowingly leaves out (the keyring is not namespaced;
 * swap, kexec, bpf, perf, fanotify, quotas, handles, obsolete and emulation
 * calls; pidfd_getfd, memfd_secret and process_mrelease are in no group it
 * allows), and what it allows only when the capability is kept.
 *
 * Included by each ABI's table with that ABI's __NR_* numbers
 * (seccomp-native.c, seccomp-x32.c, seccomp-i386.c); a call the ABI lacks
 * is skipped. DENY(number, capability that allows it, or -1 for none). */

#ifdef __NR_add_key
DENY(__NR_add_key, -1)
#endif
#ifdef __NR_keyctl
DENY(__NR_keyctl, -1)
#endif
#ifdef __NR_request_key
DENY(__NR_request_key, -1)
#endif
#ifdef __NR_swapon
DENY(__NR_swapon, -1)
#endif
#ifdef __NR_swapoff
DENY(__NR_swapoff, -1)
#endif
#ifdef __NR_modify_ldt
DENY(__NR_modify_ldt, -1)
#endif
#ifdef __NR_subpage_prot
DENY(__NR_subpage_prot, -1)
#endif
#ifdef __NR_switch_endian
DENY(__NR_switch_endian, -1)
#endif
#ifdef __NR_vm86
DENY(__NR_vm86, -1)
#endif
#ifdef __NR_vm86old
DENY(__NR_vm86old, -1)
#endif
#ifdef __NR_pkey_alloc
DENY(__NR_pkey_alloc, -1)
#endif
#ifdef __NR_pkey_free
DENY(__NR_pkey_free, -1)
#endif
#ifdef __NR_pkey_mprotect
DENY(__NR_pkey_mprotect, -1)
#endif
#ifdef __NR__sysctl
DENY(__NR__sysctl, -1)
#endif
#ifdef __NR_afs_syscall
DENY(__NR_afs_syscall, -1)
#endif
#ifdef __NR_bdflush
DENY(__NR_bdflush, -1)
#endif
#ifdef __NR_break
DENY(__NR_break, -1)
#endif
#ifdef __NR_create_module
DENY(__NR_create_module, -1)
#endif
#ifdef __NR_ftime
DENY(__NR_ftime, -1)
#endif
#ifdef __NR_get_kernel_syms
DENY(__NR_get_kernel_syms, -1)
#endif
#ifdef __NR_getpmsg
DENY(__NR_getpmsg, -1)
#endif
#ifdef __NR_gtty
DENY(__NR_gtty, -1)
#endif
#ifdef __NR_idle
DENY(__NR_idle, -1)
#endif
#ifdef __NR_lock
DENY(__NR_lock, -1)
#endif
#ifdef __NR_mpx
DENY(__NR_mpx, -1)
#endif
#ifdef __NR_prof
DENY(__NR_prof, -1)
#endif
#ifdef __NR_profil
DENY(__NR_profil, -1)
#endif
#ifdef __NR_putpmsg
DENY(__NR_putpmsg, -1)
#endif
#ifdef __NR_query_module
DENY(__NR_query_module, -1)
#endif
#ifdef __NR_security
DENY(__NR_security, -1)
#endif
#ifdef __NR_sgetmask
DENY(__NR_sgetmask, -1)
#endif
#ifdef __NR_ssetmask
DENY(__NR_ssetmask, -1)
#endif
#ifdef __NR_stime
DENY(__NR_stime, -1)
#endif
#ifdef __NR_stty
DENY(__NR_stty, -1)
#endif
#ifdef __NR_sysfs
DENY(__NR_sysfs, -1)
#endif
#ifdef __NR_tuxcall
DENY(__NR_tuxcall, -1)
#endif
#ifdef __NR_ulimit
DENY(__NR_ulimit, -1)
#endif
#ifdef __NR_uselib
DENY(__NR_uselib, -1)
#endif
#ifdef __NR_ustat
DENY(__NR_ustat, -1)
#endif
#ifdef __NR_vserver
DENY(__NR_vserver, -1)
#endif
#ifdef __NR_bpf
DENY(__NR_bpf, -1)
#endif
#ifdef __NR_fanotify_init
DENY(__NR_fanotify_init, -1)
#endif
#ifdef __NR_fanotify_mark
DENY(__NR_fanotify_mark, -1)
#endif
#ifdef __NR_kexec_file_load
DENY(__NR_kexec_file_load, -1)
#endif
#ifdef __NR_kexec_load
DENY(__NR_kexec_load, -1)
#endif
#ifdef __NR_lookup_dcookie
DENY(__NR_lookup_dcookie, -1)
#endif
#ifdef __NR_nfsservctl
DENY(__NR_nfsservctl, -1)
#endif
#ifdef __NR_open_by_handle_at
DENY(__NR_open_by_handle_at, -1)
#endif
#ifdef __NR_perf_event_open
DENY(__NR_perf_event_open, -1)
#endif
#ifdef __NR_quotactl
DENY(__NR_quotactl, -1)
#endif
#ifdef __NR_quotactl_fd
DENY(__NR_quotactl_fd, -1)
#endif
#ifdef __NR_pidfd_getfd
DENY(__NR_pidfd_getfd, -1)
#endif
#ifdef __NR_memfd_secret
DENY(__NR_memfd_secret, -1)
#endif
#ifdef __NR_process_mrelease
DENY(__NR_process_mrelease, -1)
#endif
#ifdef __NR_adjtimex
DENY(__NR_adjtimex, CAP_SYS_TIME)
#endif
#ifdef __NR_clock_adjtime
DENY(__NR_clock_adjtime, CAP_SYS_TIME)
#endif
#ifdef __NR_clock_adjtime64
DENY(__NR_clock_adjtime64, CAP_SYS_TIME)
#endif
#ifdef __NR_clock_settime
DENY(__NR_clock_settime, CAP_SYS_TIME)
#endif
#ifdef __NR_clock_settime64
DENY(__NR_clock_settime64, CAP_SYS_TIME)
#endif
#ifdef __NR_settimeofday
DENY(__NR_settimeofday, CAP_SYS_TIME)
#endif
#ifdef __NR_delete_module
DENY(__NR_delete_module, CAP_SYS_MODULE)
#endif
#ifdef __NR_finit_module
DENY(__NR_finit_module, CAP_SYS_MODULE)
#endif
#ifdef __NR_init_module
DENY(__NR_init_module, CAP_SYS_MODULE)
#endif
#ifdef __NR_ioperm
DENY(__NR_ioperm, CAP_SYS_RAWIO)
#endif
#ifdef __NR_iopl
DENY(__NR_iopl, CAP_SYS_RAWIO)
#endif
#ifdef __NR_pciconfig_iobase
DENY(__NR_pciconfig_iobase, CAP_SYS_RAWIO)
#endif
#ifdef __NR_pciconfig_read
DENY(__NR_pciconfig_read, CAP_SYS_RAWIO)
#endif
#ifdef __NR_pciconfig_write
DENY(__NR_pciconfig_write, CAP_SYS_RAWIO)
#endif
#ifdef __NR_mlock
DENY(__NR_mlock, CAP_IPC_LOCK)
#endif
#ifdef __NR_mlock2
DENY(__NR_mlock2, CAP_IPC_LOCK)
#endif
#ifdef __NR_mlockall
DENY(__NR_mlockall, CAP_IPC_LOCK)
#endif
#ifdef __NR_munlock
DENY(__NR_munlock, CAP_IPC_LOCK)
#endif
#ifdef __NR_munlockall
DENY(__NR_munlockall, CAP_IPC_LOCK)
#endif
#ifdef __NR_acct
DENY(__NR_acct, CAP_SYS_PACCT)
#endif
#ifdef __NR_ptrace
DENY(__NR_ptrace, CAP_SYS_PTRACE)
#endif
#ifdef __NR_reboot
DENY(__NR_reboot, CAP_SYS_BOOT)
#endif
#ifdef __NR_syslog
DENY(__NR_syslog, CAP_SYSLOG)
#endif
#ifdef __NR_vhangup
DENY(__NR_vhangup, CAP_SYS_TTY_CONFIG)
#endif
