"""GET /api/v1/stream: Server-Sent Events (docs/api.md).  Every change of an
incident is an `event: incident` with the incident and the audit seq as its
id; Last-Event-ID resumes; offices see their own incidents only; a comment
every console.keepalive; at most console.max_streams at once; a reader that
stops reading is dropped while the others go on."""
import datetime
import json
import signal
import socket
import threading
import time

import pytest

from conftest import SANITIZED, audit_records, wait_until
from test_roster import roster
from test_tls import ca, https_port, tls_config  # noqa: F401 (ca: a fixture)

FAST = "console:\n  keepalive: 1s\n  max_streams: 3\n"


class Stream:
    """One GET /api/v1/stream on a raw socket, read with deadlines.  A thread
    reads it all the time, as a browser does, unless STUCK: then it is read
    only when the test asks (and with a small receive buffer, not at all)."""

    def __init__(self, d, token=None, headers=None, rcvbuf=None, stuck=False,
                 tls=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect((d.host, tls[1]) if tls else (d.host, d.port))
        if tls:
            self.sock = tls[0].wrap_socket(self.sock, server_hostname="127.0.0.1")
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        req = "GET /api/v1/stream HTTP/1.1\r\nHost: dutyd\r\n" + "".join(
            "%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        self.sock.sendall(req.encode())
        self.buf = b""
        self.eof = False
        self.stuck = stuck
        self.cv = threading.Condition()
        self.inbox, self.closed = [], False
        if not stuck:
            threading.Thread(target=self._reader, daemon=True).start()
        self.events = []        # every event read: {"event", "id", "data"}
        self.comments = []
        self.status, self.headers, self.body = self._head()

    def _reader(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.cv:
                if data:
                    self.inbox.append(data)
                else:
                    self.closed = True
                self.cv.notify_all()
            if not data:
                return

    def _fill(self, deadline):
        if not self.stuck:
            with self.cv:
                if not self.inbox and not self.closed:
                    self.cv.wait(max(0.01, min(0.2, deadline - time.monotonic())))
                self.buf += b"".join(self.inbox)
                self.inbox = []
                self.eof = self.closed
            return
        self.sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
        self.buf += data

    def _head(self):
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in self.buf:
            assert time.monotonic() < deadline and not self.eof, self.buf
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        body = None
        if status != 200:
            n = int(headers.get("content-length", "0"))
            while len(self.buf) < n and not self.eof:
                self._fill(deadline)
            body = json.loads(self.buf[:n])
        return status, headers, body

    def _parse(self):
        at = 0
        while True:
            end = self.buf.find(b"\n\n", at)
            if end < 0:
                break
            block, at = self.buf[at:end], end + 2
            ev = {"event": "message", "id": None, "data": []}
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    continue
                k, _, v = line.partition(":")
                v = v[1:] if v.startswith(" ") else v
                if k == "data":
                    ev["data"].append(v)
                elif k in ("event", "id"):
                    ev[k] = v
            if ev["data"]:
                ev["data"] = json.loads("\n".join(ev["data"]))
                self.events.append(ev)
        self.buf = self.buf[at:]

    def wait(self, pred, timeout=10.0, what="an event"):
        """Reads until PRED(self) is true; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            self._parse()
            value = pred(self)
            if value:
                return value
            if self.eof or time.monotonic() > deadline:
                raise AssertionError("no %s within %.1fs (eof %s); events: %s"
                                     % (what, timeout, self.eof, [
                                         (e["event"], e["id"]) for e in self.events]))
            self._fill(deadline)

    def incident(self, inc, pred=lambda data: True, timeout=10.0):
        def found(s):
            for e in s.events:
                if e["event"] == "incident" and e["data"]["id"] == inc and pred(e["data"]):
                    return e
        return self.wait(found, timeout, what="event about %s" % inc)

    def ids(self, inc=None):
        return [e["data"]["id"] for e in self.events if e["event"] == "incident"
                and (inc is None or e["data"]["id"] == inc)]

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def quiet_after(d, inc_ids, timeout=10.0):
    """Waits until the notifications of those incidents have all been tried
    (every intent has an attempt per recipient), and returns the last seq."""
    def settled():
        recs = audit_records(d.state_dir)
        owed = sum(len(r["data"].get("recipients", [])) for r in recs
                   if r["event"] == "notify.intent" and r.get("incident") in inc_ids)
        tried = sum(1 for r in recs if r["event"] == "notify.attempt"
                    and r.get("incident") in inc_ids)
        return recs[-1]["seq"] if tried >= owed else None
    return wait_until(settled, timeout=timeout, what="the notifications to be tried")


def test_report_and_ack_arrive_as_events_with_rising_ids(make_dutyd):
    d = make_dutyd(extra=FAST)
    d.start()
    s = Stream(d, token="secret-zhang")
    assert s.status == 200
    assert s.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert s.headers["cache-control"] == "no-store"
    t0 = time.monotonic()
    inc = d.report(title="某镇化工厂爆炸").json["id"]
    e = s.incident(inc, timeout=2.0)
    assert time.monotonic() - t0 < 2.0
    # The incident as GET /api/v1/incidents/{id} shows it, without the timeline.
    assert e["data"]["title"] == "某镇化工厂爆炸" and e["data"]["state"] == "open"
    assert "timeline" not in e["data"]
    got = d.call("GET", "/api/v1/incidents/" + inc, "secret-zhang").json
    assert set(e["data"]) == set(got) - {"timeline"}
    # Its id is the seq of the last record about it in that loop turn.
    seqs = {r["seq"]: r for r in audit_records(d.state_dir)}
    assert seqs[int(e["id"])]["incident"] == inc

    assert d.call("POST", "/api/v1/incidents/%s/ack" % inc, "secret-zhang",
                  {"note": "收到"}).status == 200
    acked = s.incident(inc, lambda x: x["state"] == "acknowledged")
    assert acked["data"]["acknowledged_by"]["id"] == "zhang"
    ids = [int(x["id"]) for x in s.events]
    assert ids == sorted(set(ids)), ids        # rising, never repeated
    assert int(acked["id"]) > int(e["id"])
    s.close()


def test_resume_from_last_event_id_sends_only_what_was_missed(make_dutyd):
    d = make_dutyd(extra=FAST)
    d.start()
    one = d.report(title="第一起").json["id"]
    two = d.report(title="第二起", token="secret-b").json["id"]
    last = quiet_after(d, {one, two})
    # While the client is away: a new report, and the first acknowledged.
    three = d.report(title="第三起").json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/ack" % one, "secret-zhang",
                  {}).status == 200
    quiet_after(d, {one, two, three})

    s = Stream(d, token="secret-zhang", headers={"Last-Event-ID": str(last)})
    assert s.status == 200
    # The backlog goes out before anything live; the keepalive comes after it.
    s.wait(lambda x: x.comments.count("keepalive") >= 1, what="a keepalive")
    missed = [e for e in s.events if e["event"] == "incident"]
    assert sorted(e["data"]["id"] for e in missed) == sorted([one, three])
    assert {e["data"]["id"]: e["data"]["state"] for e in missed}[one] == "acknowledged"
    assert all(int(e["id"]) > last for e in missed)
    assert [int(e["id"]) for e in missed] == sorted(int(e["id"]) for e in missed)
    s.close()

    # An id from before this dutyd's ring (here: before a restart) gets every
    # open incident once, as it is now.
    assert d.call("POST", "/api/v1/incidents/%s/resolve" % one, "secret-zhang",
                  {}).status == 200
    quiet_after(d, {one, two, three})
    d.stop()
    d.start()
    s = Stream(d, token="secret-zhang", headers={"Last-Event-ID": str(last)})
    s.wait(lambda x: x.comments.count("keepalive") >= 1, what="a keepalive")
    assert sorted(s.ids()) == sorted([two, three])
    s.close()

    s = Stream(d, token="secret-zhang", headers={"Last-Event-ID": "seven"})
    assert s.status == 400 and s.body["field"] == "Last-Event-ID"
    s.close()


def test_an_office_sees_only_its_own_incidents(make_dutyd):
    d = make_dutyd(extra=FAST)
    d.start()
    county_a = Stream(d, token="secret-a")
    staff = Stream(d, token="secret-zhang")
    assert county_a.status == staff.status == 200
    other = d.report(title="B县的", token="secret-b").json["id"]
    own = d.report(title="A县的", token="secret-a").json["id"]
    county_a.incident(own)
    staff.incident(own)
    staff.incident(other)
    assert other not in county_a.ids()
    # And on resume too.
    last = int(staff.incident(other)["id"]) - 1
    again = Stream(d, token="secret-a", headers={"Last-Event-ID": str(last)})
    again.wait(lambda x: x.comments.count("keepalive") >= 1, what="a keepalive")
    assert set(again.ids()) <= {own} and other not in again.ids()
    for s in (county_a, staff, again):
        s.close()


def test_keepalive_and_authentication(make_dutyd):
    d = make_dutyd(extra=FAST)
    d.start()
    s = Stream(d, token="secret-zhang")
    t0 = time.monotonic()
    s.wait(lambda x: "keepalive" in x.comments, timeout=3.0, what="a keepalive")
    assert time.monotonic() - t0 < 3.0
    s.close()
    anon = Stream(d)
    assert anon.status == 401
    anon.close()
    bad = Stream(d, token="wrong")
    assert bad.status == 401
    bad.close()
    # An orderly stop ends the streams; they do not hold it up.
    s = Stream(d, token="secret-zhang")
    assert s.status == 200
    t0 = time.monotonic()
    d.stop()
    # Under the 5 s drain limit (ASan's exit takes longer by itself).
    assert time.monotonic() - t0 < (4.0 if not SANITIZED else 15.0)
    s.wait(lambda x: x.eof, timeout=5, what="the end of the stream")
    s.close()


def test_with_a_session_cookie(make_dutyd):
    d = make_dutyd(extra=FAST)
    d.start()
    r = d.call("POST", "/api/v1/session", body={"token": "secret-a"})
    assert r.status == 200, r
    cookie = r.headers["Set-Cookie"].split(";", 1)[0]
    s = Stream(d, headers={"Cookie": cookie})
    assert s.status == 200
    inc = d.report(title="凭会话看到", token="secret-a").json["id"]
    s.incident(inc)
    s.close()


def test_at_most_max_streams_then_503(make_dutyd):
    d = make_dutyd(extra=FAST)
    d.start()
    streams = [Stream(d, token="secret-zhang") for _ in range(3)]
    assert [s.status for s in streams] == [200, 200, 200]
    extra = Stream(d, token="secret-zhang")
    assert extra.status == 503
    assert int(extra.headers["retry-after"]) > 0
    assert "max_streams" in extra.body["error"]
    extra.close()
    # A stream that closes frees its place.
    streams.pop().close()

    def admitted():
        s = Stream(d, token="secret-zhang")
        if s.status == 200:
            return s
        s.close()
    streams.append(wait_until(admitted, what="a place for a new stream"))
    for s in streams:
        s.close()


@pytest.mark.slow(6)
def test_a_reader_that_stops_reading_is_dropped_and_the_others_go_on(make_dutyd):
    d = make_dutyd(extra=FAST)
    d.start()
    stuck = Stream(d, token="secret-zhang", rcvbuf=4096, stuck=True)
    live = Stream(d, token="secret-zhang")
    big = {"details": "详" * 8000, "location": "地" * 2000, "cause": "因" * 2000,
           "measures": "措" * 2000}
    # Each follow-up makes the incident (and each event) about 40 KB larger:
    # in a few dozen, the events outgrow what the kernel buffers for a
    # reader that takes nothing, and the next ones wait in dutyd.  After 2
    # keepalive intervals (2 s here) with nothing taken, it is dropped.
    inc, n = None, [0]

    def dropped():
        nonlocal inc
        if "dropped" in d.stderr():
            return True
        assert n[0] < 300, "the stuck reader was never dropped"
        if n[0] % 10 == 0:
            inc = d.report(title="大量续报", **big).json["id"]
        n[0] += 1
        r = d.call("POST", "/api/v1/incidents/%s/updates" % inc, "secret-a",
                   dict(big, details="续报%d：" % n[0] + "况" * 7990))
        assert r.status == 201, r
        live.incident(inc, lambda x, k=(n[0] - 1) % 10 + 1: len(x["updates"]) == k)
        return False
    wait_until(dropped, timeout=60, interval=0.05, what="the stuck reader dropped")
    assert "event stream to 127.0.0.1 dropped: its reader took nothing" in d.stderr()
    # The one that kept reading saw every change and is still served.
    assert d.call("POST", "/api/v1/incidents/%s/ack" % inc, "secret-zhang",
                  {}).status == 200
    live.incident(inc, lambda x: x["state"] == "acknowledged")
    # The stuck one ends (once it reads what the kernel held) before the ack.
    stuck.wait(lambda x: x.eof, timeout=20, what="the end of the dropped stream")
    assert not any(e["data"].get("state") == "acknowledged" for e in stuck.events)
    stuck.close()
    live.close()


@pytest.mark.slow(3)
def test_a_handover_is_an_oncall_event(make_dutyd):
    # wang takes over as leader (an override) a second after the streams are
    # open: set by a reload then, since a start can take longer than any
    # fixed lead on a loaded machine and the handover would come before them.
    later = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
        + datetime.timedelta(days=1)
    first = roster(later, later + datetime.timedelta(hours=1))
    d = make_dutyd(extra=FAST + first)
    d.start()
    office = Stream(d, token="secret-a")
    s = Stream(d, token="secret-zhang")
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
        + datetime.timedelta(seconds=2)
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace(first, roster(start, start + datetime.timedelta(hours=1))))
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: any(r["event"] == "config.reloaded" for r in audit_records(d.state_dir)),
               what="the reload")
    e = s.wait(lambda x: [e for e in x.events if e["event"] == "oncall"], timeout=10,
               what="an oncall event")[0]
    assert e["data"]["leader"] == {"id": "wang", "name": "王芳"}
    assert {"id": "zhang", "name": "张伟", "role": "allday"} in e["data"]["officers"]
    assert e["data"]["since"] and e["data"]["until"]
    rec = [r for r in audit_records(d.state_dir) if r["event"] == "duty.handover"]
    assert int(e["id"]) == rec[0]["seq"]
    # Who is on duty is for staff (as GET /api/v1/oncall): an office's
    # stream goes on with its keepalives and no oncall event.
    seen = len(office.comments)
    office.wait(lambda x: len(x.comments) > seen, what="a keepalive after it")
    assert not [e for e in office.events if e["event"] == "oncall"]
    s.close()
    office.close()


def test_over_tls_as_over_plain_http(make_dutyd, ca):
    cert, key = ca.issue("stream")
    d = make_dutyd(extra=FAST + tls_config(cert, key))
    d.start()
    s = Stream(d, token="secret-zhang", tls=(ca.client(), https_port(d)))
    assert s.status == 200
    inc = d.report(title="加密的事件流").json["id"]
    assert s.incident(inc)["data"]["title"] == "加密的事件流"
    s.wait(lambda x: "keepalive" in x.comments, what="a keepalive over TLS")
    s.close()


def test_a_stream_ends_when_its_office_leaves_the_configuration(make_dutyd):
    d = make_dutyd(extra=FAST)
    d.start()
    county_b = Stream(d, token="secret-b")
    staff = Stream(d, token="secret-zhang")
    assert county_b.status == staff.status == 200
    with open(d.config_path) as f:
        text = f.read()
    gone = '  - id: county-b\n    name: "B县应急管理局"\n    token: "secret-b"\n'
    assert gone in text
    with open(d.config_path, "w") as f:
        f.write(text.replace(gone, ""))
    d.proc.send_signal(signal.SIGHUP)
    d.wait_note("READY=1")
    county_b.wait(lambda x: x.eof, what="the end of county-b's stream")
    assert "office county-b is no longer in" in d.stderr()
    # The others go on.
    inc = d.report(title="重载之后").json["id"]
    staff.incident(inc)
    county_b.close()
    staff.close()


def test_timeouts_spare_a_stream_and_the_caps_count_it(make_dutyd):
    # idle_timeout and body_timeout far below the keepalive: a stream is a
    # request in progress, never idle, and outlives them.
    d = make_dutyd(extra="console:\n  keepalive: 1s\n  max_streams: 8\nlimits:\n"
                   "  idle_timeout: 300ms\n  body_timeout: 300ms\n"
                   "  connections_per_source: 3\n")
    d.start()
    streams = [Stream(d, token="secret-zhang") for _ in range(3)]
    assert [s.status for s in streams] == [200, 200, 200]
    for s in streams:
        s.wait(lambda x: x.comments.count("keepalive") >= 2, timeout=5,
               what="two keepalives, past the timeouts")
        assert not s.eof
    # Three streams hold all this address may have: the next connection
    # finds nothing idle to close for it and is refused.
    r = d.call("GET", "/healthz")
    assert r.status == 503 and "connections_per_source" in r.json["error"], r
    streams.pop().close()
    wait_until(lambda: d.call("GET", "/healthz").status == 200,
               what="the place the stream freed")
    for s in streams:
        s.close()


def test_a_merge_is_an_event_about_both_incidents(make_dutyd):
    d = make_dutyd(extra=FAST)
    d.start()
    dup = d.report(title="重复的报告").json["id"]
    into = d.report(title="原始报告").json["id"]
    quiet_after(d, {dup, into})
    s = Stream(d, token="secret-zhang")
    assert s.status == 200
    r = d.call("POST", "/api/v1/incidents/%s/merge" % dup, "secret-zhang",
               {"into": into, "note": "同一起事件"})
    assert r.status == 200, r
    merged = s.incident(dup, lambda x: x["state"] == "merged")
    assert merged["data"]["merged_into"] == into
    # The merge record is about the duplicate; the incident it went into
    # changed with it (merged_from) and is an event as well.
    grown = s.incident(into, lambda x: dup in x["merged_from"])
    rec = [r for r in audit_records(d.state_dir) if r["event"] == "incident.merged"]
    assert len(rec) == 1 and rec[0]["incident"] == dup
    assert int(merged["id"]) >= rec[0]["seq"] and int(grown["id"]) >= rec[0]["seq"]
    # Resuming from just before the merge gets both once, as they are now.
    quiet_after(d, {dup, into})
    again = Stream(d, token="secret-zhang",
                   headers={"Last-Event-ID": str(rec[0]["seq"] - 1)})
    again.wait(lambda x: x.comments.count("keepalive") >= 1, what="a keepalive")
    assert sorted(again.ids()) == sorted([dup, into])
    assert {e["data"]["id"]: e["data"]["state"] for e in again.events}[dup] == "merged"
    again.close()
    s.close()


@pytest.mark.slow(20)
def test_a_resume_owed_more_than_1000_incidents_gets_1000_then_reset(make_dutyd):
    d = make_dutyd(extra=FAST)
    # Level IV reports tell nobody here: 1,001 reports, not 2,002 webhooks
    # to the test's sink as well.
    with open(d.config_path) as f:
        text = f.read()
    quiet = (text.replace('token: "secret-zhang"\n', 'token: "secret-zhang"\n    min_level: I\n')
             .replace('token: "secret-li",', 'token: "secret-li", min_level: I,'))
    assert quiet.count("min_level: I") == 2
    with open(d.config_path, "w") as f:
        f.write(quiet)
    d.start()
    first = d.report(title="断线之前", level="IV").json["id"]
    last = quiet_after(d, {first})
    # While the client is away, 1,001 new incidents: more than a resume
    # sends.  It gets 1,000 open incidents, each once, then `event: reset`
    # (reload the list), then live events as usual.
    from concurrent.futures import ThreadPoolExecutor
    # dutyd's STATUS= changes every second of the flood: they are read as
    # systemd would, or its sd_notify() blocks once 10 wait unread (seen on
    # a loaded machine, where the flood takes more than 10 s).
    flooding = threading.Event()

    def drain():
        while not flooding.wait(0.2):
            d.poll_notes()
    threading.Thread(target=drain, daemon=True).start()
    try:
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda i: d.report(title="洪水第%d报" % i, level="IV"),
                                range(1001)))
    finally:
        flooding.set()
    assert all(r.status == 201 for r in got)
    quiet_after(d, {r.json["id"] for r in got}, timeout=60)  # nothing live meanwhile
    s = Stream(d, token="secret-zhang", headers={"Last-Event-ID": str(last)})
    assert s.status == 200
    s.wait(lambda x: [e for e in x.events if e["event"] == "reset"], timeout=30,
           what="event: reset")
    incs = [e for e in s.events if e["event"] == "incident"]
    assert len(incs) == 1000
    assert len({e["data"]["id"] for e in incs}) == 1000
    assert s.events[-1]["event"] == "reset" and "reload" in s.events[-1]["data"]["reason"]
    later = d.report(title="重置之后", level="IV").json["id"]
    assert s.incident(later)["data"]["title"] == "重置之后"
    s.close()

    # Changes that fit: only what changed after the id, each once, at its
    # last change, without a reset.
    quiet_after(d, {later})
    mark = audit_records(d.state_dir)[-1]["seq"]
    for inc in (first, later):
        assert d.call("POST", "/api/v1/incidents/%s/ack" % inc, "secret-zhang",
                      {}).status == 200
    quiet_after(d, {first, later})
    s = Stream(d, token="secret-zhang", headers={"Last-Event-ID": str(mark)})
    s.wait(lambda x: x.comments.count("keepalive") >= 1, what="a keepalive")
    assert sorted(s.ids()) == sorted([first, later])
    assert all(e["data"]["state"] == "acknowledged" for e in s.events)
    assert not [e for e in s.events if e["event"] == "reset"]
    assert all(int(e["id"]) > mark for e in s.events)
    s.close()
