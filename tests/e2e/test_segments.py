"""Growth: the audit log is cut into segments, one chain across them;
closed segments are never rewritten; each segment opens with a checkpoint
and start-up replays from the last one without losing state; resolved
incidents past retention are not loaded but stay in the files."""
import hashlib
import json
import os
import re
import time

import pytest

from conftest import (SEGMENT_NAME, audit_files, audit_records, parse_time, run_dutyd,
                      verify_segments, wait_until, whole_lines)

WHEN = "2026-11-28T14:05:00+08:00"


def audit_cfg(retention="1h", segment_size="4KiB"):
    return "audit:\n  segment_size: %s\n  retention: %s\n  reserve: 0\n" % (segment_size, retention)


def closed(d):
    return [p for p in audit_files(d.state_dir) if SEGMENT_NAME.match(os.path.basename(p))]


def grow(d, n_closed, tag="填充"):
    """Reports resolved at once (so checkpoints stay small) until at least
    n_closed segments are closed."""
    ids = []
    for i in range(300):
        if len(closed(d)) >= n_closed:
            return ids
        r = d.report(title="%s%d" % (tag, i), details="现场情况说明。" * 150)
        assert r.status == 201, r
        ids.append(r.json["id"])
        assert d.call("POST", "/api/v1/incidents/%s/resolve" % ids[-1], "secret-li").status == 200
    raise AssertionError("no %d segments after 300 reports: %s" % (n_closed, audit_files(d.state_dir)))


def all_settled(d):
    """Every recipient of every notification delivered or given up, in the log."""
    recs = audit_records(d.state_dir)
    owed = set()
    for r in recs:
        if r["event"] == "notify.intent":
            owed |= {(r["seq"], i) for i in range(len(r["data"]["recipients"]))}
    for r in recs:
        if (r["event"] == "notify.attempt" and r["data"]["outcome"] != "retry") \
                or r["event"] == "notify.abandoned":
            owed.discard((r["data"]["intent"], r["data"]["recipient"]))
    return not owed


def fingerprint(paths):
    out = {}
    for p in paths:
        st = os.stat(p)
        with open(p, "rb") as f:
            out[p] = (hashlib.sha256(f.read()).hexdigest(), st.st_size, st.st_mtime_ns)
    return out


def segment_records(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in whole_lines(f.read())]


def test_segments_one_chain_checkpoints_and_never_rewritten(make_dutyd, sink):
    d = make_dutyd(extra=audit_cfg()).start()
    keep = d.report(title="长期未结事件", key="keep-1", occurred_at=WHEN).json["id"]
    grow(d, 3)
    first = fingerprint(closed(d))
    for p in first:
        assert os.path.getsize(p) < 64 * 1024, "segment %s is far past 4KiB" % p
    grow(d, 6)
    assert fingerprint(first) == first, "closed segments were rewritten"
    d.stop()
    d.start()
    grow(d, 8)
    d.stop()
    assert fingerprint(first) == first, "closed segments were rewritten"

    total = verify_segments(d.state_dir)
    files = audit_files(d.state_dir)
    assert len(files) >= 9
    # Every segment but the first opens with a complete checkpoint that
    # holds every incident open at that point.
    records = audit_records(d.state_dir)
    for path in files[1:]:
        recs = segment_records(path)
        assert recs[0]["event"] == "checkpoint.begin", (path, recs[0])
        k = 1
        while recs[k]["event"] == "checkpoint.incident":
            k += 1
        assert recs[k]["event"] == "checkpoint.end", (path, recs[k])
        held = {r["incident"] for r in recs[1:k]}
        start = recs[0]["seq"]
        reported = {r["incident"] for r in records[:start - 1] if r["event"] == "report.received"}
        resolved = {r["incident"] for r in records[:start - 1] if r["event"] == "incident.resolved"}
        assert reported - resolved <= held, (path, reported - resolved - held)
        assert held <= reported, (path, held - reported)
        assert keep in held
        # Exactly one checkpoint per segment, at its start.
        assert not [r for r in recs[k + 1:] if r["event"].startswith("checkpoint.")], path

    # The offline check walks the segments too: by state_dir and by files in order.
    want = hashlib.sha256(open(files[-1], "rb").read().splitlines()[-1]).hexdigest()
    for args in ([d.state_dir], files):
        rc, out, err = run_dutyd("--verify-audit", *args)
        assert rc == 0, out + err
        assert re.search(r"^last good seq: %d$" % total, out + err, re.M), out + err
        assert re.search(r"^last line sha256: %s$" % want, out + err, re.M), out + err


