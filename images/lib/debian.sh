# images/lib/debian.sh: shared steps of the debootstrap-based recipes.
# Source it from a recipe ("source .../lib/debian.sh"); images/build puts this
# file into the hash of every recipe that names lib/debian.sh.
#
# Environment (set by images/build, optional when a recipe runs by hand):
#   TSNSPAWN_DEB_CACHE      directory where downloaded .debs are kept between builds
#   TSNSPAWN_DEBIAN_MIRROR  mirror URL (default http://deb.debian.org/debian, the
#                           address in this machine's /etc/apt/sources.list.d)

step() { echo "==> $*"; }

debian_mirror() {
	echo "${TSNSPAWN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
}

# debian_bootstrap SUITE OUTDIR [debootstrap options...]
# A minbase install of SUITE into OUTDIR. debootstrap mounts /proc and /sys in
# OUTDIR while packages configure and unmounts them when it exits; images/build
# unmounts anything left below OUTDIR after the recipe, whatever happened.
debian_bootstrap() {
	local suite=$1 out=$2
	shift 2
	local cache=()
	if [ -n "${TSNSPAWN_DEB_CACHE:-}" ]; then
		mkdir -p "$TSNSPAWN_DEB_CACHE"
		cache=(--cache-dir="$TSNSPAWN_DEB_CACHE")
	fi
	step "debootstrap $suite $*"
	debootstrap --variant=minbase --components=main --merged-usr \
		"${cache[@]}" "$@" "$suite" "$out" "$(debian_mirror)"
	step "check $suite tree"
	local left
	left=$(findmnt -rn -o TARGET | awk -v d="$out/" 'index($0, d) == 1')
	if [ -n "$left" ]; then
		echo "debootstrap left mounts below $out: $left"
		return 1
	fi
	chroot "$out" /bin/sh -c 'echo ok'
}

# debian_finish OUTDIR: make the tree a clean image to boot in a container.
debian_finish() {
	local out=$1
	step "clean up the tree"
	# systemd initialises an empty machine-id on first boot (and nspawn passes one).
	: >"$out/etc/machine-id"
	if [ -e "$out/var/lib/dbus/machine-id" ] || [ -L "$out/var/lib/dbus/machine-id" ]; then
		rm -f "$out/var/lib/dbus/machine-id"
		ln -s /etc/machine-id "$out/var/lib/dbus/machine-id"
	fi
	# Empty root password, so a console login as root works.
	sed -i 's/^root:[^:]*:/root::/' "$out/etc/shadow"
	# debootstrap copies these from the build host; the container manager
	# provides hostname and resolver configuration.
	rm -f "$out/etc/hostname" "$out/etc/resolv.conf"
	# Keep the tree small: package caches and lists (apt-get update restores them).
	rm -f "$out"/var/cache/apt/archives/*.deb "$out"/var/cache/apt/*.bin
	rm -rf "$out"/var/lib/apt/lists/*
	mkdir -p "$out/var/lib/apt/lists/partial"
	rm -f "$out"/var/log/bootstrap.log
	find "$out/var/log" -type f -name '*.log' -size +0 -exec truncate -s0 {} +
}

# debian_check_init OUTDIR EXPECTED: /sbin/init must resolve to EXPECTED
# (e.g. "systemd" or "sysvinit"), matched against its realpath in the tree.
debian_check_init() {
	local out=$1 want=$2 init
	step "check /sbin/init is $want"
	init=$(chroot "$out" readlink -f /sbin/init)
	echo "/sbin/init -> $init"
	case "$init" in
	*"$want"*) ;;
	*) echo "/sbin/init is $init, expected $want"; return 1 ;;
	esac
}
