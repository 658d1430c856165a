"""The walking skeleton, end to end: report -> notify -> clocks -> ack ->
written report -> resolve, through the real binary and a webhook sink."""
import datetime
import re
import time

import pytest

from conftest import now_rfc3339, verify_chain, wait_until

# A retry with an Idempotency-Key must send the same body, so its time is fixed.
WHEN = "2026-11-28T14:05:00+08:00"
RFC3339_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def parse_time(s):
    return datetime.datetime.fromisoformat(s).timestamp()


@pytest.mark.slow(7)
def test_full_lifecycle(make_dutyd, sink):
    d = make_dutyd(ack_timeout="2s", report_deadline="5s").start()

    r = d.report(title="G15高速多车相撞", level="II", location="A县G15 K1234",
                 casualties={"dead": 1, "injured": 5, "missing": 0},
                 reporter={"name": "赵六", "phone": "+86 138-0000-0000"})
    assert r.status == 201, r
    inc = r.json
    iid = inc["id"]
    assert inc["office"] == "county-a"
    assert inc["state"] == "open"
    assert inc["late_report"] is False
    for key in ("received_at", "ack_deadline", "report_deadline"):
        assert RFC3339_OFFSET.match(inc[key]), inc[key]
    assert round(parse_time(inc["ack_deadline"]) - parse_time(inc["received_at"])) == 2
    assert round(parse_time(inc["report_deadline"]) - parse_time(inc["received_at"])) == 5
    assert r.headers["Location"].endswith("/api/v1/incidents/" + iid)

    # incident.new reaches the duty officer and the leader, signed.
    news = sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    for n in news:
        assert sink.signature_ok(n), n["headers"]
        assert n["headers"]["X-Dutyd-Event"] == "incident.new"
        assert n["body"]["incident"]["id"] == iid
        assert n["body"]["incident"]["title"] == "G15高速多车相撞"
        assert n["body"]["recipient"]["name"] in ("张伟", "李强")
        assert n["body"]["recipient"]["to"] == n["body"]["recipient"]["id"]
    assert not sink.delivered("incident.new", iid, "wang"), "wang is escalation only"

    # No ack within 2 s: the leader and the escalation list are called,
    # and the officer on duty, who writes the report, is told again.
    esc = sink.wait_delivered("incident.escalated", iid, {"zhang", "li", "wang"},
                              timeout=10)
    assert all(sink.signature_ok(e) for e in esc)
    fired = [rec for rec in d.audit() if rec["event"] == "incident.escalated"]
    assert len(fired) == 1
    # The clock fires within one second of its deadline.
    assert abs(parse_time(fired[0]["ts"]) - parse_time(inc["ack_deadline"])) < 1.0

    # Acknowledge; a second ack changes nothing.
    r = d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-zhang", {"note": "已电话核实"})
    assert r.status == 200, r
    assert r.json["state"] == "acknowledged"
    assert r.json["acknowledged"] is True
    assert r.json["acknowledged_by"] == {"id": "zhang", "name": "张伟"}
    sink.wait_delivered("incident.acknowledged", iid, {"zhang", "li"})
    r2 = d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-li", {"note": "again"})
    assert r2.status == 200
    assert r2.json["acknowledged_by"]["id"] == "zhang"
    assert r2.json["acknowledged_at"] == r.json["acknowledged_at"]

    # Filing the written report stops the 40-minute (here 5 s) clock.
    r = d.call("POST", "/api/v1/incidents/%s/written-report" % iid, "secret-li",
               {"reference": "A应急〔2026〕12号"})
    assert r.status == 200, r
    assert r.json["written_report"]["reference"] == "A应急〔2026〕12号"
    assert r.json["written_report"]["filed_by"]["id"] == "li"
    sink.wait_delivered("incident.report_filed", iid, {"zhang", "li", "wang"})
    wait_until(lambda: time.time() > parse_time(inc["report_deadline"]) + 1.5,
               timeout=10, what="the report deadline to pass")
    assert not sink.all("incident.report_overdue", iid)
    r = d.call("GET", "/api/v1/incidents/" + iid, "secret-wang")
    assert r.json["overdue"] is False
    assert r.json["clocks"]["report"]["state"] == "stopped"

    r = d.call("POST", "/api/v1/incidents/%s/resolve" % iid, "secret-zhang", {"note": "处置完毕"})
    assert r.status == 200, r
    assert r.json["state"] == "resolved"
    sink.wait_delivered("incident.resolved", iid, {"zhang", "li", "wang"})

    # The timeline tells the whole story, in order.
    r = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang")
    events = [e["event"] for e in r.json["timeline"] if not e["event"].startswith("notify.")]
    assert events == ["report.received", "incident.escalated", "incident.acknowledged",
                      "incident.report_filed", "incident.resolved"]
    # Every message was delivered once per recipient: no duplicates.
    keys = [(x["body"]["event"], x["body"]["recipient"]["id"]) for x in sink.delivered(incident=iid)]
    assert len(keys) == len(set(keys)), keys
    d.stop()
    assert verify_chain(d.audit_path) > 10


