"""Leaders' directives (批示件督办), end to end with the real dutyd: created,
listed, read with their timeline, progressed, delayed and completed; every
bad field a 400 naming it; an office seeing only its own; deadlines counted
in working days from the configured calendar (a holiday and a make-up
Saturday between today and the due date); the default week; reminders and
the issuing leader's alarm actually delivered to a webhook contact; and a
restart (also after the audit log rotated to a checkpoint) keeping every
directive and never repeating a reminder.

The clock is not waited for: the calendar is built around today's date and
`directives.remind_at` is "00:00", so the reminder a directive owes today is
owed the moment it is created (or the moment dutyd starts).
"""
import datetime
import zoneinfo

import pytest

from conftest import ConfigDutyd, Sink, now_rfc3339, only_started_and_stopped, unchanged, wait_until

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")

CONFIG = """\
listen: "127.0.0.1:$port"
state_dir: "$state_dir"
plugin_dir: "$plugin_dir"
public_url: "http://127.0.0.1:$port"
timezone: "Asia/Shanghai"
offices:
  - {id: county-a, name: "A县应急管理局", token: "secret-a",
     contacts: [{channel: hook, to: "county-a"}]}
  - {id: county-b, name: "B县应急管理局", token: "secret-b"}
people:
  - {id: zhang, name: "张伟", token: "secret-zhang", contacts: [{channel: hook, to: "zhang"}]}
  - {id: li, name: "李强", token: "secret-li", contacts: [{channel: hook, to: "li"}]}
  - {id: wang, name: "王市长", token: "secret-wang", contacts: [{channel: hook, to: "wang"}]}
duty:
  officers: [zhang]
  leader: li
channels:
  hook:
    plugin: webhook
    url: "$sink_url"
policy:
  retry_initial: 200ms
  retry_max: 1s
audit:
  segment_size: $segment_size
directives:
  remind_at: "$remind_at"
calendar:
$calendar
"""


def today():
    return datetime.datetime.now(ZONE).date()


def iso(d):
    return d.isoformat()


def around_today():
    """A calendar where today T is a working day, T+1 .. T+9 are holidays
    except one make-up Saturday S among them, and T+10 is a working day:
    the working day before T+10 is S, and the one before S is today."""
    t = today()
    s = next(t + datetime.timedelta(days=k) for k in range(2, 9)
             if (t + datetime.timedelta(days=k)).weekday() == 5)
    holidays = ["%s..%s" % (iso(t + datetime.timedelta(days=1)),
                            iso(s - datetime.timedelta(days=1))),
                "%s..%s" % (iso(s + datetime.timedelta(days=1)),
                            iso(t + datetime.timedelta(days=9)))]
    workdays = [iso(s)]
    for k in (0, 10, 11):
        d = t + datetime.timedelta(days=k)
        if d.weekday() >= 5:
            workdays.append(iso(d))
    text = "  holidays: [%s]\n  workdays: [%s]\n" % (
        ", ".join('"%s"' % h for h in holidays), ", ".join(workdays))
    return text, s


class Rig:
    def __init__(self, dutyd_from, remind_at="00:00", calendar=None,
                 segment_size="64MiB"):
        self.sink = Sink(secret=None)
        cal, self.saturday = around_today()
        self.d = dutyd_from(CONFIG, sink_url=self.sink.url, remind_at=remind_at,
                            calendar=calendar or cal, segment_size=segment_size)
        self.d.start()

    def close(self):
        self.d.stop()
        self.sink.close()

    def create(self, token="secret-zhang", **fields):
        body = {"title": "关于做好寒潮天气防范工作的批示",
                "text": "请市应急局会同各县认真落实防范措施，确保群众安全。",
                "issued_by": "王市长", "issued_at": now_rfc3339(-3600),
                "owner": "county-a"}
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        return self.d.call("POST", "/api/v1/directives", token, body)

    def reminders(self, directive, event="directive.reminder"):
        return [r for r in self.sink.delivered(event)
                if directive in (r["body"].get("text") or "")]


