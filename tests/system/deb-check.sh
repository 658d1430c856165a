#!/bin/bash
# make deb-check: the .deb installed with apt in a clean Debian 12 root
# (systemd-nspawn used as a chroot, the host's network for the mirror):
# its dependencies resolve, the sysusers file makes the dutyd user, the
# shipped configuration passes `dutyd -t`, and systemd-analyze verify and
# security accept the installed units.
set -euo pipefail
DEB=${1:?usage: deb-check.sh DUTYD.deb}
. "$(dirname "$0")/lib.sh"

need_tools
base_root
ROOT=$(fresh_root deb-check)
trap 'rm -rf "$ROOT"' EXIT
cp "$DEB" "$ROOT/root/"
name=$(basename "$DEB")

in_root "$ROOT" sh -c "apt-get update -q >/dev/null && apt-get install -y -q \
	--no-install-recommends /root/$name" > "$SYSCHECK_DIR/deb-check-apt.log" 2>&1 ||
	fail "apt-get install ./$name; see $SYSCHECK_DIR/deb-check-apt.log"
ok "apt-get install ./$name in a clean Debian 12 root"

out=$(in_root "$ROOT" getent passwd dutyd) || fail "no dutyd user after install"
case "$out" in
dutyd:x:*:*:*:/var/lib/dutyd:/usr/sbin/nologin) ok "the dutyd user from sysusers: $out" ;;
*) fail "the dutyd user is not as dutyd.sysusers says: $out" ;;
esac

out=$(in_root "$ROOT" stat -c '%U:%G %a' /etc/dutyd/dutyd.yaml)
[ "$out" = "root:dutyd 640" ] || fail "/etc/dutyd/dutyd.yaml is $out, not root:dutyd 640"
ok "/etc/dutyd/dutyd.yaml is $out"

out=$(in_root "$ROOT" --user=dutyd /usr/sbin/dutyd -t -c /etc/dutyd/dutyd.yaml 2>&1) ||
	fail "dutyd -t -c /etc/dutyd/dutyd.yaml (as dutyd): $out"
[ "$out" = "configuration OK" ] || fail "dutyd -t said: $out"
ok "dutyd -t -c /etc/dutyd/dutyd.yaml, as the dutyd user: $out"

out=$(in_root "$ROOT" systemd-analyze verify dutyd.service dutyd.socket 2>&1) ||
	fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify printed: $out"
ok "systemd-analyze verify dutyd.service dutyd.socket: no output"

out=$(in_root "$ROOT" systemd-analyze security --offline=true \
	/lib/systemd/system/dutyd.service 2>&1 | tail -1)
score=$(printf '%s' "$out" | sed -n 's/.*dutyd\.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] && awk "BEGIN { exit !($score <= 1.5) }" ||
	fail "systemd-analyze security: $out"
ok "systemd-analyze security --offline=true: $score"

out=$(in_root "$ROOT" sh -c 'MANWIDTH=80 man 8 dutyd 2>&1 | head -3')
case "$out" in *"DUTYD(8)"*) ok "man 8 dutyd" ;; *) fail "man 8 dutyd: $out" ;; esac

say "deb-check: all passed"
