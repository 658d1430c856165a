"""Faults while running: a full disk (a small tmpfs) with the reserve, a
file-size limit (EFBIG), a channel that hangs.  Reports and staff actions
get 503 and are never half-saved; clocks and notifications go on; dutyd
says so once, tells systemd, and recovers by itself."""
import errno
import os
import resource
import subprocess
import time

import pytest

from conftest import audit_records, parse_time, verify_segments, wait_until


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs; needs root (CAP_SYS_ADMIN)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mnt)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs: %s" % p.stdout.decode(errors="replace"))
    try:
        yield str(mnt)
    finally:
        if subprocess.run(["umount", str(mnt)]).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)])


def on_disk(d, mnt):
    """Moves the Dutyd's state_dir onto the small disk."""
    state = os.path.join(mnt, "state")
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace('state_dir: "%s"' % d.state_dir, 'state_dir: "%s"' % state))
    d.state_dir = state
    return d


def fill(path):
    """Writes until the disk is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    chunk = b"\0" * 65536
    try:
        while True:
            try:
                if os.write(fd, chunk) == 0:
                    break
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    break
                raise
    finally:
        os.close(fd)


def records(d, event, incident=None):
    return [r for r in audit_records(d.state_dir, event)
            if incident is None or r.get("incident") == incident]


def titles_in_log(d):
    return {r["data"]["report"]["title"] for r in records(d, "report.received")}


def status_notes(d):
    return [n for n in d.poll_notes() if "STATUS=" in n]


@pytest.mark.slow(9)
def test_disk_full_with_reserve(small_disk, make_dutyd, sink):
    d = on_disk(make_dutyd(ack_timeout="6s", report_deadline="1h",
                           extra="audit:\n  reserve: 256KiB\n"), small_disk)
    d.start()
    a = d.report(title="磁盘满之前").json
    sink.wait_delivered("incident.new", a["id"], {"zhang", "li"})
    acked, refused = ["磁盘满之前"], []

    filler = os.path.join(small_disk, "filler")
    fill(filler)
    # The log's last page may still take a line or two; then it is full.
    for i in range(30):
        title = "磁盘满%d" % i
        r = d.report(title=title)
        if r.status == 503:
            refused.append(title)
            break
        assert r.status == 201, r
        acked.append(title)
    assert r.status == 503, "the disk is full but reports still get 201"
    assert "could not be saved" in r.json["error"], r.json
    assert time.time() < parse_time(a["ack_deadline"]) - 1, "too slow to test the outage"
    # Staff actions too; nothing is half-saved.
    r = d.call("POST", "/api/v1/incidents/%s/ack" % a["id"], "secret-zhang")
    assert r.status == 503, r
    assert "could not be saved" in r.json["error"], r.json
    h = d.call("GET", "/healthz")
    assert h.status == 503, h

    # The clock fires during the outage, on time, and the call goes out.
    def escalated():
        title = "等待中%d" % len(refused)
        r = d.report(title=title)
        assert r.status == 503, "a report was accepted while the disk is still full: %r" % r
        refused.append(title)
        got = {x["body"]["recipient"]["id"] for x in sink.delivered("incident.escalated", a["id"])}
        return got == {"zhang", "li", "wang"}
    wait_until(escalated, timeout=15, interval=0.3, what="the escalation during the outage")
    fired = records(d, "incident.escalated", a["id"])
    assert len(fired) == 1
    assert fired[0]["data"]["late_ms"] < 1000, fired[0]
    # Its deliveries are recorded too, out of the reserve.
    wait_until(lambda: len([x for x in records(d, "notify.attempt")
                            if x["data"]["outcome"] == "delivered"
                            and x["seq"] > fired[0]["seq"]]) >= 3,
               what="the escalation's deliveries recorded during the outage")
    # And reports keep being refused for a while: no flapping.  The 2 s
    # window is the thing tested (dutyd retries the log every second), so
    # this loop samples it: the sleep spaces the samples, it waits for nothing.
    t_end = time.monotonic() + 2
    while time.monotonic() < t_end:
        title = "仍满%d" % len(refused)
        r = d.report(title=title)
        assert r.status == 503, "a report was accepted while the disk is still full: %r" % r
        refused.append(title)
        time.sleep(0.2)
    assert d.proc.poll() is None, "dutyd must keep running"
    assert any("not writable" in n for n in status_notes(d)), d.notes

    # Space returns: reports are accepted again within a few seconds.
    os.unlink(filler)

    def accepted():
        title = "恢复%d" % len(refused)
        r = d.report(title=title)
        if r.status == 201:
            acked.append(title)
            return True
        assert r.status == 503, r
        refused.append(title)
        return False
    wait_until(accepted, timeout=10, interval=0.3, what="reports accepted again")
    wait_until(lambda: d.call("GET", "/healthz").status == 200, what="healthy again")
    r = d.call("POST", "/api/v1/incidents/%s/ack" % a["id"], "secret-zhang")
    assert r.status == 200, r
    d.stop()

    verify_segments(d.state_dir)
    in_log = titles_in_log(d)
    assert set(acked) <= in_log, set(acked) - in_log
    assert not (set(refused) & in_log), set(refused) & in_log
    assert d.stderr().count("the audit log cannot be written") == 1, d.stderr()
    assert len(records(d, "incident.escalated", a["id"])) == 1


@pytest.mark.slow(4.5)
def test_file_size_limit_clock_fires_after_recovery(make_dutyd, sink):
    """EFBIG: unlike a full disk no reserve helps; the due clock is not lost
    but recorded and delivered once the log can be written again."""
    d = make_dutyd(ack_timeout="2s", report_deadline="1h").start()
    a = d.report(title="限制之前").json
    sink.wait_delivered("incident.new", a["id"], {"zhang", "li"})
    wait_until(lambda: len(records(d, "notify.attempt")) == 2, what="both deliveries recorded")
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (os.path.getsize(d.audit_path),
                                                        resource.RLIM_INFINITY))
    try:
        r = d.report(title="限制中")
        assert r.status == 503 and "could not be saved" in r.json["error"], r
        assert time.time() < parse_time(a["ack_deadline"]), "too slow to test the outage"
        wait_until(lambda: any("not writable" in n for n in status_notes(d)),
                   what="STATUS saying the log is not writable")
        # Past the deadline, still unwritable: nothing delivered unrecorded.
        wait_until(lambda: time.time() > parse_time(a["ack_deadline"]) + 1.5, timeout=10,
                   what="the deadline to pass during the outage")
        assert not sink.all("incident.escalated", a["id"])
        assert d.proc.poll() is None
    finally:
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    sink.wait_delivered("incident.escalated", a["id"], {"li", "wang"}, timeout=10)
    fired = records(d, "incident.escalated", a["id"])
    assert len(fired) == 1
    assert fired[0]["data"]["late_ms"] >= 1500
    ok = d.report(title="限制之后")
    assert ok.status == 201, ok
    wait_until(lambda: "STATUS=running" in status_notes(d)[-1], what="STATUS back to running")
    d.stop()
    verify_segments(d.state_dir)
    assert "限制中" not in titles_in_log(d)
    assert d.stderr().count("the audit log cannot be written") == 1
    assert len(records(d, "incident.escalated", a["id"])) == 1


@pytest.mark.slow(3.5)
def test_hanging_channel_holds_up_neither_intake_nor_clocks(make_dutyd, sink):
    sink.hold.clear()
    d = make_dutyd(ack_timeout="2s", report_deadline="3s").start()
    incs = []
    for i in range(5):
        r = d.report(title="通道挂起%d" % i)
        assert r.status == 201, r
        incs.append(r.json)
    for inc in incs:
        wait_until(lambda: records(d, "incident.report_overdue", inc["id"]), timeout=10,
                   what="the report clock of %s" % inc["id"])
        for event, key in (("incident.escalated", "ack_deadline"),
                           ("incident.report_overdue", "report_deadline")):
            fired = records(d, event, inc["id"])
            assert len(fired) == 1, fired
            # A loop held by the hanging channel would fire them 15 s late (the
            # channel's timeout) or never; 3 s covers a loaded machine, where the
            # sync at the end of a turn alone was seen taking 1.5 s (make check
            # runs two passes of eight workers on two cores).
            assert abs(parse_time(fired[0]["ts"]) - parse_time(inc[key])) < 3.0, (fired[0], inc[key])
    assert not sink.requests, "nothing can have been answered yet"
    sink.hold.set()
    for inc in incs:
        sink.wait_delivered("incident.escalated", inc["id"], {"li", "wang"}, timeout=20)
    d.stop()
