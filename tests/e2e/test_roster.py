"""The duty roster end to end: who is called is decided when a clock fires,
handovers brief the incoming people, escalation goes up level by level,
and a reload changes who is called without moving a running clock."""
import datetime
import os
import signal

import pytest

from conftest import (BIN, audit_records, run_dutyd, wait_until)

ZONE = datetime.timezone(datetime.timedelta(hours=8))   # Asia/Shanghai has no DST


def stamp(dt):
    return dt.astimezone(ZONE).isoformat(timespec="seconds")


def roster(override_start=None, override_end=None, leader="li"):
    text = """
roster:
  timezone: Asia/Shanghai
  start: 2026-01-01
  leader: { handover: "00:00", rotation: daily, people: [%s] }
  shifts:
    - { name: allday, hours: "00:00-00:00", rotation: daily, people: [zhang] }
""" % leader
    if override_start is not None:
        text += """  overrides:
    - { start: "%s", end: "%s", shift: leader, person: wang }
""" % (stamp(override_start), stamp(override_end))
    return text


def without_duty_escalation(d):
    """The harness lists wang in duty.escalation; these tests must see who
    the roster alone calls."""
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace("  escalation: [wang]\n", ""))


def intents(state_dir, event, incident=None):
    return [r for r in audit_records(state_dir, "notify.intent")
            if r["data"]["event"] == event
            and (incident is None or r["incident"] == incident)]


@pytest.mark.slow(7)
def test_override_takes_over_the_escalation_and_gets_the_handover(make_dutyd, sink):
    # The override starts a few seconds after the incident opens, before
    # its acknowledgement deadline: the escalation must reach the new
    # leader, and the handover must tell them about the open incident.
    now = datetime.datetime.now(ZONE).replace(microsecond=0)
    start = now + datetime.timedelta(seconds=4)
    d = make_dutyd(ack_timeout="7s", extra=roster(start, start + datetime.timedelta(hours=1)))
    without_duty_escalation(d)
    d.start()
    r = d.report(title="山体滑坡", level="II")
    assert r.status == 201, r
    inc = r.json["id"]
    sink.wait_delivered("incident.new", inc, {"zhang", "li"})

    handover = wait_until(lambda: [x for x in sink.all("duty.handover")], timeout=15,
                          what="the handover message")
    assert [h["body"]["recipient"]["id"] for h in handover] == ["wang"]
    text = handover[0]["body"]["text"]
    assert inc in text and "山体滑坡" in text, text
    rec = [x for x in audit_records(d.state_dir) if x["event"] == "duty.handover"]
    assert len(rec) == 1
    assert rec[0]["data"]["incidents"] == [inc]
    assert rec[0]["data"]["incoming"][0]["person"] == "wang"

    sink.wait_delivered("incident.escalated", inc, {"wang"}, timeout=15)
    esc = intents(d.state_dir, "incident.escalated", inc)
    assert len(esc) == 1
    on_duty = esc[0]["data"]["on_duty"]
    assert on_duty["leader"]["person"] == "wang"
    assert "override" in on_duty["leader"]["why"]
    who = {x["person"]: x["why"] for x in esc[0]["data"]["recipients"]}
    assert "li" not in who, who           # li is not on duty any more
    assert who["wang"].startswith("leader on duty")
    d.stop()


@pytest.mark.slow(4.5)
def test_escalation_levels_go_up_until_acknowledged(make_dutyd, sink):
    extra = """
  escalation:
    - { after: 2s, notify: [wang] }
    - { after: 30s, notify: [zhang] }
"""
    d = make_dutyd(ack_timeout="2s")
    # policy: is the last section of the harness config: append to it.
    with open(d.config_path, "a") as f:
        f.write(extra)
    d.start()
    inc = d.report(title="暴雨内涝").json["id"]
    sink.wait_delivered("incident.escalated", inc, {"zhang", "li", "wang"}, timeout=15)
    level2 = wait_until(lambda: [i for i in intents(d.state_dir, "incident.escalated", inc)
                                 if i["data"].get("level") == 2], timeout=15,
                        what="the level 2 intent")
    # The officer on duty hears of every level; then the level's own list.
    assert [x["person"] for x in level2[0]["data"]["recipients"]] == ["zhang", "wang"]
    got = d.call("GET", "/api/v1/incidents/" + inc, token="secret-li").json
    assert got["escalation_level"] == 2
    assert got["clocks"]["next_level"]["state"] == "running"
    # An acknowledgement stops the climb: level 3 never fires.
    assert d.call("POST", "/api/v1/incidents/%s/ack" % inc, token="secret-zhang",
                  body={}).status == 200
    got = d.call("GET", "/api/v1/incidents/" + inc, token="secret-li").json
    assert got["clocks"]["next_level"]["state"] == "stopped"
    levels = [r["data"].get("level") for r in audit_records(d.state_dir)
              if r["event"] == "incident.escalated"]
    assert levels == [1, 2]
    d.stop()


