"""The crash test: reports pour in while dutyd is killed with SIGKILL at
random moments.  Every report answered 201 survives with its id and its
Idempotency-Key; in the end every due clock fired exactly once and the
chain (across segments) verifies.

A failure prints the seed; replay it with DUTYD_CRASH_SEED=<seed>."""
import http.client
import os
import random
import threading
import time

from conftest import audit_records, parse_time, verify_segments, wait_until

ROUNDS = 12
THREADS = 3
WHEN = "2026-11-28T14:05:00+08:00"


class Load:
    """Threads posting reports with unique keys until told to stop."""

    def __init__(self, d, round_no):
        self.d = d
        self.round = round_no
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = []             # (key, id, title) answered 201
        self.unexpected = []
        self.threads = [threading.Thread(target=self.run, args=(t,)) for t in range(THREADS)]

    def run(self, t):
        i = 0
        while not self.stop.is_set():
            key = "crash-%d-%d-%d" % (self.round, t, i)
            title = "压测报告 %d-%d-%d" % (self.round, t, i)
            i += 1
            try:
                r = self.d.report(key=key, title=title, occurred_at=WHEN)
            except (OSError, http.client.HTTPException):
                # Cut off by the kill: never acknowledged, so nothing is owed.
                time.sleep(0.01)
                continue
            with self.lock:
                if r.status == 201:
                    self.acked.append((key, r.json["id"], title))
                else:
                    self.unexpected.append((key, r.status, r.text[:200]))
            time.sleep(0.02)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)
            assert not t.is_alive(), "a load thread hung"


def check_all_there(d, acked, recent, rng):
    """Every 201 is present with its id; its key answers 200 with the same id."""
    r = d.call("GET", "/api/v1/incidents?state=all", "secret-zhang")
    assert r.status == 200, r
    listed = {i["id"]: i for i in r.json["incidents"]}
    for key, iid, title in acked:
        assert iid in listed, "report %s (201 as %s) is gone after the crash" % (key, iid)
        assert listed[iid]["title"] == title, (key, iid, listed[iid]["title"])
    # The ones acknowledged just before the kill, one by one, plus a sample.
    sample = list(recent) + rng.sample(acked, min(10, len(acked)))
    for key, iid, title in sample:
        g = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang")
        assert g.status == 200 and g.json["id"] == iid, (key, g)
        again = d.report(key=key, title=title, occurred_at=WHEN)
        assert again.status == 200, (key, again)
        assert again.json["id"] == iid, (key, iid, again.json["id"])


def test_sigkill_under_load_loses_nothing(make_dutyd, sink):
    seed = int(os.environ.get("DUTYD_CRASH_SEED", random.randrange(1 << 32)))
    print("crash test seed: %d (replay with DUTYD_CRASH_SEED=%d)" % (seed, seed))
    rng = random.Random(seed)
    t0 = time.monotonic()
    d = make_dutyd(ack_timeout="1s", report_deadline="2s",
                   extra="audit:\n  segment_size: 64KiB\n  reserve: 0\n")
    acked = []
    d.start()
    for round_no in range(ROUNDS):
        with Load(d, round_no) as load:
            # Kill at a random moment while reports keep coming.
            wait_until(lambda: len(load.acked) >= 1, timeout=15, what="the first report of the round")
            time.sleep(rng.uniform(0.0, 0.6))
            d.kill()
            load.stop.set()
            # The harness holds the listening socket, as systemd would: a
            # request sent since the kill waits in its backlog for this dutyd.
            d.start()
        assert not load.unexpected, (seed, load.unexpected[:5])
        acked.extend(load.acked)
        check_all_there(d, acked, load.acked, rng)
    assert len(acked) >= 5 * ROUNDS, "too little load to mean anything: %d" % len(acked)

    # Past every deadline: every clock fired, once.
    ids = {a[1] for a in acked}

    def all_fired():
        recs = audit_records(d.state_dir)
        got = {r["incident"] for r in recs if r["event"] == "report.received"}
        esc = {r["incident"] for r in recs if r["event"] == "incident.escalated"}
        over = {r["incident"] for r in recs if r["event"] == "incident.report_overdue"}
        return got <= esc and got <= over
    wait_until(all_fired, timeout=30, interval=0.2, what="every clock to fire")
    d.stop()

    verify_segments(d.state_dir)
    recs = audit_records(d.state_dir)
    reported = [r["incident"] for r in recs if r["event"] == "report.received"]
    assert len(reported) == len(set(reported)), "an incident was recorded twice"
    assert ids <= set(reported)
    keys = [r["data"].get("idempotency_key") for r in recs if r["event"] == "report.received"]
    assert len(keys) == len(set(keys)), "a key made two incidents"
    for event in ("incident.escalated", "incident.report_overdue"):
        fired = {}
        for r in recs:
            if r["event"] == event:
                fired[r["incident"]] = fired.get(r["incident"], 0) + 1
        twice = {i: n for i, n in fired.items() if n != 1}
        assert not twice, (seed, event, twice)
        assert set(fired) == set(reported), (seed, event, set(reported) - set(fired))
        # Never early: a clock fires at or after its deadline.
        for r in recs:
            if r["event"] == event:
                assert parse_time(r["ts"]) >= parse_time(r["data"]["deadline"]) - 0.001, r
    print("crash test: %d rounds, %d reports acknowledged, %d records, %.1fs"
          % (ROUNDS, len(acked), len(recs), time.monotonic() - t0))
