"""Delivery through the webhook plugin: retries with backoff, one delivered
message per recipient, every attempt in the audit log."""
import socket
import time

import pytest

from conftest import Sink, parse_time, wait_quiet, wait_until


def attempts(d, event=None):
    intents = {r["seq"]: r["data"] for r in d.audit() if r["event"] == "notify.intent"}
    out = []
    for r in d.audit():
        if r["event"] == "notify.attempt":
            intent = intents[r["data"]["intent"]]
            if event is None or intent["event"] == event:
                rcp = intent["recipients"][r["data"]["recipient"]]
                out.append(dict(r["data"], person=rcp["person"], ts=r["ts"]))
    return out


@pytest.mark.slow(3.5)
def test_failing_sink_is_retried_then_delivered_once(make_dutyd, sink):
    sink.script["zhang"] = [500, 500]
    d = make_dutyd(retry_initial="1s").start()
    iid = d.report().json["id"]
    sink.wait_delivered("incident.new", iid, {"zhang", "li"}, timeout=15)
    zhang = [r for r in sink.all("incident.new", iid) if r["body"]["recipient"]["id"] == "zhang"]
    assert [r["status"] for r in zhang] == [500, 500, 200]
    # Same delivery id on every attempt, so receivers can drop a repeat.
    assert len({r["headers"]["X-Dutyd-Delivery"] for r in zhang}) == 1
    # Backoff doubles: about 1 s, then about 2 s.
    gaps = [zhang[i + 1]["at"] - zhang[i]["at"] for i in range(2)]
    assert 0.8 < gaps[0] < 1.8 and 1.8 < gaps[1] < 3.0, gaps
    want = {("zhang", 1, "retry", 500), ("zhang", 2, "retry", 500),
            ("zhang", 3, "delivered", 200), ("li", 1, "delivered", 200)}

    def logged():
        return {(a["person"], a["attempt"], a["outcome"], a["status"])
                for a in attempts(d, "incident.new")}
    wait_until(lambda: want <= logged(), what="every attempt recorded: %s" % sorted(want))
    # Both deliveries are final in the log; a repeat would have gone out by now.
    wait_quiet(d)
    assert len(sink.delivered("incident.new", iid, "zhang")) == 1
    d.stop()


def test_retries_stop_when_resolved(make_dutyd, sink):
    sink.script["zhang"] = [500] * 100
    # Attempts at 0, 0.5 and 1.5 s; the next would be due at 3.5 s.
    d = make_dutyd(retry_initial="500ms").start()
    iid = d.report().json["id"]
    wait_until(lambda: len(sink.all("incident.new", iid)) >= 3, what="a couple of failed attempts")
    d.call("POST", "/api/v1/incidents/%s/resolve" % iid, "secret-li")
    sink.wait_delivered("incident.resolved", iid, {"li"})
    wait_until(lambda: any(r["event"] == "notify.abandoned" for r in d.audit()), what="abandon record")

    def to_zhang():
        return [r for r in sink.all("incident.new", iid) if r["body"]["recipient"]["id"] == "zhang"]
    n = len(to_zhang())
    # Past the moment the retry pending at the resolve was due (its record
    # says when): had it not been called off, it would have gone out.
    pending = [a for a in attempts(d, "incident.new")
               if a["person"] == "zhang" and a["outcome"] == "retry"]
    due = max(parse_time(a["next_attempt_at"]) for a in pending)
    wait_quiet(d, since=max(due, time.time()))
    assert len(to_zhang()) == n
    abandoned = max(r["seq"] for r in d.audit() if r["event"] == "notify.abandoned")
    late = [r for r in d.audit() if r["event"] == "notify.attempt" and r["seq"] > abandoned
            and r["data"]["intent"] in {a["intent"] for a in pending}]
    assert not late, late


def test_unsigned_without_secret(make_dutyd):
    plain = Sink(secret=None)
    try:
        d = make_dutyd(sink=plain, secret=None).start()
        iid = d.report().json["id"]
        for r in plain.wait_delivered("incident.new", iid, {"zhang", "li"}):
            assert "X-Dutyd-Signature" not in r["headers"]
            assert plain.signature_ok(r)
        d.stop()
    finally:
        plain.close()


def test_slow_channel_does_not_hold_up_intake(make_dutyd, sink):
    sink.hold.clear()      # the receiver hangs
    d = make_dutyd().start()
    t0 = time.monotonic()
    ids = [d.report(title="报告%d" % i).json["id"] for i in range(20)]
    assert time.monotonic() - t0 < 5
    assert len(set(ids)) == 20
    sink.hold.set()
    for iid in ids:
        sink.wait_delivered("incident.new", iid, {"zhang", "li"}, timeout=20)


def test_unreachable_channel_is_retried(make_dutyd, sink):
    # Nothing listens on the channel's port: connection refused.  The port is
    # held by a socket that never listens, so no other test can take it.
    dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        dead.bind(("127.0.0.1", 0))
        d = make_dutyd()
        text = open(d.config_path).read().replace(
            sink.url, "http://127.0.0.1:%d/hook" % dead.getsockname()[1])
        open(d.config_path, "w").write(text)
        d.start()
        d.report()
        wait_until(lambda: any(a["status"] == 0 for a in attempts(d)), what="a refused attempt")
        a = [a for a in attempts(d) if a["status"] == 0][0]
        assert a["outcome"] == "retry" and a["detail"]
        d.stop()
    finally:
        dead.close()
