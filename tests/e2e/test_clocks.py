"""Many deadlines due at once: each fires once, on time, and reports posted
meanwhile are still answered.

The log is generated (bench/loggen.py's templates, from one incident this
dutyd recorded): thousands of open incidents whose acknowledgement deadlines
fall within one second shortly after start.  Before escalations' notifications
were queued behind the firings, each firing wrote its intent and started two
deliveries on the spot: a report posted in that second waited for all of
them, and later deadlines fired seconds late.
"""
import json
import os
import sys
import threading
import time

from conftest import SANITIZED, audit_records, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import loggen  # noqa: E402  (bench/loggen.py: record templates and a raw log)

N = 1500 if SANITIZED else 6000
WINDOW_MS = 1000
# Generous: the machine is shared (2 cores, other suites beside): before
# queueing, load average 15: late p99 0.5-0.7 s at 4,000, 5 s at 8,000 (load 50).
LATE_P99_MS = 2000 if SANITIZED else 1000
# A bound for a stall, not the figure (make bench: p99 33 ms with 100,000
# deadlines on a quiet machine): in make check the other pass shares the 2
# cores while the 12,000 notifications the burst causes go out, and one
# report took 2.1 s at load 10.
ANSWER_MS = 8000 if SANITIZED else 4000


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else -1


def template(d):
    """One open incident's records, as this dutyd writes them."""
    d.start()
    r = d.report(title="模板事件", level="IV", location="某县某镇",
                 occurred_at=loggen.rfc3339_ms(int(time.time() * 1000) - 60000))
    assert r.status == 201, r.status
    inc = r.json["id"]
    # Told, so the template holds its intent and attempts too.
    wait_until(lambda: sum(1 for x in audit_records(d.state_dir) if x.get("incident") == inc
                           and x["event"] == "notify.attempt") >= 2, what="the attempts recorded")
    d.stop()
    lines = []
    for name in sorted(os.listdir(d.state_dir)):
        if name.startswith("audit") and name.endswith(".log"):
            with open(os.path.join(d.state_dir, name), encoding="utf-8") as f:
                lines += [l.rstrip("\n") for l in f if json.loads(l).get("incident") == inc]
            os.unlink(os.path.join(d.state_dir, name))
    return loggen.Template(lines, inc)


def emit(d, tpl, t_first):
    for name in os.listdir(d.state_dir):
        if name.startswith("audit") and name.endswith(".log"):
            os.unlink(os.path.join(d.state_dir, name))
    log = loggen.RawLog(d.state_dir)
    for i in range(N):
        ack = t_first + i * WINDOW_MS // N
        tpl.emit(log, i + 1, {"ACK": loggen.rfc3339_ms(ack),
                              "RECV": loggen.rfc3339_ms(ack - 20 * 60000),
                              "REPD": loggen.rfc3339_ms(ack + 3600000)})
    log.close()


def test_deadlines_due_together_fire_once_on_time_and_reports_answered(make_dutyd):
    d = make_dutyd()
    tpl = template(d)
    # Writing the log and replaying it must be over before the first
    # deadline, and how long they take depends on the machine's load: timed
    # on the same log with its deadlines a day away, the real one gets three
    # times that.
    t0 = time.monotonic()
    emit(d, tpl, int(time.time() * 1000) + 86400000)
    d.start()
    took_ms = (time.monotonic() - t0) * 1000
    d.stop()
    lead_ms = int(3 * took_ms) + (5000 if SANITIZED else 2000)
    t_first = int(time.time() * 1000) + lead_ms
    emit(d, tpl, t_first)
    d.start()
    assert time.time() * 1000 < t_first - 500, (
        "writing and replaying the log outlasted the lead of %.1f s (%.1f s in the timing run)"
        % (lead_ms / 1000, took_ms / 1000))

    posts, stop = [], threading.Event()

    def poster():
        k = 0
        while not stop.is_set():
            k += 1
            t0 = time.monotonic()
            r = d.report(title="时钟期间报告 %d" % k,
                         occurred_at=loggen.rfc3339_ms(int(time.time() * 1000) - 60000))
            posts.append(((time.monotonic() - t0) * 1000, r.status))
            stop.wait(0.02)

    wait_until(lambda: time.time() * 1000 >= t_first - 300, lead_ms / 1000 + 5,
               what="the first deadline")
    th = threading.Thread(target=poster)
    th.start()
    try:
        def fired():
            n = 0
            for name in os.listdir(d.state_dir):
                if name.startswith("audit") and name.endswith(".log"):
                    with open(os.path.join(d.state_dir, name), "rb") as f:
                        # The record, not an intent telling of one.
                        n += f.read().count(b'"event":"incident.escalated","incident"')
            return n
        wait_until(lambda: fired() >= N, 60 if SANITIZED else 30, 0.2,
                   what="%d escalations" % N)
        # A little after the last: a report then is still in the burst's wake.
        time.sleep(0.3)
    finally:
        stop.set()
        th.join()
    esc = audit_records(d.state_dir, "incident.escalated")
    # Each clock once, none early, each with how late it was.
    assert sorted(x["incident"] for x in esc) == sorted("INC-%s-%04d" % (tpl.day, i + 1)
                                                        for i in range(N))
    late = [x["data"]["late_ms"] for x in esc]
    assert min(late) >= 0
    # Every report posted meanwhile answered, none kept waiting.
    assert posts and all(s == 201 for _, s in posts), posts
    assert max(ms for ms, _ in posts) < ANSWER_MS, sorted(ms for ms, _ in posts)[-5:]
    assert pct(late, 0.99) < LATE_P99_MS, (pct(late, 0.5), pct(late, 0.99), max(late))
    d.stop()