@pytest.fixture
def rig(dutyd_from):
    rigs = []

    def make(**kw):
        r = Rig(dutyd_from, **kw)
        rigs.append(r)
        return r
    yield make
    for r in rigs:
        r.close()


@pytest.fixture(scope="module")
def shared_rig(tmp_path_factory):
    """One rig (reminders at 23:59) for the tests whose every request must be
    refused: a dutyd start is most of what such a test costs."""
    made = []

    def dutyd(text, **values):
        made.append(ConfigDutyd(tmp_path_factory.mktemp("rig"), text, **values))
        return made[-1]
    try:
        r = Rig(dutyd, remind_at="23:59")
        yield r
        r.close()
        only_started_and_stopped(r.d)
    finally:
        for d in made:
            if d.proc is not None and d.proc.poll() is None:
                d.kill()
            d.close()


@pytest.fixture
def refused(shared_rig):
    """The shared rig; afterwards its log must be as it was (conftest.unchanged)."""
    with unchanged(shared_rig.d):
        yield shared_rig


def test_create_list_get_progress_delay_complete(rig):
    r = rig(remind_at="23:59")
    due = iso(today() + datetime.timedelta(days=10))
    c = r.create(due=due)
    assert c.status == 201, c.json
    d = c.json
    assert d["id"].startswith("DIR-%s-" % today().strftime("%Y%m%d"))
    assert d["state"] == "open" and d["overdue"] is False
    assert d["owner"] == "county-a" and d["owner_kind"] == "office"
    assert d["owner_name"] == "A县应急管理局"
    assert d["due"] == due
    # One working day before the due date: the make-up Saturday, across holidays.
    assert d["submit_by"] == iso(r.saturday)
    assert d["delayed"] is None and d["progress"] == [] and d["result"] is None
    assert d["completed_at"] is None and d["on_time"] is None
    assert d["incident"] is None
    second = r.create(owner="zhang", title="第二件").json
    assert second["owner_kind"] == "person" and second["owner_name"] == "张伟"

    lst = r.d.call("GET", "/api/v1/directives?state=all", "secret-li").json
    assert [x["id"] for x in lst["directives"]] == [second["id"], d["id"]]

    p = r.d.call("POST", "/api/v1/directives/%s/progress" % d["id"], "secret-a",
                 {"text": "已部署各乡镇排查"})
    assert p.status == 200, p.json
    assert p.json["progress"][0]["text"] == "已部署各乡镇排查"
    assert p.json["progress"][0]["by"] == "office:county-a"
    dl = r.d.call("POST", "/api/v1/directives/%s/delay" % d["id"], "secret-zhang",
                  {"reason": "涉及多部门，需协调", "expected": iso(today() + datetime.timedelta(days=20))})
    assert dl.status == 200, dl.json
    assert dl.json["delayed"]["reason"] == "涉及多部门，需协调"
    done = r.d.call("POST", "/api/v1/directives/%s/complete" % d["id"], "secret-a",
                    {"result": "已全部落实"})
    assert done.status == 200, done.json
    assert done.json["state"] == "done" and done.json["on_time"] is True
    assert done.json["result"] == "已全部落实" and done.json["completed_at"]

    g = r.d.call("GET", "/api/v1/directives/%s" % d["id"], "secret-zhang").json
    assert [e["event"] for e in g["timeline"]] == [
        "directive.created", "directive.progress", "directive.delayed",
        "directive.completed"]
    assert all({"seq", "ts", "event", "actor", "data"} <= set(e) for e in g["timeline"])
    # Done: nothing more to report.
    again = r.d.call("POST", "/api/v1/directives/%s/progress" % d["id"], "secret-a",
                     {"text": "补充"})
    assert again.status == 409 and again.json["field"] == "id"
    opened = r.d.call("GET", "/api/v1/directives?state=open", "secret-zhang").json
    assert [x["id"] for x in opened["directives"]] == [second["id"]]
    dn = r.d.call("GET", "/api/v1/directives?state=done", "secret-zhang").json
    assert [x["id"] for x in dn["directives"]] == [d["id"]]
    recs = [x for x in r.d.records() if x["event"].startswith("directive.")]
    assert recs[0]["data"]["submit_by"] == iso(r.saturday)
    assert recs[0]["data"]["default_due"] is False
    assert recs[-1]["data"] == {"directive": d["id"], "result": "已全部落实",
                                "on_time": True, "by_name": "A县应急管理局"}