def test_ack_before_deadline_stops_escalation(make_dutyd, sink):
    d = make_dutyd(ack_timeout="2s", report_deadline="3s").start()
    iid = d.report().json["id"]
    r = d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-zhang")
    assert r.status == 200, r
    sink.wait_delivered("incident.acknowledged", iid, {"zhang", "li"})
    # The report clock still runs: its overdue notice is the proof that time passed.
    sink.wait_delivered("incident.report_overdue", iid, {"li", "wang"}, timeout=10)
    assert not sink.all("incident.escalated", iid)
    r = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang")
    assert r.json["escalated"] is False
    assert r.json["overdue"] is True
    assert r.json["clocks"]["ack"]["state"] == "stopped"
    assert r.json["clocks"]["report"]["state"] == "fired"


def test_resolve_stops_every_clock(make_dutyd, sink):
    d = make_dutyd(ack_timeout="1s", report_deadline="2s").start()
    iid = d.report().json["id"]
    r = d.call("POST", "/api/v1/incidents/%s/resolve" % iid, "secret-li")
    assert r.status == 200
    # A second incident's escalation proves the clocks of the first had their chance.
    other = d.report().json["id"]
    sink.wait_delivered("incident.report_overdue", other, {"li", "wang"}, timeout=10)
    assert not sink.all("incident.escalated", iid)
    assert not sink.all("incident.report_overdue", iid)
    # Acting on a resolved incident is refused, clearly.
    r = d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-zhang")
    assert r.status == 409
    assert "resolved" in r.json["error"]
    r = d.call("POST", "/api/v1/incidents/%s/resolve" % iid, "secret-zhang")
    assert r.status == 200, "resolve is idempotent"


def test_late_report_flag(make_dutyd):
    d = make_dutyd().start()
    late = d.report(occurred_at=now_rfc3339(-21 * 60))
    assert late.status == 201 and late.json["late_report"] is True
    timely = d.report(occurred_at=now_rfc3339(-19 * 60))
    assert timely.status == 201 and timely.json["late_report"] is False
    # Offsets are honoured: 8 hours east is the same instant.
    t = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
    east = d.report(occurred_at=(t - datetime.timedelta(minutes=5)).isoformat(timespec="seconds"))
    assert east.status == 201 and east.json["late_report"] is False


def test_listing_and_get(make_dutyd):
    d = make_dutyd().start()
    a = d.report(title="一号").json["id"]
    b = d.report(title="二号").json["id"]
    d.call("POST", "/api/v1/incidents/%s/resolve" % a, "secret-zhang")
    r = d.call("GET", "/api/v1/incidents", "secret-zhang")
    assert r.status == 200
    assert [i["id"] for i in r.json["incidents"]] == [b]
    r = d.call("GET", "/api/v1/incidents?state=open", "secret-zhang")
    assert [i["id"] for i in r.json["incidents"]] == [b]
    r = d.call("GET", "/api/v1/incidents?state=all", "secret-zhang")
    assert [i["id"] for i in r.json["incidents"]] == [b, a], "newest first"
    assert r.json["count"] == 2
    r = d.call("GET", "/api/v1/incidents/" + a, "secret-zhang")
    assert r.status == 200 and r.json["state"] == "resolved"
    assert r.json["timeline"][0]["event"] == "report.received"
    r = d.call("GET", "/api/v1/incidents?state=bogus", "secret-zhang")
    assert r.status == 400 and r.json["field"] == "state"


def test_incidents_survive_restart(make_dutyd, sink):
    d = make_dutyd().start()
    iid = d.report(key="k-1", occurred_at=WHEN).json["id"]
    d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-zhang")
    d.stop()
    d.start()
    r = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang")
    assert r.status == 200 and r.json["state"] == "acknowledged"
    again = d.report(key="k-1", occurred_at=WHEN)
    assert again.status == 200 and again.json["id"] == iid
    fresh = d.report().json["id"]
    assert fresh != iid
    d.stop()
    verify_chain(d.audit_path)


def test_healthz_and_systemd_notifications(make_dutyd):
    d = make_dutyd().start()
    r = d.call("GET", "/healthz")
    assert r.status == 200 and r.json["status"] == "ok"
    assert r.json["audit"]["writable"] is True
    d.stop()
    assert any("READY=1" in n for n in d.notes)
    assert any("STOPPING=1" in n for n in d.notes)
