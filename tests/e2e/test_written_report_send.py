"""The written report sent to the province (报送), end to end with the real
dutyd: submit sends the report's title and text to a local fake mail server,
the report clock stops at the submission (not at the delivery), approval
is enforced for the levels that need it, 续报 follow the first report, a
province that refuses for good alarms the duty officers, the reminder before
the deadline says what is missing, a restart between submission and
delivery loses nothing, and the old "filed by other means" still works.
"""
import hashlib
import time

import pytest

import vendors as V
from conftest import Sink, now_rfc3339, parse_time, wait_until

PROVINCE = "province@example.gov.cn"

CONFIG = """\
listen: "127.0.0.1:$port"
state_dir: "$state_dir"
plugin_dir: "$plugin_dir"
public_url: "http://127.0.0.1:$port"
organization: "某市人民政府总值班室"
province:
  name: "省政府总值班室"
$province_contacts
offices:
  - {id: county-a, name: "A县应急管理局", token: "secret-a"}
people:
  - {id: zhang, name: "张伟", token: "secret-zhang", phones: ["+8613800000001"],
     contacts: [{channel: hook, to: "zhang"}]}
  - {id: li, name: "李强", token: "secret-li", contacts: [{channel: hook, to: "li"}]}
  - {id: wang, name: "王芳", token: "secret-wang", contacts: [{channel: hook, to: "wang"}]}
duty:
  officers: [zhang]
  leader: li
  escalation: [wang]
channels:
  hook:
    plugin: webhook
    url: "$sink_url"
  mail:
    plugin: email
    url: "$smtp_url"
    from: "duty@example.org"
    starttls: none
    timeout: 2s
    connect_timeout: 2s
policy:
  ack_timeout: $ack_timeout
  report_deadline: $report_deadline
  report_reminder: $report_reminder
  retry_initial: 200ms
  retry_max: 1s
  fallback_after: 30s
"""


@pytest.fixture
def smtp():
    s = V.Smtp()
    yield s
    s.close()


@pytest.fixture
def hooks():
    s = Sink(secret=None)
    yield s
    s.close()


@pytest.fixture
def make(dutyd_from, smtp, hooks):
    def make(report_deadline="40m", report_reminder="10m", ack_timeout="20m",
             contacts=True):
        pc = ('  contacts:\n    - {channel: mail, to: "%s"}' % PROVINCE) if contacts else ""
        return dutyd_from(CONFIG, sink_url=hooks.url, smtp_url=smtp.url,
                          province_contacts=pc, report_deadline=report_deadline,
                          report_reminder=report_reminder,
                          ack_timeout=ack_timeout).start()
    return make


def report(d, level="IV", **fields):
    body = {"title": "某镇化工厂爆炸", "occurred_at": now_rfc3339(-300), "level": level,
            "location": "某镇工业园", "category": "生产安全事故"}
    body.update(fields)
    r = d.call("POST", "/api/v1/reports", "secret-a", body)
    assert r.status == 201, r.json
    return r.json["id"]


def submit(d, inc, token="secret-zhang", **body):
    return d.call("POST", "/api/v1/incidents/%s/written-report/submit" % inc, token, body)


def records(d, event, inc=None):
    return [r for r in d.records() if r["event"] == event
            and (inc is None or r.get("incident") == inc)]