def test_default_due_is_a_week_moved_off_a_day_off(rig):
    t = today()
    week = t + datetime.timedelta(days=7)
    cal = '  holidays: ["%s"]\n  workdays: []\n' % iso(week)
    r = rig(remind_at="23:59", calendar=cal)
    c = r.create(issued_at=datetime.datetime.now(ZONE).isoformat(timespec="seconds"))
    assert c.status == 201, c.json
    assert c.json["due"] == iso(week)
    nxt = week + datetime.timedelta(days=1)
    while nxt.weekday() >= 5:
        nxt += datetime.timedelta(days=1)
    assert c.json["submit_by"] == iso(nxt)
    rec = [x for x in r.d.records() if x["event"] == "directive.created"][0]
    assert rec["data"]["default_due"] is True


@pytest.mark.parametrize("fields, field", [
    ({"title": None}, "title"),
    ({"title": "  "}, "title"),
    ({"title": "一\n二"}, "title"),
    ({"text": ""}, "text"),
    ({"issued_by": None}, "issued_by"),
    ({"issued_at": "yesterday"}, "issued_at"),
    ({"issued_at": now_rfc3339(3600)}, "issued_at"),
    ({"owner": "county-z"}, "owner"),
    ({"owner": None}, "owner"),
    ({"due": "2026-13-01"}, "due"),
    ({"due": "2020-01-01"}, "due"),
    ({"incident": "INC-20200101-0001"}, "incident"),
    ({"colour": "red"}, "colour"),
    ({"title": 7}, "title"),
])
def test_bad_fields_are_400_naming_the_field(refused, fields, field):
    r = refused
    c = r.create(**fields)
    assert c.status == 400, c.json
    assert c.json["field"] == field, c.json
    assert c.json["error_zh"]


def test_bad_reports_and_queries(rig):
    r = rig(remind_at="23:59")
    d = r.create().json
    base = "/api/v1/directives/%s/" % d["id"]
    for path, body, field in [
            ("progress", {"text": " "}, "text"),
            ("progress", {"note": "x"}, "note"),
            ("delay", {"reason": "x"}, "expected"),
            ("delay", {"reason": "x", "expected": "next week"}, "expected"),
            ("delay", {"expected": "2026-12-30"}, "reason"),
            ("complete", {}, "result")]:
        x = r.d.call("POST", base + path, "secret-zhang", body)
        assert x.status == 400 and x.json["field"] == field, (path, x.json)
    x = r.d.call("GET", "/api/v1/directives?state=late", "secret-zhang")
    assert x.status == 400 and x.json["field"] == "state"
    x = r.d.call("GET", "/api/v1/directives/DIR-20200101-0001", "secret-zhang")
    assert x.status == 404 and x.json["field"] == "id"
    # Only staff create.
    assert r.create(token="secret-a").status in (401, 403)


def test_an_office_sees_only_its_own(rig):
    r = rig(remind_at="23:59")
    mine = r.create().json
    theirs = r.create(owner="county-b").json
    person = r.create(owner="li").json
    lst = r.d.call("GET", "/api/v1/directives?state=all", "secret-a").json
    assert [x["id"] for x in lst["directives"]] == [mine["id"]]
    for other in (theirs, person):
        x = r.d.call("GET", "/api/v1/directives/%s" % other["id"], "secret-a")
        assert x.status == 404, x.json
        x = r.d.call("POST", "/api/v1/directives/%s/progress" % other["id"],
                     "secret-a", {"text": "x"})
        assert x.status == 404, x.json
    assert r.d.call("GET", "/api/v1/directives/%s" % mine["id"], "secret-a").status == 200