@pytest.mark.slow(5)
def test_reload_changes_who_is_called_not_the_clock(make_dutyd, sink):
    d = make_dutyd(ack_timeout="5s", extra=roster(leader="li"))
    without_duty_escalation(d)
    d.start()
    r = d.report(title="森林火情")
    inc = r.json["id"]
    deadline = r.json["ack_deadline"]
    sink.wait_delivered("incident.new", inc, {"zhang", "li"})
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace("people: [li]", "people: [wang]"))
    os.kill(d.proc.pid, signal.SIGHUP)
    wait_until(lambda: any(r["event"] == "config.reloaded"
                           for r in audit_records(d.state_dir)), what="the reload")
    assert d.call("GET", "/api/v1/incidents/" + inc,
                  token="secret-li").json["ack_deadline"] == deadline
    sink.wait_delivered("incident.escalated", inc, {"zhang", "wang"}, timeout=15)
    esc = intents(d.state_dir, "incident.escalated", inc)
    assert esc[0]["data"]["on_duty"]["leader"]["person"] == "wang"
    assert [x["person"] for x in esc[0]["data"]["recipients"]] == ["zhang", "wang"]
    d.stop()


def test_a_roster_with_an_error_keeps_the_old_one(make_dutyd, sink):
    d = make_dutyd(extra=roster(leader="li"))
    d.start()
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace("people: [li]", "people: [nobody]"))
    os.kill(d.proc.pid, signal.SIGHUP)
    wait_until(lambda: "reload failed" in d.stderr(), what="the refused reload")
    now = stamp(datetime.datetime.now(ZONE))
    got = d.call("GET", "/api/v1/oncall?at=" + now.replace("+", "%2B"),
                 token="secret-zhang")
    assert got.status == 200, got
    assert got.json["leader"]["person"] == "li"
    d.stop()


def test_oncall_endpoint(make_dutyd, sink):
    now = datetime.datetime.now(ZONE).replace(microsecond=0)
    start = now + datetime.timedelta(hours=2)
    d = make_dutyd(extra=roster(start, start + datetime.timedelta(hours=1)))
    d.start()
    at = stamp(start + datetime.timedelta(minutes=30)).replace("+", "%2B")
    got = d.call("GET", "/api/v1/oncall?at=" + at, token="secret-zhang")
    assert got.status == 200, got
    assert got.json["leader"]["person"] == "wang"
    assert got.json["leader"]["name"] == "王芳"
    assert got.json["timezone"] == "Asia/Shanghai"
    assert [o["person"] for o in got.json["officers"]] == ["zhang"]
    assert got.json["officers"][0]["role"] == "allday"
    got = d.call("GET", "/api/v1/oncall", token="secret-zhang")
    assert got.json["leader"]["person"] == "li"
    bad = d.call("GET", "/api/v1/oncall?at=tomorrow", token="secret-zhang")
    assert bad.status == 400 and bad.json["field"] == "at"
    assert d.call("GET", "/api/v1/oncall").status == 401
    d.stop()


def test_oncall_command_and_gap_check(tmp_path, make_dutyd, sink):
    d = make_dutyd(extra=roster())
    rc, out, err = run_dutyd("--oncall", "--days", "2", "-c", d.config_path)
    assert rc == 0, err
    assert "李强 (li)" in out and "张伟 (zhang)" in out
    # A day shift alone leaves nights uncovered: -t names the first gap.
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace('hours: "00:00-00:00"', 'hours: "08:30-17:30"'))
    rc, out, err = run_dutyd("-t", "-c", d.config_path)
    assert rc == 1
    assert "no duty officer on duty" in out + err
    assert "17:30" in out + err
