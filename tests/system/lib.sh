# Shared by deb-check.sh and systemd-check.sh: a Debian 12 root made by
# debootstrap once (kept in $SYSCHECK_DIR/base, rebuilt when this list
# changes), copied fresh for every run, entered with systemd-nspawn.
# Everything runs as root; every process started is stopped by its PID.

SYSCHECK_DIR=${SYSCHECK_DIR:-/var/tmp/dutyd-syscheck}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# systemd to boot and judge units; man-db for Documentation=man:...; curl
# to talk to dutyd from inside.
BASE_PACKAGES=systemd,systemd-sysv,dbus,man-db,curl,ca-certificates,procps

say() { printf '%s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; }
fail() { printf 'FAIL - %s\n' "$*" >&2; exit 1; }

need_tools() {
	local missing="" p
	for p in debootstrap systemd-container; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'ok installed' >/dev/null ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		say "installing:$missing"
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends $missing
	fi
}

base_root() {
	local stamp="$SYSCHECK_DIR/base/.dutyd-base"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$BASE_PACKAGES" ]; then
		return 0
	fi
	say "debootstrap: Debian 12 (bookworm) into $SYSCHECK_DIR/base (a few minutes, once)"
	rm -rf "$SYSCHECK_DIR/base"
	mkdir -p "$SYSCHECK_DIR"
	debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm \
		"$SYSCHECK_DIR/base" "$MIRROR" > "$SYSCHECK_DIR/debootstrap.log" 2>&1 ||
		fail "debootstrap failed; see $SYSCHECK_DIR/debootstrap.log"
	printf '%s' "$BASE_PACKAGES" > "$stamp"
}

# fresh_root NAME: a clean copy of the base; prints its path.
fresh_root() {
	local root="$SYSCHECK_DIR/$1"
	rm -rf "$root"
	cp -a "$SYSCHECK_DIR/base" "$root"
	printf '%s' "$root"
}

# in_root ROOT CMD...: CMD in ROOT, not booted, with the host's network
# (for apt); like a chroot with /proc, /dev and /sys set up.
# --pipe: no pseudo-terminal, so no CR in what it prints.  nspawn's notice
# about not removing its propagation directory (a read-only /run here) is
# dropped.
in_root() {
	local root=$1
	shift
	systemd-nspawn -q --pipe --register=no --keep-unit -D "$root" \
		--resolv-conf=copy-host -E DEBIAN_FRONTEND=noninteractive \
		-E SYSTEMD_COLORS=0 -E SYSTEMD_URLIFY=0 "$@" \
		2> >(grep -v 'Attempted to remove disk file system' >&2)
}
