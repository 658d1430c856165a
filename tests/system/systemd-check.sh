#!/bin/bash
# make systemd-check: dutyd under real systemd.  A clean Debian 12 root
# boots systemd as PID 1 in systemd-nspawn (its own network namespace:
# only loopback, so nothing collides with the host's ports); the .deb is
# installed there with apt, and the service is tried as an administrator
# would: it starts with the shipped configuration, socket activation
# answers (IPv4 and IPv6), a restart under a steady stream of reports loses
# nothing, reload works and a broken file keeps it running, a wedged dutyd
# (SIGSTOP) is restarted by the watchdog, stop is quick, the user comes
# from sysusers, the unit's exposure is at most 1.5, and the journal keeps
# dutyd's priorities.
set -euo pipefail
# (grep >/dev/null, not grep -q, after a pipe: -q leaves early and pipefail
# then takes the writer's SIGPIPE for a failure.)
DEB=${1:?usage: systemd-check.sh DUTYD.deb}
. "$(dirname "$0")/lib.sh"

need_tools
base_root
ROOT=$(fresh_root systemd-check)
cp "$DEB" "$ROOT/root/"
name=$(basename "$DEB")
NSPAWN=""

cleanup() {
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		kill "$NSPAWN"		# systemd-nspawn powers the container off
		for _ in $(seq 1 300); do
			kill -0 "$NSPAWN" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$NSPAWN" 2>/dev/null && kill -9 "$NSPAWN"
	fi
	rm -rf "$ROOT"
}
trap cleanup EXIT

# The libraries first, from the mirror, while the root still has the
# host's network; the package itself is installed on the booted system.
# Depends: "a (>= 1), b | c": the first of each alternative, without versions.
deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/|.*//; s/([^)]*)//g' | tr -d ' ' | tr '\n' ' ')
in_root "$ROOT" sh -c "apt-get update -q >/dev/null && apt-get install -y -q \
	--no-install-recommends $deps" > "$SYSCHECK_DIR/systemd-check-apt.log" 2>&1 ||
	fail "installing the dependencies; see $SYSCHECK_DIR/systemd-check-apt.log"

systemd-nspawn -q --register=no --keep-unit --private-network --boot \
	--console=passive -D "$ROOT" > "$SYSCHECK_DIR/systemd-check-boot.log" 2>&1 &