def test_submit_mails_the_report_and_the_clock_stops_at_the_submission(make, smtp):
    d = make(report_deadline="3s", report_reminder="0", ack_timeout="2s")
    inc = report(d)
    r = submit(d, inc, reference="某应急〔2026〕12号")
    assert r.status == 200, r.json
    assert r.json["id"] == inc
    assert r.json["submission"] == {"number": 0, "province": "省政府总值班室",
                                    "contacts": 1, "sending": True}
    [sub] = records(d, "report.submitted", inc)
    data = sub["data"]
    assert (data["number"], data["version"], data["reference"]) == (0, 0, "某应急〔2026〕12号")
    assert data["approved_by"] is None and sub["actor"] == "person:zhang"
    text = data["title"] + "\n\n" + data["body"]
    assert data["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert "A县应急管理局" in data["title"] and "某镇化工厂爆炸" in data["title"]
    smtp.wait_delivered([PROVINCE], timeout=15)
    [t] = smtp.delivered(PROVINCE)
    msg = t["message"]
    assert str(msg["Subject"]) == data["title"]
    body = msg.get_content().replace("\r\n", "\n")
    assert data["body"].strip() in body and "一、基本情况" in body, body
    # The deadline passes: the submission met it, whatever the delivery did.
    [rcv] = records(d, "report.received", inc)
    time.sleep(max(0.0, parse_time(rcv["data"]["report_deadline"]) - time.time() + 0.5))
    assert records(d, "incident.report_overdue", inc) == []
    got = d.call("GET", "/api/v1/incidents/%s" % inc, "secret-zhang").json
    assert got["overdue"] is False and got["written_report"]["reference"] == "某应急〔2026〕12号"
    attempts = [a for a in records(d, "notify.attempt", inc)
                if a["data"].get("person") == "province"]
    assert attempts and attempts[-1]["data"]["outcome"] == "delivered"
    smtp_violations = smtp.violations
    assert not smtp_violations, smtp_violations
    d.stop()


def test_submit_without_the_required_approval_is_409_naming_what_is_missing(make, smtp):
    d = make()
    inc = report(d, level="I")
    r = submit(d, inc)
    assert r.status == 409, r.json
    assert "未审核" in r.json["error"] and "approval-request" in r.json["error"]
    assert r.json["field"] == "approval" and "审核批准" in r.json["error_zh"], r.json
    assert records(d, "report.submitted", inc) == []
    r = d.call("POST", "/api/v1/incidents/%s/written-report/approval-request" % inc,
               "secret-zhang", {})
    assert r.status == 200, r.json
    r = submit(d, inc)
    assert r.status == 409 and "待审核" in r.json["error"], r.json
    r = d.call("POST", "/api/v1/incidents/%s/written-report/approve" % inc, "secret-li",
               {"comment": "同意报送"})
    assert r.status == 200, r.json
    r = submit(d, inc, reference="某应急〔2026〕13号")
    assert r.status == 200, r.json
    [sub] = records(d, "report.submitted", inc)
    assert sub["data"]["approved_by"] == "li"
    smtp.wait_delivered([PROVINCE], timeout=15)
    d.stop()


def test_a_level_iv_report_goes_without_approval_and_the_follow_up_is_xubao_yi(make, smtp):
    d = make()
    inc = report(d, level="IV")
    assert submit(d, inc, reference="一号").status == 200
    smtp.wait_delivered([PROVINCE], timeout=15)
    r = d.call("POST", "/api/v1/incidents/%s/updates" % inc, "secret-a",
               {"casualties": {"dead": 1, "injured": 3}})
    assert r.status in (200, 201), r.json
    r = submit(d, inc, reference="二号")
    assert r.status == 200, r.json
    assert r.json["submission"]["number"] == 1
    subs = records(d, "report.submitted", inc)
    assert [s["data"]["number"] for s in subs] == [0, 1]
    assert "（续报一）" in subs[1]["data"]["title"], subs[1]["data"]["title"]
    wait_until(lambda: len(smtp.delivered(PROVINCE)) == 2, 15, what="续报一 mailed")
    subjects = [str(t["message"]["Subject"]) for t in smtp.delivered(PROVINCE)]
    assert subjects == [subs[0]["data"]["title"], subs[1]["data"]["title"]]
    wr = d.call("GET", "/api/v1/incidents/%s" % inc, "secret-zhang").json["written_report"]
    if "reports" in wr:
        assert [x["number"] for x in wr["reports"]] == [0, 1]
        assert [x["via"] for x in wr["reports"]] == ["dutyd", "dutyd"]
    d.stop()


def test_a_province_that_refuses_for_good_alarms_the_duty_officers(make, smtp, hooks):
    d = make()
    smtp.script[PROVINCE] = [V.PERMANENT] * 10
    inc = report(d)
    assert submit(d, inc).status == 200
    wait_until(lambda: records(d, "notify.undeliverable", inc), 15,
               what="notify.undeliverable for the province")
    [u] = records(d, "notify.undeliverable", inc)
    assert u["data"]["person"] == "province" and u["data"]["event"] == "report.submitted"
    hooks.wait_delivered("notify.undeliverable", inc, ["zhang"], timeout=15)
    [m] = hooks.delivered("notify.undeliverable", inc, "zhang")
    assert "省政府总值班室" in m["body"]["text"], m["body"]["text"]
    # The report still counts as submitted: no overdue alarm on top.
    assert records(d, "report.submitted", inc)
    d.stop()


def test_reminder_before_the_deadline_says_what_is_missing(make, hooks):
    d = make(report_deadline="6s", report_reminder="3s", ack_timeout="5s")
    late = report(d, title="未报送的事件")
    sent = report(d, title="已报送的事件")
    assert submit(d, sent).status == 200
    wait_until(lambda: records(d, "report.reminder", late), 10, what="the reminder")
    [rem] = records(d, "report.reminder", late)
    assert rem["data"]["missing"] == "未起草", rem
    assert 0 < rem["data"]["left_ms"] <= 3000, rem
    hooks.wait_delivered("report.reminder", late, ["zhang", "li"], timeout=10)
    for pid in ("zhang", "li"):
        [m] = hooks.delivered("report.reminder", late, pid)
        assert "未起草" in m["body"]["text"] and "还剩" in m["body"]["text"], m["body"]["text"]
    # The report sent in time gets none (its reminder was due with the
    # other's), and nobody is reminded twice.
    time.sleep(0.5)
    assert records(d, "report.reminder", sent) == []
    assert len(records(d, "report.reminder", late)) == 1
    d.stop()


def test_restart_between_submission_and_delivery_loses_nothing(make, smtp):
    d = make()
    smtp.script[PROVINCE] = [V.HTTP500] * 3
    inc = report(d)
    assert submit(d, inc, reference="重启").status == 200
    wait_until(lambda: smtp.all(PROVINCE), 10, what="a first attempt")
    d.kill()
    smtp.script[PROVINCE] = []
    d.start()
    smtp.wait_delivered([PROVINCE], timeout=20)
    assert len(smtp.delivered(PROVINCE)) == 1
    [sub] = records(d, "report.submitted", inc)
    assert str(smtp.delivered(PROVINCE)[0]["message"]["Subject"]) == sub["data"]["title"]
    got = d.call("GET", "/api/v1/incidents/%s" % inc, "secret-zhang").json
    assert got["written_report"]["reference"] == "重启", got["written_report"]
    d.stop()


def test_reminder_is_rearmed_after_a_restart(make, hooks):
    d = make(report_deadline="8s", report_reminder="4s", ack_timeout="7s")
    inc = report(d)
    d.stop()
    d.start()
    wait_until(lambda: records(d, "report.reminder", inc), 10, what="the reminder after restart")
    d.stop()
    d.start()
    time.sleep(1)
    assert len(records(d, "report.reminder", inc)) == 1
    d.stop()


def test_filed_by_other_means_says_via_other(make, smtp):
    d = make()
    inc = report(d, level="I")
    r = d.call("POST", "/api/v1/incidents/%s/written-report" % inc, "secret-zhang",
               {"reference": "传真〔2026〕1号"})
    assert r.status == 200, r.json
    [f] = records(d, "incident.report_filed", inc)
    assert f["data"]["via"] == "other" and f["data"]["approved"] is False
    assert f["data"]["reference"] == "传真〔2026〕1号"
    # Again: nothing new (idempotent), and nothing was mailed.
    assert d.call("POST", "/api/v1/incidents/%s/written-report" % inc, "secret-zhang",
                  {"reference": "传真〔2026〕1号"}).status == 200
    assert len(records(d, "incident.report_filed", inc)) == 1
    assert smtp.all(PROVINCE) == []
    d.stop()


def test_without_province_contacts_submit_records_and_says_nothing_was_sent(make, smtp):
    d = make(contacts=False)
    inc = report(d)
    r = submit(d, inc)
    assert r.status == 200, r.json
    assert r.json["submission"]["contacts"] == 0 and "warning" in r.json["submission"]
    assert "province.contacts is not configured" in d.stderr()
    assert records(d, "report.submitted", inc)
    assert records(d, "notify.intent", inc) and not any(
        i["data"]["event"] == "report.submitted" for i in records(d, "notify.intent", inc))
    d.stop()


def test_a_double_click_with_the_same_idempotency_key_sends_one_report(make, smtp):
    d = make()
    inc = report(d)
    path = "/api/v1/incidents/%s/written-report/submit" % inc
    key = {"Idempotency-Key": "submit-%s-1" % inc}
    first = d.call("POST", path, "secret-zhang", {"reference": "一号"}, key)
    again = d.call("POST", path, "secret-zhang", {"reference": "一号"}, key)
    assert first.status == 200 and again.status == 200, (first.json, again.json)
    assert again.json["submission"]["number"] == 0 and again.json["submission"]["repeated"]
    assert len(records(d, "report.submitted", inc)) == 1
    smtp.wait_delivered([PROVINCE], timeout=15)
    # Another key is another report: 续报一.
    r = d.call("POST", path, "secret-zhang", {}, {"Idempotency-Key": "submit-%s-2" % inc})
    assert r.status == 200 and r.json["submission"]["number"] == 1, r.json
    d.stop()
