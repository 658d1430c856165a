"""The duty room's corrections end to end, against the real binary: reports
taken by phone, duplicates merged, false reports dismissed, the incident
list's filters, a county told it was late, mistyped SMS follow-ups that
never raise a new alarm, the validation of what clients send, the Chinese
sentence on every API error, and the message texts staff read."""
import datetime
import re
import signal

import pytest

from conftest import (audit_records, check_config, now_rfc3339, parse_time, run_dutyd,
                      wait_quiet, wait_until)
from test_sms import OFFICE_A, OFFICE_B, LI, Rig, twiml_message

ZONE = datetime.timezone(datetime.timedelta(hours=8))
CJK = re.compile("[\u4e00-\u9fff]")


def records(d, event, incident=None):
    return [r for r in audit_records(d.state_dir) if r["event"] == event
            and (incident is None or r.get("incident") == incident)]


def get(d, iid, token="secret-zhang"):
    r = d.call("GET", "/api/v1/incidents/" + iid, token)
    assert r.status == 200, r
    return r.json


def listing(d, query, token="secret-zhang"):
    return d.call("GET", "/api/v1/incidents" + query, token)


def ids(r):
    assert r.status == 200, r
    return [i["id"] for i in r.json["incidents"]]


def merge(d, iid, into, note=None, token="secret-zhang"):
    body = {"into": into}
    if note is not None:
        body["note"] = note
    return d.call("POST", "/api/v1/incidents/%s/merge" % iid, token, body)


def dismiss(d, iid, reason, token="secret-li"):
    body = {} if reason is None else {"reason": reason}
    return d.call("POST", "/api/v1/incidents/%s/dismiss" % iid, token, body)


def assert_error(r, status, field):
    """A 4xx naming FIELD, in English and in a Chinese sentence."""
    assert r.status == status, r
    assert r.json["field"] == field, r.json
    assert r.json["error"] and not CJK.search(r.json["error"][:20]), r.json
    assert CJK.search(r.json["error_zh"]), r.json


# -- reports taken by phone ---------------------------------------------------