NSPAWN=$!
PID1=""
for _ in $(seq 1 300); do
	PID1=$(cat /proc/$NSPAWN/task/*/children 2>/dev/null | awk '{print $1}')
	[ -n "$PID1" ] && [ "$(cat /proc/$PID1/comm 2>/dev/null)" = systemd ] && break
	sleep 0.1
done
[ -n "$PID1" ] || fail "systemd did not start in the container"
run() { nsenter -t "$PID1" -a env SYSTEMD_COLORS=0 SYSTEMD_URLIFY=0 "$@"; }
for _ in $(seq 1 300); do
	state=$(run systemctl is-system-running 2>/dev/null || true)
	case "$state" in running|degraded) break ;; esac
	sleep 0.2
done
ok "systemd boots as PID 1 in the container ($state)"

# -- install -------------------------------------------------------------------
run apt-get install -y -q --no-install-recommends "/root/$name" \
	> "$SYSCHECK_DIR/systemd-check-install.log" 2>&1 ||
	fail "apt-get install ./$name; see $SYSCHECK_DIR/systemd-check-install.log"
ok "apt-get install ./$name on the booted system"

active() { [ "$(run systemctl is-active "$1" 2>/dev/null)" = active ]; }
wait_for() {	# wait_for SECONDS WHAT CMD...
	local t=$1 what=$2 i
	shift 2
	for i in $(seq 1 $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	fail "$what (after ${t}s)"
}
wait_for 30 "dutyd.service active after install" active dutyd.service
active dutyd.socket || fail "dutyd.socket is not active"
status=$(run systemctl show -p StatusText --value dutyd.service)
case "$status" in running:*) ;; *) fail "STATUS= is '$status'" ;; esac
ok "the service runs with the shipped configuration: $status"

user=$(run getent passwd dutyd) || fail "no dutyd user"
main=$(run systemctl show -p MainPID --value dutyd.service)
owner=$(run ps -o user= -p "$main" | tr -d ' ')
[ "$owner" = dutyd ] || fail "dutyd runs as '$owner'"
ok "the dutyd user from sysusers ($user), and dutyd runs as it"

# -- socket activation ---------------------------------------------------------
OFFICE=change-me-office-county-a
report() {	# report TITLE: prints the HTTP status
	run curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST \
		-H "Authorization: Bearer $OFFICE" -H 'Content-Type: application/json' \
		-d "{\"title\": \"$1\", \"occurred_at\": \"$(date -Iseconds)\"}" \
		"${2:-http://127.0.0.1:8080}/api/v1/reports"
}
[ "$(report '系统检查 IPv4')" = 201 ] || fail "a report over 127.0.0.1:8080"
[ "$(report '系统检查 IPv6' 'http://[::1]:8080')" = 201 ] || fail "a report over [::1]:8080"
ok "socket activation answers on 127.0.0.1:8080 and [::1]:8080"

# -- restart under a steady stream ---------------------------------------------
run sh -c 'rm -f /root/stream; i=0; while [ ! -e /root/stream.stop ] && [ $i -lt 2000 ]; do
	i=$((i + 1))
	code=$(curl -s -o /dev/null -w "%{http_code}" --max-time 30 -X POST \
		-H "Authorization: Bearer '"$OFFICE"'" -H "Content-Type: application/json" \
		-H "Idempotency-Key: stream-$i" \
		-d "{\"title\": \"连续上报 $i\", \"occurred_at\": \"$(date -Iseconds)\"}" \
		http://127.0.0.1:8080/api/v1/reports)
	echo "$i $code" >> /root/stream
done' &
STREAM=$!
sent() { [ -f "$ROOT/root/stream" ] && wc -l < "$ROOT/root/stream" || echo 0; }
sent_at_least() { [ "$(sent)" -ge "$1" ]; }
wait_for 30 "the stream of reports starting" sent_at_least 5
for n in 1 2 3; do
	before=$(sent)
	run systemctl restart dutyd.service
	wait_for 30 "reports after restart $n" sent_at_least $((before + 5))
done
touch "$ROOT/root/stream.stop"
wait "$STREAM" || true
total=$(sent)
bad=$(awk '$2 != 201' "$ROOT/root/stream" | head -5)
[ -z "$bad" ] || fail "reports not answered 201 across restarts: $bad"
[ "$total" -ge 20 ] || fail "only $total reports went through"
ok "systemctl restart dutyd (3 times) under a stream of $total reports: every one 201"

# -- reload --------------------------------------------------------------------
t0=$(date +%s)
run systemctl reload dutyd.service || fail "systemctl reload dutyd"
active dutyd.service || fail "not active after reload"
run journalctl -u dutyd.service --since "@$t0" -o cat | grep >/dev/null "configuration reloaded" ||
	fail "no 'configuration reloaded' in the journal"
ok "systemctl reload dutyd"

cp "$ROOT/etc/dutyd/dutyd.yaml" "$SYSCHECK_DIR/dutyd.yaml.good"
sed -i 's/^  leader: li$/  leader: nobody/' "$ROOT/etc/dutyd/dutyd.yaml"
t0=$(date +%s)
run systemctl reload dutyd.service || fail "systemctl reload dutyd with a broken file"
wait_for 10 "the failed reload in the journal" sh -c \
	"nsenter -t $PID1 -a journalctl -u dutyd.service --since @$t0 -o cat | grep >/dev/null 'reload failed'"
active dutyd.service || fail "not active after a broken reload"
[ "$(report '坏配置之后')" = 201 ] || fail "a report after a broken reload"
grep -q '"config.reload_failed"' "$ROOT/var/lib/dutyd/audit.log" ||
	fail "no config.reload_failed in the audit log"
cp "$SYSCHECK_DIR/dutyd.yaml.good" "$ROOT/etc/dutyd/dutyd.yaml"
ok "a broken file: reload fails, config.reload_failed recorded, dutyd keeps serving"

# -- the journal keeps dutyd's priorities ----------------------------------------
run journalctl -u dutyd.service -p err -o cat | grep >/dev/null 'reload failed' ||
	fail "the failed reload is not at priority err"
run journalctl -u dutyd.service -p err -o cat | grep >/dev/null 'ready' &&
	fail "'ready' is at priority err"
run journalctl -u dutyd.service -p info -o cat | grep >/dev/null 'dutyd 0.1.0 ready' ||
	fail "'ready' is not at priority info"
ok "the journal keeps dutyd's priorities (errors at err, ready at info)"

# -- watchdog ------------------------------------------------------------------
main=$(run systemctl show -p MainPID --value dutyd.service)
restarts=$(run systemctl show -p NRestarts --value dutyd.service)
run kill -STOP "$main"
t0=$(date +%s)
newmain() {
	local m
	m=$(run systemctl show -p MainPID --value dutyd.service)
	[ "$m" != "$main" ] && [ "$m" != 0 ] && active dutyd.service
}
wait_for 70 "the watchdog restarting a SIGSTOPped dutyd" newmain
run journalctl -u dutyd.service -o cat | grep >/dev/null 'Watchdog timeout' ||
	fail "no 'Watchdog timeout' in the journal"
[ "$(run systemctl show -p NRestarts --value dutyd.service)" -gt "$restarts" ] ||
	fail "NRestarts did not grow"
ok "a SIGSTOPped dutyd is restarted by the watchdog after $(( $(date +%s) - t0 )) s"
[ "$(report '看门狗之后')" = 201 ] || fail "a report after the watchdog restart"

# -- security, inside --------------------------------------------------------------
out=$(run systemd-analyze security dutyd.service 2>&1 | tail -1)
score=$(printf '%s' "$out" | sed -n 's/.*dutyd\.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] && awk "BEGIN { exit !($score <= 1.5) }" || fail "systemd-analyze security: $out"
ok "systemd-analyze security dutyd.service: $score"

# -- stop --------------------------------------------------------------------------
t0=$(date +%s%N)
run systemctl stop dutyd.service
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 5000 ] || fail "systemctl stop took $ms ms"
result=$(run systemctl show -p Result --value dutyd.service)
[ "$result" = success ] || fail "stopped with Result=$result"
grep -q '"dutyd.stopped"' "$ROOT/var/lib/dutyd/audit.log" || fail "no dutyd.stopped record"
ok "systemctl stop returns in $ms ms (Result=$result)"

run /usr/sbin/dutyd --verify-audit /var/lib/dutyd > "$SYSCHECK_DIR/verify.txt" ||
	fail "the audit log does not verify: $(cat "$SYSCHECK_DIR/verify.txt")"
ok "the audit log verifies: $(grep 'records:' "$SYSCHECK_DIR/verify.txt")"
say "systemd-check: all passed"
