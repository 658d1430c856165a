"""A damaged audit log: a torn last line is cut away with a warning; any
other damage stops start-up naming the first bad seq, unless the operator
accepts it (recorded); `dutyd --verify-audit` checks offline."""
import hashlib
import json
import os
import re

import pytest

from conftest import audit_records, run_dutyd, verify_segments


def make_log(d):
    """A short real log: three reports, an ack, a resolve, deliveries."""
    d.start()
    ids = [d.report(title="报告%d" % i).json["id"] for i in range(3)]
    for iid in ids:
        d.sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    assert d.call("POST", "/api/v1/incidents/%s/ack" % ids[0], "secret-zhang").status == 200
    assert d.call("POST", "/api/v1/incidents/%s/resolve" % ids[1], "secret-li").status == 200
    d.sink.wait_delivered("incident.resolved", ids[1], {"zhang", "li"})
    d.stop()
    n = verify_segments(d.state_dir)
    assert n >= 10, n
    return ids


def lines_of(d):
    with open(d.audit_path, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def write_lines(d, lines):
    with open(d.audit_path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")


def middle_report_seq(d):
    """The seq of the second report.received: well inside the log."""
    return [r["seq"] for r in d.audit() if r["event"] == "report.received"][1]


def start_refused(d, args=()):
    d.start(args=args, wait=False)
    rc = d.proc.wait(timeout=60)
    notes = d.poll_notes()
    d.notify.close()
    assert not any("READY=1" in n for n in notes), "dutyd got ready on a broken log"
    err = d.stderr()
    assert "Sanitizer" not in err and "runtime error" not in err, err
    assert rc == 1, "exit %d:\n%s" % (rc, err)
    return err


def names_bad_seq(text, n):
    return re.search(r"the first bad record is seq %d\b" % n, text)


def edit(lines, i):
    rec = json.loads(lines[i])
    assert rec["event"] == "report.received"
    # One character inside data; the line stays valid JSON of the same length.
    old = "报告".encode()
    assert old in lines[i]
    lines[i] = lines[i].replace(old, "报吿".encode(), 1)
    json.loads(lines[i])


def delete(lines, i):
    del lines[i]


def swap(lines, i):
    lines[i], lines[i + 1] = lines[i + 1], lines[i]


def garbage(lines, i):
    lines[i] = b"this line is not a record at all"


@pytest.mark.parametrize("damage", [edit, delete, swap, garbage])
def test_broken_chain_stops_start_naming_the_first_bad_seq(make_dutyd, damage):
    d = make_dutyd()
    make_log(d)
    n = middle_report_seq(d)
    lines = lines_of(d)
    damage(lines, n - 1)
    write_lines(d, lines)
    before = open(d.audit_path, "rb").read()
    err = start_refused(d)
    assert names_bad_seq(err, n), err
    # Nothing was "repaired": the evidence is left as it was.
    assert open(d.audit_path, "rb").read() == before
    # The offline check agrees.
    rc, out, oerr = run_dutyd("--verify-audit", d.audit_path)
    assert rc == 1, out + oerr
    assert names_bad_seq(out + oerr, n), out + oerr


def test_torn_last_line_is_cut_away_with_a_warning(make_dutyd):
    d = make_dutyd()
    make_log(d)
    last = verify_segments(d.state_dir)
    offset = os.path.getsize(d.audit_path)
    with open(d.audit_path, "ab") as f:
        f.write(b'{"seq":%d,"ts":"2026-11-28T14:40:35.123+08:00","event":"report.rec' % (last + 1))
    d.start()
    err = d.stderr()
    assert re.search(r"byte offset %d\b" % offset, err), err
    r = d.report(title="修复后")
    assert r.status == 201, r
    d.stop()
    # The torn bytes are gone and the chain goes on from the last good record.
    n = verify_segments(d.state_dir)
    recs = audit_records(d.state_dir)
    assert n > last
    assert recs[last]["seq"] == last + 1
    assert "修复后" in [r["data"]["report"]["title"] for r in recs if r["event"] == "report.received"]


def test_verify_audit_intact(make_dutyd):
    d = make_dutyd()
    make_log(d)
    lines = lines_of(d)
    last = json.loads(lines[-1])["seq"]
    want = hashlib.sha256(lines[-1]).hexdigest()
    for target in (d.audit_path, d.state_dir):
        rc, out, err = run_dutyd("--verify-audit", target)
        assert rc == 0, out + err
        text = out + err
        assert re.search(r"^last good seq: %d$" % last, text, re.M), text
        assert re.search(r"^last line sha256: %s$" % want, text, re.M), text
        assert "first bad" not in text


def test_verify_audit_damaged(make_dutyd):
    d = make_dutyd()
    make_log(d)
    n = middle_report_seq(d)
    lines = lines_of(d)
    good = lines[n - 2]
    edit(lines, n - 1)
    write_lines(d, lines)
    for target in (d.audit_path, d.state_dir):
        rc, out, err = run_dutyd("--verify-audit", target)
        text = out + err
        assert rc == 1, text
        assert names_bad_seq(text, n), text
        assert re.search(r"^last good seq: %d$" % (n - 1), text, re.M), text
        assert re.search(r"^last line sha256: %s$" % hashlib.sha256(good).hexdigest(),
                         text, re.M), text


def test_verify_audit_missing_file():
    rc, out, err = run_dutyd("--verify-audit", "/nonexistent/audit.log")
    assert rc != 0
    assert "/nonexistent/audit.log" in out + err


def test_accept_broken_chain(make_dutyd, sink):
    d = make_dutyd()
    ids = make_log(d)
    n = middle_report_seq(d)
    lines = lines_of(d)
    edit(lines, n - 1)
    write_lines(d, lines)
    assert names_bad_seq(start_refused(d), n)

    # The operator looked at it and starts anyway: recorded, in the chain.
    d.start(args=("--accept-broken-chain",))
    accepted = [r for r in d.audit() if r["event"] == "audit.chain_broken"]
    assert len(accepted) == 1, accepted
    assert accepted[0]["actor"] == "operator"
    assert accepted[0]["data"]["seq"] == n
    # Appended after the damaged log, continuing its chain.
    prev = hashlib.sha256(lines[-1]).hexdigest()
    seq = len(lines)
    for line in lines_of(d)[len(lines):]:
        rec = json.loads(line)
        seq += 1
        assert rec["seq"] == seq and rec["prev"] == prev, rec
        prev = hashlib.sha256(line).hexdigest()
    assert accepted[0]["seq"] > len(lines)
    r = d.call("GET", "/api/v1/incidents/" + ids[0], "secret-zhang")
    assert r.status == 200 and r.json["state"] == "acknowledged", r
    new = d.report(title="接受后")
    assert new.status == 201, new
    d.stop()

    # A normal start now succeeds: that break was accepted.
    d.start()
    assert d.call("GET", "/api/v1/incidents/" + new.json["id"], "secret-zhang").status == 200
    after = d.report(title="再次重启后")
    assert after.status == 201
    d.stop()
    assert len([r for r in d.audit() if r["event"] == "audit.chain_broken"]) == 1

    # A new break after the accepted one stops start-up again.
    m = [r["seq"] for r in d.audit() if r["event"] == "report.received"
         and r["data"]["report"]["title"] == "接受后"][0]
    lines = lines_of(d)
    assert m < len(lines)
    lines[m - 1] = lines[m - 1].replace("接受后".encode(), "接收后".encode(), 1)
    write_lines(d, lines)
    err = start_refused(d)
    assert names_bad_seq(err, m), err