def test_a_report_taken_by_phone(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    r = d.report(token="secret-wang", office="county-b", title="某村山洪", level="Ⅱ")
    assert r.status == 201, r
    inc = r.json
    assert inc["office"] == "county-b" and inc["office_name"] == "B县应急管理局"
    assert inc["source"] == "phone" and inc["taken_by"] == {"id": "wang", "name": "王芳"}
    assert inc["level"] == "II"
    [rec] = records(d, "report.received", inc["id"])
    assert rec["actor"] == "person:wang"
    assert rec["data"]["source"] == "phone" and rec["data"]["office"] == "county-b"
    assert "office" not in rec["data"]["report"]
    # Everything else as for a county's own report: the duty room is told.
    sink.wait_delivered("incident.new", inc["id"], {"zhang", "li"})
    # The county's own report says it came over the API.
    own = d.report(title="甲")
    assert own.status == 201 and own.json["source"] == "api" and own.json["taken_by"] is None
    [rec] = records(d, "report.received", own.json["id"])
    assert rec["actor"] == "office:county-a" and rec["data"]["source"] == "api"
    d.stop()


def test_a_phoned_report_names_its_office(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    assert_error(d.report(token="secret-zhang"), 400, "office")
    r = d.report(token="secret-zhang", office="county-x")
    assert_error(r, 400, "office")
    assert "county-a" in r.json["error"] and "county-b" in r.json["error"], r.json
    # An office's token already says which office reports.
    assert_error(d.report(token="secret-a", office="county-b"), 400, "office")
    assert d.call("GET", "/api/v1/incidents?state=all", "secret-zhang").json["count"] == 0
    d.stop()


# -- late reports ----------------------------------------------------------------

def test_the_answer_says_how_late_a_report_is(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    # 35 minutes (and a few seconds) after the event, 20 allowed: 15 late.
    r = d.report(title="化工厂爆炸", occurred_at=now_rfc3339(-35 * 60 - 5))
    assert r.status == 201, r
    assert r.json["late_report"] is True and r.json["late_by_minutes"] == 15, r.json
    r = d.report(title="山体滑坡", occurred_at=now_rfc3339(-5 * 60))
    assert r.json["late_report"] is False and r.json["late_by_minutes"] == 0, r.json
    d.stop()


@pytest.fixture
def rig(dutyd_from):
    made = []

    def make(**kw):
        r = Rig(dutyd_from, **kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


def test_the_county_hears_it_was_late_by_sms(rig):
    r = rig(reply_limit=100)
    t = datetime.datetime.now().astimezone() - datetime.timedelta(minutes=35)
    answer = twiml_message(r.twilio(OFFICE_A, "%s 化工厂爆炸" % t.strftime("%H:%M")))
    [inc] = r.incidents()
    late = int((datetime.datetime.fromisoformat(inc["received_at"]) -
                datetime.datetime.fromisoformat(inc["occurred_at"])).total_seconds() // 60)
    assert late in (35, 36), inc
    assert answer == ("已收到，事件编号 %s。本次报告距事发 %d 分钟，已超过 20 分钟报告时限。"
                      "续报请以事件编号开头。" % (inc["id"], late)), answer
    assert inc["late_by_minutes"] == late - 20


# -- mistyped follow-ups by SMS ------------------------------------------------------

def test_a_mistyped_followup_is_never_a_new_incident(rig):
    r = rig(reply_limit=100)
    twiml_message(r.twilio(OFFICE_A, "化工厂爆炸"))
    [inc] = r.incidents()
    iid = inc["id"]
    near = iid.replace("INC-", "INC")          # the dash forgotten
    answer = twiml_message(r.twilio(OFFICE_A, "续报：化工厂火势已控制，无新增伤亡"))
    assert answer == ("已作为事件 %s（化工厂爆炸）的续报记录。续报请以事件编号开头，如："
                      "%s 火势已控制。" % (iid, iid)), answer
    assert twiml_message(r.twilio(OFFICE_A, "%s 补充：3人送医" % near.lower())) == \
        "已收到事件 %s 的续报。" % iid
    got = r.incident(iid)
    assert [u["fields"]["details"] for u in got["updates"]] == \
        ["化工厂火势已控制，无新增伤亡", "补充：3人送医"]
    assert [u["source"] for u in got["updates"]] == ["sms", "sms"]
    # A second open incident: a bare 续报 is answered with both, and waits.
    twiml_message(r.twilio(OFFICE_A, "山体滑坡"))
    assert len(r.incidents()) == 2
    second = [i["id"] for i in r.incidents() if i["id"] != iid][0]
    answer = twiml_message(r.twilio(OFFICE_A, "补充：道路已抢通"))
    assert answer.startswith("未能确定续报对应哪起事件，短信未登记。本单位未办结事件："), answer
    assert "%s 山体滑坡" % second in answer and "%s 化工厂爆炸" % iid in answer, answer
    assert len(r.incidents()) == 2
    [rec] = [x for x in r.records("sms.received") if x["data"]["text"] == "补充：道路已抢通"]
    assert (rec["data"]["kind"], rec["data"]["result"]) == ("followup", "several open incidents")
    # The other office has nothing open: told so, and still no incident.
    answer = twiml_message(r.twilio(OFFICE_B, "更正：受伤2人"))
    assert answer.startswith("本单位没有未办结的事件，短信未登记。"), answer
    assert len(r.incidents()) == 2
    assert len(r.records("incident.updated")) == 2


# -- merge -------------------------------------------------------------------------

@pytest.mark.slow(5)
def test_a_duplicate_is_merged(make_dutyd, sink):
    d = make_dutyd(ack_timeout="3s", report_deadline="4s")
    d.start()
    a = d.report(title="化工厂爆炸").json["id"]
    b = d.report(token="secret-b", title="某化工厂爆炸起火").json["id"]
    sink.wait_delivered("incident.new", a, {"zhang", "li"})
    r = merge(d, a, b, note="同一事件")
    assert r.status == 200, r
    assert r.json["state"] == "merged" and r.json["merged_into"] == b, r.json
    assert r.json["merged_by"] == {"id": "zhang", "name": "张伟"}
    assert r.json["merge_note"] == "同一事件"
    assert r.json["clocks"]["ack"]["state"] == "stopped"
    [rec] = records(d, "incident.merged", a)
    assert rec["actor"] == "person:zhang"
    assert rec["data"] == {"into": b, "note": "同一事件", "by_name": "张伟"}
    target = get(d, b)
    assert target["merged_from"] == [a]
    assert "incident.merged" in [e["event"] for e in target["timeline"]]
    # Those told of it get one short message, with a link that does nothing.
    got = sink.wait_delivered("incident.merged", a, {"zhang", "li"})
    text = got[0]["body"]["text"]
    assert "重复报告" in text and b in text and "/a/" not in text, text
    # A later follow-up to it goes to the other, whose timeline shows it.
    r = d.call("POST", "/api/v1/incidents/%s/updates" % a, "secret-a",
               {"details": "火势已控制"}, headers={"Idempotency-Key": "fu-1"})
    assert r.status == 201 and r.json["id"] == b, r
    assert r.headers["Location"].endswith("/api/v1/incidents/" + b)
    assert r.json["updates"][0]["via"] == a and r.json["updates"][0]["by"] == "office:county-a"
    assert "incident.updated" in [e["event"] for e in get(d, b)["timeline"]]
    sink.wait_delivered("incident.updated", b, {"zhang", "li"})
    # Its clocks stopped; the other's ran out.
    wait_until(lambda: records(d, "incident.report_overdue", b), what="the target's overdue")
    assert not records(d, "incident.escalated", a)
    assert not records(d, "incident.report_overdue", a)
    # The same merge again changes nothing; a restart keeps it all.
    assert merge(d, a, b).status == 200
    assert len(records(d, "incident.merged")) == 1
    d.stop()
    d.start()
    again = get(d, a)
    assert again["state"] == "merged" and again["merged_into"] == b
    assert get(d, b)["merged_from"] == [a]
    d.stop()
    assert len([x for x in records(d, "notify.intent", a)
                if x["data"]["event"] == "incident.merged"]) == 1


def test_what_cannot_be_merged(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    a, b, c, e = (d.report(title=t).json["id"] for t in ("甲", "乙", "丙", "丁"))
    assert_error(merge(d, a, a), 409, "into")
    assert_error(merge(d, a, "INC-20000101-0001"), 404, "into")
    assert_error(d.call("POST", "/api/v1/incidents/%s/merge" % a, "secret-zhang", {}),
                 400, "into")
    assert_error(d.call("POST", "/api/v1/incidents/%s/merge" % a, "secret-zhang",
                        {"into": b, "why": "x"}), 400, None)
    assert d.call("POST", "/api/v1/incidents/%s/resolve" % c, "secret-li", {}).status == 200
    assert_error(merge(d, a, c), 409, "into")          # into a resolved incident
    assert_error(merge(d, c, a), 409, "id")            # a resolved incident
    assert merge(d, b, a).status == 200
    r = merge(d, e, b)                                 # into a merged incident
    assert_error(r, 409, "into")
    assert a in r.json["error"], r.json                # ... says where it went
    assert_error(merge(d, b, e), 409, "id")            # a merged one elsewhere
    assert_error(d.call("POST", "/api/v1/incidents/%s/ack" % b, "secret-li", {}), 409, "id")
    assert_error(d.call("POST", "/api/v1/incidents/%s/resolve" % b, "secret-li", {}),
                 409, "id")
    assert d.call("POST", "/api/v1/incidents/%s/merge" % a, "secret-a",
                  {"into": b}).status == 401           # staff only
    assert len(records(d, "incident.merged")) == 1
    d.stop()


# -- dismiss -------------------------------------------------------------------------

@pytest.mark.slow(3)
def test_a_false_report_is_dismissed(make_dutyd, sink):
    d = make_dutyd(ack_timeout="2s")
    d.start()
    a = d.report(title="河堤决口").json["id"]
    sink.wait_delivered("incident.new", a, {"zhang", "li"})
    assert_error(dismiss(d, a, None), 400, "reason")
    assert_error(dismiss(d, a, "  "), 400, "reason")
    r = dismiss(d, a, "经核实为演练")
    assert r.status == 200, r
    assert r.json["state"] == "dismissed" and r.json["dismissal_reason"] == "经核实为演练"
    assert r.json["dismissed_by"] == {"id": "li", "name": "李强"}
    assert r.json["clocks"]["ack"]["state"] == "stopped"
    [rec] = records(d, "incident.dismissed", a)
    assert rec["actor"] == "person:li" and rec["data"]["reason"] == "经核实为演练"
    got = sink.wait_delivered("incident.dismissed", a, {"zhang", "li"})
    assert all("误报" in g["body"]["text"] and "经核实为演练" in g["body"]["text"]
               for g in got), [g["body"]["text"] for g in got]
    # Again: 200, nothing new; no other action applies.
    assert dismiss(d, a, "again").status == 200
    assert len(records(d, "incident.dismissed")) == 1
    assert_error(d.call("POST", "/api/v1/incidents/%s/written-report" % a, "secret-li", {}),
                 409, "id")
    r = d.call("POST", "/api/v1/incidents/%s/updates" % a, "secret-a", {"details": "x"})
    assert_error(r, 409, "id")
    assert "false report" in r.json["error"], r.json
    b = d.report(title="乙").json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/resolve" % b, "secret-li", {}).status == 200
    assert_error(dismiss(d, b, "x"), 409, "id")
    # Past its acknowledgement deadline: no escalation for a dismissed incident.
    wait_quiet(d, parse_time(get(d, a)["ack_deadline"]))
    assert not records(d, "incident.escalated", a)
    d.stop()
    d.start()
    assert get(d, a)["state"] == "dismissed"
    d.stop()
    assert not records(d, "incident.escalated", a)


# -- the list -------------------------------------------------------------------------

def test_the_list_filters(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    a = d.report(title="甲").json["id"]
    b = d.report(token="secret-b", title="乙").json["id"]
    c = d.report(title="丙").json["id"]
    e = d.report(title="丁").json["id"]
    assert merge(d, a, b).status == 200
    assert dismiss(d, c, "误报").status == 200
    assert ids(listing(d, "")) == [e, b]                  # open: not closed
    assert ids(listing(d, "?state=open")) == [e, b]
    assert ids(listing(d, "?state=merged")) == [a]
    assert ids(listing(d, "?state=dismissed")) == [c]
    assert ids(listing(d, "?state=all")) == [e, c, b, a]
    assert ids(listing(d, "?state=all&office=county-b")) == [b]
    assert ids(listing(d, "?office=county-a")) == [e]
    received = get(d, c)["received_at"]
    assert ids(listing(d, "?state=all&since=" + received.replace("+", "%2B"))) == [e, c]
    assert ids(listing(d, "?since=2999-01-01T00:00:00Z")) == []
    assert_error(listing(d, "?offices=county-a"), 400, "offices")
    assert_error(listing(d, "?state=open&page=2"), 400, "page")
    assert_error(listing(d, "?since=yesterday"), 400, "since")
    assert_error(listing(d, "?office=A%E5%8E%BF"), 400, "office")
    assert_error(listing(d, "?state=closed"), 400, "state")
    d.stop()


# -- validation ----------------------------------------------------------------------

def test_validation_of_what_counties_send(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    r = d.report(occurred_at=now_rfc3339(10 * 60))
    assert_error(r, 400, "occurred_at")
    assert "future" in r.json["error"] and "事发时间" in r.json["error_zh"], r.json
    assert d.report(occurred_at=now_rfc3339(4 * 60)).status == 201
    for given, stored in (("Ⅳ", "IV"), ("3", "III"), (2, "II"), ("I", "I")):
        r = d.report(level=given)
        assert r.status == 201 and r.json["level"] == stored, (given, r)
    assert_error(d.report(level="V"), 400, "level")
    iid = d.report().json["id"]
    r = d.call("POST", "/api/v1/incidents/%s/updates" % iid, "secret-a", {"level": "Ⅰ"})
    assert r.status == 201 and r.json["updates"][0]["fields"]["level"] == "I", r
    d.stop()


def test_every_error_has_a_chinese_sentence(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    iid = d.report().json["id"]
    cases = [
        d.report(title=""),                                                  # 400
        d.call("POST", "/api/v1/reports", None, {"title": "x"}),             # 401
        d.call("GET", "/api/v1/incidents/INC-20000101-0001", "secret-zhang"),  # 404
        d.call("GET", "/nowhere"),                                           # 404
        d.call("DELETE", "/api/v1/reports", "secret-a"),                     # 405
        d.call("POST", "/api/v1/reports", "secret-a", raw=b"x",
               content_type="text/plain"),                                   # 415
        d.call("POST", "/api/v1/incidents/%s/updates" % iid, "secret-b",
               {"details": "x"}),                                            # 403
        d.report(key="k1", title="甲"), d.report(key="k1", title="乙"),       # 201, 422
        d.report(details="x" * 70000),                                       # 413
    ]
    statuses = [r.status for r in cases]
    assert statuses == [400, 401, 404, 404, 405, 415, 403, 201, 422, 413], statuses
    for r in cases:
        if r.status >= 400:
            assert "error" in r.json and CJK.search(r.json["error_zh"]), r
    d.stop()


def test_dutyd_t_warns_when_the_report_falls_due_first(make_dutyd, sink, tmp_path):
    d = make_dutyd(ack_timeout="30m", report_deadline="30m")
    rc, out, err = check_config(d.config_path)
    assert rc == 0 and "configuration OK" in out, (rc, out, err)
    assert re.search(r":\d+:\d+: warning: 'report_deadline' in policy \(30m\) is not "
                     r"after 'ack_timeout' \(30m\)", err), err
    ok = make_dutyd()
    rc, out, err = check_config(ok.config_path)
    # Only the set-up warnings (a test config readable by all, run as root).
    assert rc == 0 and "report_deadline" not in err and "policy" not in err, err


CHINESE_ROSTER = """
roster:
  timezone: Asia/Shanghai
  start: 2026-01-01
  leader: { handover: "00:00", rotation: daily, people: [li] }
  shifts:
    - { name: 夜班, hours: "00:00-00:00", rotation: daily, people: [zhang] }
  overrides:
    - { start: "%s", end: "%s", shift: 夜班, person: wang }
    - "2026-01-05 夜班：zhang → wang"
"""


@pytest.mark.slow(3)
def test_shift_names_may_be_chinese(make_dutyd, sink):
    # wang's override begins 2 s after a reload once dutyd runs: a start can
    # take longer than any fixed lead on a loaded machine, and an override
    # already in force at the start hands nothing over.
    later = datetime.datetime.now(ZONE).replace(microsecond=0) + datetime.timedelta(days=1)
    first = CHINESE_ROSTER % (later.isoformat(), (later + datetime.timedelta(hours=1)).isoformat())
    d = make_dutyd(extra=first)
    rc, out, err = check_config(d.config_path)
    assert rc == 0, err
    rc, out, err = run_dutyd("--oncall", "--days", "1", "-c", d.config_path)
    assert rc == 0 and "夜班" in out, (out, err)
    d.start()
    r = d.call("GET", "/api/v1/oncall", "secret-zhang")
    assert [o["role"] for o in r.json["officers"]] == ["夜班"], r.json
    now = datetime.datetime.now(ZONE).replace(microsecond=0)
    start, end = now + datetime.timedelta(seconds=2), now + datetime.timedelta(hours=1)
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace(first, CHINESE_ROSTER % (start.isoformat(), end.isoformat())))
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: any(x["event"] == "config.reloaded" for x in audit_records(d.state_dir)),
               what="the reload")
    # The handover names the shift as the roster does.
    got = sink.wait_delivered("duty.handover", None, {"wang"}, timeout=10)
    assert any(g["body"]["text"].startswith("【值班交接】夜班接班") for g in got), \
        [g["body"]["text"] for g in got]
    d.stop()


# -- message texts ---------------------------------------------------------------------

@pytest.mark.slow(2)
def test_acknowledgement_and_filing_texts(make_dutyd, sink):
    d = make_dutyd(report_deadline="1s", ack_timeout="20m")
    d.start()
    r = d.report(title="化工厂爆炸")
    assert r.status == 201, (r, d.stderr()[-2000:])
    iid = r.json["id"]
    wait_until(lambda: records(d, "incident.report_overdue", iid), what="the report deadline")
    r = d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-zhang",
               {"note": "已派人前往现场"})
    assert r.status == 200
    got = sink.wait_delivered("incident.acknowledged", iid, {"li"})
    text = got[0]["body"]["text"]
    assert "（备注：已派人前往现场）" in text and "书面报告已超时" in text, text
    assert "书面报告须于" not in text, text
    assert d.call("POST", "/api/v1/incidents/%s/written-report" % iid, "secret-li",
                  {"reference": ""}).status == 200
    got = sink.wait_delivered("incident.report_filed", iid, {"zhang"})
    assert "（文号：未填写）" in got[0]["body"]["text"], got[0]["body"]["text"]
    d.stop()