def test_reminder_on_the_working_day_before_submit_by(rig):
    r = rig()
    d = r.create(due=iso(today() + datetime.timedelta(days=10))).json
    assert d["submit_by"] == iso(r.saturday)
    got = wait_until(lambda: {m["body"]["recipient"]["id"] for m in r.reminders(d["id"])}
                     >= {"county-a", "zhang"}, what="the reminder to the owner and the officer")
    assert got
    text = r.reminders(d["id"])[0]["body"]["text"]
    assert "关于做好寒潮天气防范工作的批示" in text and iso(r.saturday) in text
    assert "王市长" in text and "/directives/%s" % d["id"] in text
    recs = [x for x in r.d.records() if x["event"] == "directive.reminder"]
    assert [(x["data"]["kind"], x["data"]["day"]) for x in recs] == [("before", iso(today()))]
    # Nobody owes the leader anything yet.
    assert not r.reminders(d["id"], "directive.overdue")


def test_overdue_without_progress_tells_the_issuing_leader(rig):
    # Today a working day whatever its weekday: the reminder it owes is today's.
    r = rig(calendar="  holidays: []\n  workdays: [%s]\n"
            % (iso(today()) if today().weekday() >= 5 else ""))
    old = datetime.datetime.now(ZONE) - datetime.timedelta(days=30)
    d = r.create(issued_at=old.isoformat(timespec="seconds")).json
    assert d["overdue"] is True
    wait_until(lambda: r.reminders(d["id"], "directive.overdue"),
               what="the issuing leader's alarm")
    assert {m["body"]["recipient"]["id"]
            for m in r.reminders(d["id"], "directive.overdue")} == {"wang"}
    wait_until(lambda: {m["body"]["recipient"]["id"] for m in r.reminders(d["id"])}
               >= {"county-a", "zhang"}, what="the overdue reminder")
    recs = [x for x in r.d.records() if x["event"] in ("directive.reminder", "directive.overdue")]
    # The days missed are not sent one by one: today's, once.
    assert [x["event"] for x in recs] == ["directive.reminder", "directive.overdue"]
    assert recs[0]["data"]["kind"] == "overdue"
    ov = r.d.call("GET", "/api/v1/directives?state=overdue", "secret-li").json
    assert [x["id"] for x in ov["directives"]] == [d["id"]]


@pytest.mark.parametrize("segment_size", ["64MiB", "4KiB"])
def test_restart_keeps_directives_and_never_repeats_a_reminder(rig, segment_size):
    r = rig(segment_size=segment_size)
    due = iso(today() + datetime.timedelta(days=10))
    made = [r.create(due=due, title="批示件%d" % i).json for i in range(4)]
    for d in made:
        wait_until(lambda: len(r.reminders(d["id"])) >= 2, what="reminders")
    r.d.call("POST", "/api/v1/directives/%s/progress" % made[0]["id"], "secret-a",
             {"text": "进展一"})
    r.d.call("POST", "/api/v1/directives/%s/complete" % made[1]["id"], "secret-a",
             {"result": "办结"})
    before = r.d.call("GET", "/api/v1/directives?state=all", "secret-li").json
    sent = len(r.sink.delivered("directive.reminder"))
    r.d.stop()
    r.d.start()
    after = r.d.call("GET", "/api/v1/directives?state=all", "secret-li").json
    assert after == before
    if segment_size == "4KiB":
        assert any(x["event"] == "checkpoint.directive" for x in r.d.records())
    # The next id follows on.
    nxt = r.create(due=due).json
    n = [int(d["id"].rsplit("-", 1)[1]) for d in made]
    assert int(nxt["id"].rsplit("-", 1)[1]) == max(n) + 1
    wait_until(lambda: len(r.reminders(nxt["id"])) >= 2, what="the new one's reminder")
    # Today's reminders of the first four were not sent again.
    assert len([m for m in r.sink.delivered("directive.reminder")
                if nxt["id"] not in m["body"]["text"]]) == sent
    recs = [x for x in r.d.records() if x["event"] == "directive.reminder"]
    assert len(recs) == 5


