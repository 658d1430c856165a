"""dutyd under systemd's protocols, without systemd as PID 1: sockets
passed by systemd-socket-activate (several, IPv4 and IPv6), restarts while
reports keep coming, the watchdog on a fake NOTIFY_SOCKET, and reload
(RELOADING=1 ... READY=1, a broken file, state_dir, a changed listen).

systemd-socket-activate cannot pick a free port itself (port 0 is refused),
so the harness binds the ports, as everywhere else, and hands them to it
with LISTEN_FDS: it passes them through to dutyd as systemd would, with
LISTEN_PID set to dutyd's PID, blocking (NonBlocking= defaults to no), and
starts dutyd only when the first connection arrives.  The sockets stay with
the harness across restarts, as they stay with systemd."""
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN, audit_records, listening_socket, now_rfc3339, wait_until

SSA = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"


def listening_socket6():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::1", 0))
    s.listen(socket.SOMAXCONN)
    return s


def hand_over(fds):
    """The bash script that moves FDS to 3, 4, ... and execs its arguments
    with LISTEN_PID/LISTEN_FDS set, as systemd hands sockets over."""
    high = ["%d<&%d" % (200 + i, fd) for i, fd in enumerate(fds)]
    low = ["%d<&%d %d<&-" % (3 + i, 200 + i, 200 + i) for i in range(len(fds))]
    close = ["%d<&-" % fd for fd in fds if fd not in range(3, 3 + len(fds))]
    return ('export LISTEN_PID=$$ LISTEN_FDS=%d; exec %s %s; exec %s; exec "$0" "$@"'
            % (len(fds), " ".join(high), " ".join(close), " ".join(low)))


def start_activated(d, sockets, env_extra=None):
    """Starts D (a Dutyd) under systemd-socket-activate with SOCKETS; it
    runs dutyd on the first connection.  Returns at once."""
    path = str(d.tmp / ("notify-%d.sock" % d.runs))
    d.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    d.notify.bind(path)
    d.notify.settimeout(0.1)
    d.notes = []
    env = dict(os.environ, NOTIFY_SOCKET=path, **(env_extra or {}))
    for k in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        env.pop(k, None)
    d.stderr_path = str(d.tmp / ("dutyd-%d.stderr" % d.runs))
    d.runs += 1
    fds = [s.fileno() for s in sockets]
    for s in sockets:
        s.setblocking(True)
    # It starts dutyd with a fresh environment: -E passes what it needs on.
    keep = ["-E%s" % k for k in ["NOTIFY_SOCKET", *(env_extra or {})]]
    keep += ["-E%s" % k for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS") if k in env]
    argv = ["/bin/bash", "-c", hand_over(fds), SSA, *keep, BIN, "-v", "-c", d.config_path]
    with open(d.stderr_path, "wb") as err:
        d.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err,
                                  env=env, pass_fds=fds)


def get(host, port, path="/healthz", family=socket.AF_INET, timeout=30):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def test_systemd_socket_activate_ipv4_and_ipv6(make_dutyd, sink):
    d = make_dutyd()
    v6 = listening_socket6()
    try:
        start_activated(d, [d.listener, v6])
        # Nothing runs yet: the first request starts dutyd and waits for it.
        assert d.proc.poll() is None
        assert get("127.0.0.1", d.port)[0] == 200
        d.wait_note("READY=1", timeout=30)
        assert get("::1", v6.getsockname()[1])[0] == 200
        err = d.stderr()
        assert "listening on 127.0.0.1:%d (a socket passed by systemd)" % d.port in err, err
        assert "listening on [::1]:%d (a socket passed by systemd)" % v6.getsockname()[1] in err
        assert "Execing %s" % BIN in err        # systemd-socket-activate's own word
        iid = d.report().json["id"]
        sink.wait_delivered("incident.new", iid, {"zhang", "li"})
        t0 = time.monotonic()
        d.stop()                                # SIGTERM to the PID that became dutyd
        assert time.monotonic() - t0 < 20
    finally:
        v6.close()