@pytest.mark.slow(4.5)
def test_restart_replays_from_checkpoint_with_state_intact(make_dutyd, sink):
    d = make_dutyd(ack_timeout="2s", report_deadline="1h", extra=audit_cfg()).start()
    ids = {}
    for k in ("acked", "escalated", "resolved", "filed"):
        r = d.report(title="早期" + k, key="early-" + k, occurred_at=WHEN)
        assert r.status == 201, r
        ids[k] = r.json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/ack" % ids["acked"], "secret-zhang",
                  {"note": "已核实"}).status == 200
    assert d.call("POST", "/api/v1/incidents/%s/resolve" % ids["resolved"], "secret-zhang").status == 200
    assert d.call("POST", "/api/v1/incidents/%s/written-report" % ids["filed"], "secret-li",
                  {"reference": "A应急〔2026〕1号"}).status == 200
    sink.wait_delivered("incident.escalated", ids["escalated"], {"li", "wang"})
    sink.wait_delivered("incident.escalated", ids["filed"], {"li", "wang"})
    grow(d, 4)
    # Their reports are in the first segments, long closed.
    early = [r for p in closed(d)[:2] for r in segment_records(p)]
    assert set(ids.values()) <= {r["incident"] for r in early if r["event"] == "report.received"}

    def snapshot():
        out = {}
        for k, iid in ids.items():
            r = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang")
            assert r.status == 200, (k, r)
            out[k] = r.json
        return out
    wait_until(lambda: all_settled(d), timeout=15, what="every delivery to be recorded")
    before = snapshot()
    assert before["acked"]["state"] == "acknowledged"
    assert before["escalated"]["clocks"]["ack"]["state"] == "fired"
    assert before["resolved"]["state"] == "resolved"
    assert before["filed"]["written_report"]["reference"] == "A应急〔2026〕1号"
    listed = d.call("GET", "/api/v1/incidents?state=all", "secret-zhang").json
    d.stop()
    d.start()

    after = snapshot()
    for k in ids:
        assert after[k] == before[k], "%s changed across the restart:\n%s\n%s" % (k, before[k], after[k])
        assert after[k]["timeline"][0]["event"] == "report.received"
    assert d.call("GET", "/api/v1/incidents?state=all", "secret-zhang").json == listed
    # Idempotency keys from the first segment still answer.
    for k, iid in ids.items():
        r = d.report(title="早期" + k, key="early-" + k, occurred_at=WHEN)
        assert r.status == 200 and r.json["id"] == iid, (k, r)
    # Ids keep counting up: nothing is handed out twice.
    new = d.report(title="重启后").json["id"]
    assert new not in {i["id"] for i in listed["incidents"]}
    assert new > max(i["id"] for i in listed["incidents"])
    # Fired clocks stay fired: nothing escalates twice.
    sink.wait_delivered("incident.escalated", new, {"li", "wang"})
    esc = [r["incident"] for r in audit_records(d.state_dir) if r["event"] == "incident.escalated"]
    assert esc.count(ids["escalated"]) == 1 and esc.count(ids["filed"]) == 1
    assert ids["acked"] not in esc
    d.stop()
    verify_segments(d.state_dir)


def test_resolved_past_retention_not_loaded_but_kept(make_dutyd, sink):
    d = make_dutyd(extra=audit_cfg(retention="2s")).start()
    old = d.report(title="早已处置").json["id"]
    still_open = d.report(title="仍未处置", key="open-1", occurred_at=WHEN).json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/resolve" % old, "secret-li").status == 200
    fillers = grow(d, 3)
    late = d.report(title="刚处置").json["id"]
    r = d.call("POST", "/api/v1/incidents/%s/resolve" % late, "secret-li")
    assert r.status == 200
    sink.wait_delivered("incident.resolved", late, {"zhang", "li"})
    listed = d.call("GET", "/api/v1/incidents?state=all", "secret-zhang").json
    wait_until(lambda: all_settled(d), timeout=15, what="every delivery to be settled")
    wait_until(lambda: time.time() > parse_time(r.json["resolved_at"]) + 2.5,
               timeout=10, what="retention to pass")
    d.stop()
    d.start()
    for iid in [old, late] + fillers:
        g = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang")
        assert g.status == 404, (iid, g)
    g = d.call("GET", "/api/v1/incidents/" + still_open, "secret-zhang")
    assert g.status == 200 and g.json["state"] == "open"
    assert g.json["timeline"][0]["event"] == "report.received"
    r2 = d.report(title="仍未处置", key="open-1", occurred_at=WHEN)
    assert r2.status == 200 and r2.json["id"] == still_open
    everything = d.call("GET", "/api/v1/incidents?state=all", "secret-zhang").json
    assert [i["id"] for i in everything["incidents"]] == [still_open]
    # Unloaded is not forgotten: a new incident never reuses their ids.
    new = d.report(title="新事件").json["id"]
    assert new not in {i["id"] for i in listed["incidents"]}
    d.stop()
    # Their records stay in the log files.
    recs = audit_records(d.state_dir)
    for iid in (old, late):
        events = [r["event"] for r in recs if r.get("incident") == iid]
        assert "report.received" in events and "incident.resolved" in events, (iid, events)
    verify_segments(d.state_dir)