def test_a_restart_sends_the_reminder_owed_while_down(rig, tmp_path):
    r = rig(remind_at="23:59")
    d = r.create(due=iso(today() + datetime.timedelta(days=10))).json
    r.d.stop()
    assert not r.reminders(d["id"])
    with open(r.d.config_path) as f:
        text = f.read()
    with open(r.d.config_path, "w") as f:
        f.write(text.replace('remind_at: "23:59"', 'remind_at: "00:00"'))
    r.d.start()
    wait_until(lambda: {m["body"]["recipient"]["id"] for m in r.reminders(d["id"])}
               >= {"county-a", "zhang"}, what="the reminder owed while down")
    recs = [x for x in r.d.records() if x["event"] == "directive.reminder"]
    assert len(recs) == 1 and recs[0]["data"]["kind"] == "before"


def test_dutyd_t_warns_of_a_calendar_short_of_60_days(tmp_path):
    import subprocess
    from conftest import BIN, PLUGIN_DIR
    t = today()
    base = CONFIG.replace("$port", "8080").replace("$state_dir", str(tmp_path / "s")) \
        .replace("$plugin_dir", PLUGIN_DIR).replace("$sink_url", "http://127.0.0.1:9/hook") \
        .replace("$segment_size", "64MiB").replace("$remind_at", "09:00")
    cal = tmp_path / "cal.yaml"
    path = tmp_path / "dutyd.yaml"
    # Covers this year and the next: no warning.
    cal.write_text("years: [%d, %d]\nholidays: []\n" % (t.year, t.year + 1))
    path.write_text(base.replace("$calendar", "  include: cal.yaml"))
    path.chmod(0o600)
    r = subprocess.run([BIN, "-t", "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "configuration OK" in r.stdout, r.stderr
    assert "calendar does not cover" not in r.stderr
    # Only last year: the warning names the first day not covered; still OK.
    cal.write_text("years: [%d]\nholidays: []\n" % (t.year - 1))
    r = subprocess.run([BIN, "-t", "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "configuration OK" in r.stdout, r.stderr
    assert "warning: the calendar does not cover %s" % iso(t) in r.stderr, r.stderr
    # A mistake in the included file is reported at its own line and column.
    cal.write_text("years: [%d]\nholidays:\n  - 2026-02-30\n" % t.year)
    r = subprocess.run([BIN, "-t", "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "%s:3:5: 'holidays' in calendar: '2026-02-30' is not a date" % cal in r.stderr, r.stderr


def test_a_reload_moving_remind_at_rearms_open_directives(rig):
    import signal
    r = rig(remind_at="23:59")
    d = r.create(due=iso(today() + datetime.timedelta(days=10))).json
    done = r.create(due=iso(today() + datetime.timedelta(days=10)), title="已办结").json
    r.d.call("POST", "/api/v1/directives/%s/complete" % done["id"], "secret-a",
             {"result": "办结"})
    with open(r.d.config_path) as f:
        text = f.read()
    with open(r.d.config_path, "w") as f:
        f.write(text.replace('remind_at: "23:59"', 'remind_at: "00:00"'))
    r.d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: {m["body"]["recipient"]["id"] for m in r.reminders(d["id"])}
               >= {"county-a", "zhang"}, what="the reminder after the reload")
    recs = [x for x in r.d.records() if x["event"] == "directive.reminder"]
    assert [x["data"]["directive"] for x in recs] == [d["id"]]