class Reporter(threading.Thread):
    """Sends reports one after another, each on a new connection, until
    stopped; keeps every answer (or the exception instead)."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d = d
        self.halt = threading.Event()
        self.results = []

    def run(self):
        n = 0
        while not self.halt.is_set() and n < 400:
            n += 1
            try:
                r = self.d.report(key="stream-%d" % n, title="连续上报 %d" % n)
                self.results.append((n, r.status, r.json))
            except Exception as e:          # noqa: BLE001 - every failure is kept
                self.results.append((n, None, repr(e)))


@pytest.mark.slow(8)
def test_restarts_under_a_stream_of_reports_lose_nothing(make_dutyd, sink):
    """Reports sent while dutyd restarts wait in the socket's backlog and
    are answered by the next dutyd: none refused, none reset, all saved."""
    d = make_dutyd()
    start_activated(d, [d.listener])
    assert d.call("GET", "/healthz").status == 200
    d.wait_note("READY=1", timeout=30)
    rep = Reporter(d)
    rep.start()
    try:
        for _ in range(3):
            seen = len(rep.results)
            wait_until(lambda: len(rep.results) >= seen + 5, 30, what="reports answered")
            d.stop()
            start_activated(d, [d.listener])
            d.wait_note("READY=1", timeout=30)
        seen = len(rep.results)
        wait_until(lambda: len(rep.results) >= seen + 5, 30, what="reports after the last restart")
    finally:
        rep.halt.set()
        rep.join(60)
    bad = [(n, s, j) for n, s, j in rep.results if s != 201]
    assert not bad, bad[:5]
    assert len(rep.results) >= 20
    saved = {r["data"]["idempotency_key"] for r in audit_records(d.state_dir)
             if r["event"] == "report.received"}
    assert {"stream-%d" % n for n, _, _ in rep.results} <= saved
    starts = [r for r in audit_records(d.state_dir) if r["event"] == "dutyd.started"]
    assert len(starts) == 4


def test_a_client_accepted_before_the_stop_is_answered(make_dutyd, sink):
    """A stop closes the listeners, then answers what was accepted.  A
    client whose connection was accepted but whose request came only after
    the quiet time (250 ms) was reset: dutyd saw nothing to wait for."""
    d = make_dutyd()
    start_activated(d, [d.listener])
    assert d.call("GET", "/healthz").status == 200
    d.wait_note("READY=1", timeout=30)
    conn = http.client.HTTPConnection(d.host, d.port, timeout=30)
    conn.connect()
    # Accepted: dutyd answers a request on another connection after it.
    assert d.call("GET", "/healthz").status == 200
    time.sleep(0.2)
    d.proc.send_signal(signal.SIGTERM)
    d.wait_note("STOPPING=1", timeout=10)
    time.sleep(0.6)
    body = json.dumps({"title": "停机前接入", "occurred_at": now_rfc3339()}).encode()
    conn.request("POST", "/api/v1/reports", body, {"Authorization": "Bearer secret-a",
                                                    "Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 201, (r.status, r.read())
    conn.close()
    assert d.proc.wait(timeout=30) == 0
    saved = [x for x in audit_records(d.state_dir) if x["event"] == "report.received"]
    assert [x["data"]["report"]["title"] for x in saved] == ["停机前接入"], saved


# -- the watchdog ----------------------------------------------------------------

def pings(d):
    """Every WATCHDOG=1 so far.  The harness must read the notes while the
    watchdog runs: sd_notify() blocks once the socket's queue is full
    (net.unix.max_dgram_qlen, 10 here), as it would with a hung systemd."""
    return [n for n in d.poll_notes() if "WATCHDOG=1" in n]


def test_watchdog_pings_at_half_the_interval(make_dutyd, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "600000")
    d = make_dutyd()
    d.start()
    t0 = time.monotonic()
    wait_until(lambda: len(pings(d)) >= 5, 10, what="five WATCHDOG=1")
    # Every 300 ms: five take at least 1.2 s after the first.
    assert time.monotonic() - t0 >= 1.0
    assert "watchdog: telling systemd every 300 ms" in d.stderr()
    status = [n for n in d.notes if n.startswith("STATUS=")]
    assert status and status[-1] == "STATUS=running: 0 open incidents, 0 overdue", status
    d.stop()


def test_no_watchdog_no_pings(make_dutyd, monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    d = make_dutyd()
    d.start()
    d.report()
    t0 = time.monotonic()
    wait_until(lambda: d.poll_notes() is not None and time.monotonic() - t0 > 1.0, 5,
               what="a second")
    assert d.call("GET", "/healthz").status == 200
    assert pings(d) == []
    # (the test's own directory is named after it)
    assert "watchdog" not in d.stderr().replace(os.path.dirname(os.path.dirname(d.config_path)), "")
    d.stop()


@pytest.mark.slow(8)
def test_a_clock_that_cannot_be_recorded_stops_the_pings(make_dutyd, sink, monkeypatch):
    """The ack deadline fires while no record can be written (a file-size
    limit: EFBIG): the pings stop, so systemd would restart dutyd; once the
    record can be written they start again and STATUS says what happened."""
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    # The deadline leaves room for a loaded machine to set the limit first.
    d = make_dutyd(ack_timeout="5s", report_deadline="1h")
    # The limit below is the audit log's size, and it holds for every file
    # dutyd writes: its stderr on a pipe, so that its messages are not cut.
    d.start(stderr_pipe=True)
    iid = d.report().json["id"]
    sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    wait_until(lambda: len(pings(d)) >= 2, 10, what="pings")
    size = sum(os.path.getsize(os.path.join(d.state_dir, f)) for f in os.listdir(d.state_dir)
               if f == "audit.log")
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
    assert not [r for r in audit_records(d.state_dir) if r["event"] == "incident.escalated"], \
        "the deadline fired before the limit was set: the machine is too slow for this test"
    try:
        wait_until(lambda: d.poll_notes() and "watchdog: deadlines and delivery outcomes "
                   "cannot be recorded" in d.stderr(), 20, what="the watchdog giving up")
        assert "cannot be recorded (File too large)" in d.stderr()
        d.poll_notes()
        quiet_from = len(d.notes)
        t0 = time.monotonic()
        wait_until(lambda: d.poll_notes() and time.monotonic() - t0 > 1.5, 5, what="1.5 s")
        assert d.call("GET", "/healthz").status in (200, 503)     # the loop turns
        later = d.poll_notes()[quiet_from:]
        assert not any("WATCHDOG=1" in n for n in later), later
        assert any(n.startswith("STATUS=failing: deadlines and delivery outcomes")
                   for n in d.notes), d.notes
    finally:
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    before = len(pings(d))
    wait_until(lambda: len(pings(d)) >= before + 2, 10, what="pings again")
    assert "watchdog: healthy again" in d.stderr()
    esc = [r for r in audit_records(d.state_dir)
           if r["event"] == "incident.escalated" and r["incident"] == iid]
    assert len(esc) == 1 and esc[0]["data"]["late_ms"] > 500
    wait_until(lambda: any(n.startswith("STATUS=running: 1 open incidents, 1 overdue; "
                                        "last audit error ") and "File too large" in n
                           for n in d.poll_notes()), 10, what="STATUS with the last error")
    d.stop()


# -- reload -----------------------------------------------------------------------

def reload(d, note="READY=1"):
    d.poll_notes()
    before = len(d.notes)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: any(note in n for n in d.poll_notes()[before:]), 20,
               what="the reload to end")
    return d.notes[before:]


def edit_config(d, old, new):
    with open(d.config_path) as f:
        text = f.read()
    assert old in text, old
    with open(d.config_path, "w") as f:
        f.write(text.replace(old, new))


def test_reload_tells_systemd_and_a_broken_file_keeps_it_serving(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    t0 = time.monotonic()
    notes = reload(d)
    t1 = time.monotonic()
    m = re.search(r"RELOADING=1\nMONOTONIC_USEC=(\d+)", notes[0])
    assert m, notes
    # CLOCK_MONOTONIC, the clock systemd compares with.
    assert t0 - 1 <= int(m.group(1)) / 1e6 <= t1 + 1
    assert notes[-1].startswith("READY=1"), notes
    recs = [r for r in audit_records(d.state_dir) if r["event"] == "config.reloaded"]
    assert len(recs) == 1

    edit_config(d, "  leader: li\n", "  leader: nobody\n")
    notes = reload(d)
    assert notes[0].startswith("RELOADING=1") and notes[-1].startswith("READY=1"), notes
    err = d.stderr()
    assert "reload failed: %s has errors" % d.config_path in err, err
    failed = [r for r in audit_records(d.state_dir) if r["event"] == "config.reload_failed"]
    assert len(failed) == 1
    assert failed[0]["actor"] == "dutyd"
    assert failed[0]["data"]["path"] == d.config_path
    assert any(e.startswith(d.config_path + ":") and "nobody" in e
               for e in failed[0]["data"]["errors"]), failed
    # Still serving, with the old duty block: li is still the leader.
    iid = d.report().json["id"]
    sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    d.stop()


def test_reload_refuses_a_new_state_dir(make_dutyd):
    d = make_dutyd()
    d.start()
    edit_config(d, 'state_dir: "%s"' % d.state_dir, 'state_dir: "%s-moved"' % d.state_dir)
    reload(d)
    err = d.stderr()
    assert "reload refused: state_dir changed from %s to %s-moved" % (d.state_dir, d.state_dir) in err
    assert "stop dutyd, move the directory and start it again" in err
    failed = [r for r in audit_records(d.state_dir) if r["event"] == "config.reload_failed"]
    assert len(failed) == 1 and "state_dir" in failed[0]["data"]["reason"]
    assert not os.path.exists(d.state_dir + "-moved")
    assert d.report().status == 201
    d.stop()


def test_reload_rebinds_a_changed_listen_and_keeps_open_connections(make_dutyd):
    """Without socket activation dutyd binds `listen` itself.  The harness
    holds 127.0.0.1:PORT, so 127.0.0.2:PORT and 127.0.0.3:PORT are free
    for dutyd (see test_listen.py)."""
    d = make_dutyd()
    edit_config(d, 'listen: "127.0.0.1:%d"' % d.port, 'listen: "127.0.0.2:%d"' % d.port)
    d.host = "127.0.0.2"
    d.start(activate=False)
    kept = http.client.HTTPConnection("127.0.0.2", d.port, timeout=30)
    kept.request("GET", "/healthz")
    r = kept.getresponse()
    assert r.status == 200
    r.read()
    edit_config(d, 'listen: "127.0.0.2:%d"' % d.port, 'listen: "127.0.0.3:%d"' % d.port)
    reload(d)
    assert "listening on 127.0.0.3:%d instead of 127.0.0.2:%d" % (d.port, d.port) in d.stderr()
    assert get("127.0.0.3", d.port)[0] == 200
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", d.port), timeout=10).close()
    # The connection accepted before the reload is still served.
    kept.request("GET", "/healthz")
    r = kept.getresponse()
    assert r.status == 200 and json.loads(r.read())
    kept.close()
    # A listen that cannot be bound fails the reload and keeps the old one.
    edit_config(d, 'listen: "127.0.0.3:%d"' % d.port, 'listen: "192.0.2.1:%d"' % d.port)
    reload(d)
    assert "reload failed: cannot listen on 192.0.2.1:%d" % d.port in d.stderr()
    assert get("127.0.0.3", d.port)[0] == 200
    failed = [r for r in audit_records(d.state_dir) if r["event"] == "config.reload_failed"]
    assert len(failed) == 1 and "192.0.2.1" in failed[0]["data"]["reason"]
    d.stop()