def test_segment_size_has_a_floor(make_dutyd, tmp_path):
    d = make_dutyd(extra=audit_cfg(segment_size="1KiB"))
    rc, out, err = run_dutyd("-t", "-c", d.config_path)
    assert rc != 0
    assert "segment_size" in out + err and "4KiB" in out + err, out + err
    d = make_dutyd(extra=audit_cfg(segment_size="4KiB"))
    rc, out, err = run_dutyd("-t", "-c", d.config_path)
    assert rc == 0, out + err
    d = make_dutyd(extra=audit_cfg(segment_size="4KB"))
    rc, out, err = run_dutyd("-t", "-c", d.config_path)
    assert rc != 0 and "KiB" in out + err, out + err


def test_damage_in_a_closed_segment_stops_start(make_dutyd, sink):
    d = make_dutyd(extra=audit_cfg()).start()
    grow(d, 4)
    d.stop()
    segs = closed(d)
    # An edit inside the second closed segment, in a report.
    recs = segment_records(segs[1])
    victim = [r for r in recs if r["event"] == "report.received"][0]
    with open(segs[1], "rb") as f:
        data = f.read()
    assert data.count("填充".encode()) >= 1
    edited = data.replace(("\"title\":\"%s\"" % victim["data"]["report"]["title"]).encode(),
                          ("\"title\":\"%s\"" % victim["data"]["report"]["title"].replace("填充", "真充")).encode(), 1)
    assert edited != data
    with open(segs[1], "wb") as f:
        f.write(edited)
    want = r"the first bad record is seq %d\b" % victim["seq"]
    rc, out, err = run_dutyd("--verify-audit", d.state_dir)
    assert rc == 1 and re.search(want, out + err), out + err
    d.start(wait=False)
    assert d.proc.wait(timeout=60) == 1, d.stderr()
    assert re.search(want, d.stderr()), d.stderr()
    assert not any("READY=1" in n for n in d.poll_notes())
    d.notify.close()
    with open(segs[1], "wb") as f:
        f.write(data)

    # A whole closed segment gone: the first missing seq is the first bad one.
    first_missing = segment_records(segs[2])[0]["seq"]
    os.rename(segs[2], segs[2] + ".moved")
    want = r"the first bad record is seq %d\b" % first_missing
    rc, out, err = run_dutyd("--verify-audit", d.state_dir)
    assert rc == 1 and re.search(want, out + err), out + err
    d.start(wait=False)
    assert d.proc.wait(timeout=60) == 1, d.stderr()
    assert re.search(want, d.stderr()), d.stderr()
    d.notify.close()
    # Put back, all is well again.
    os.rename(segs[2] + ".moved", segs[2])
    d.start()
    d.stop()
    verify_segments(d.state_dir)


@pytest.mark.parametrize("keep_lines", [0, 1, 2])
def test_crash_while_writing_a_checkpoint(make_dutyd, sink, keep_lines):
    """Killed right after a rotation, before or inside the new segment's
    checkpoint: start-up falls back to the last complete one."""
    d = make_dutyd(extra=audit_cfg()).start()
    keys = {}
    for k in ("ck-1", "ck-2"):
        keys[k] = d.report(title="检查点" + k, key=k, occurred_at=WHEN).json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/ack" % keys["ck-1"], "secret-zhang").status == 200
    fillers = grow(d, 3)
    d.kill()
    lines = open(d.audit_path, "rb").read().splitlines(keepends=True)
    assert json.loads(lines[0])["event"] == "checkpoint.begin"
    assert json.loads(lines[2])["event"] == "checkpoint.incident", "two open incidents at least"
    with open(d.audit_path, "wb") as f:
        f.write(b"".join(lines[:keep_lines]))
    d.start()
    r = d.call("GET", "/api/v1/incidents/" + keys["ck-1"], "secret-zhang")
    assert r.status == 200 and r.json["state"] == "acknowledged", r
    r = d.call("GET", "/api/v1/incidents/" + keys["ck-2"], "secret-zhang")
    assert r.status == 200 and r.json["state"] == "open", r
    for k, iid in keys.items():
        again = d.report(title="检查点" + k, key=k, occurred_at=WHEN)
        assert again.status == 200 and again.json["id"] == iid, again
    # Everything recorded in the closed segments is there.
    kept = {x["incident"] for p in closed(d) for x in segment_records(p)
            if x["event"] == "report.received"}
    assert set(keys.values()) <= kept and len(kept & set(fillers)) >= 2
    for iid in kept:
        assert d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang").status == 200, iid
    new = d.report(title="之后").json["id"]
    assert new not in kept
    d.stop()
    verify_segments(d.state_dir)
