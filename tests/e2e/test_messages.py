"""What the duty room reads, against the real binary: incident.new and
incident.escalated carry the facts a leader decides on; the officers on
duty hear of every alarm; escalation levels name roles; people's
min_level holds back news of minor incidents, never alarms; and a message
that could not be delivered at all is an alarm of its own."""
import datetime
import re

from conftest import wait_until


def ago(minutes):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes)
    return t.isoformat(timespec="seconds")


def hhmm(rfc3339):
    """A deadline as the message prints it: local time of the API's offset."""
    return rfc3339[11:16]


def intents(d, event, iid):
    return [r for r in d.audit() if r["event"] == "notify.intent"
            and r["data"]["event"] == event and r["incident"] == iid]


def people(intent):
    return [x["person"] for x in intent["data"]["recipients"]]


CHEMICAL = dict(title="某镇化工厂爆炸", level="II", location="某镇工业园",
                casualties={"dead": 1, "injured": 5},
                reporter={"name": "王强", "phone": "13800138000"})


def test_new_and_escalated_tell_what_a_leader_decides_on(make_dutyd, sink):
    d = make_dutyd(ack_timeout="2s", report_deadline="1h").start()
    # 35 minutes after the event: 15 past the county's 20.
    r = d.report(occurred_at=ago(35), **CHEMICAL)
    assert r.status == 201, r
    inc = r.json
    facts = ("（II级）（迟报 15 分钟）",
             "伤亡：死亡1人、受伤5人",
             "地点：某镇工业园",
             "报告人：王强（回电 13800138000）",
             "确认时限 " + hhmm(inc["ack_deadline"]),
             "书面报告时限 " + hhmm(inc["report_deadline"]))
    for msg in sink.wait_delivered("incident.new", inc["id"], {"zhang", "li"}):
        text = msg["body"]["text"]
        for f in facts:
            assert f in text, (f, text)
        assert re.search(r"确认：http://127\.0\.0\.1:\d+/a/[A-Za-z0-9_-]{24}$", text), text
    # Unacknowledged: the officer on duty is called again with the leader.
    for msg in sink.wait_delivered("incident.escalated", inc["id"],
                                   {"zhang", "li", "wang"}, timeout=15):
        text = msg["body"]["text"]
        assert text.startswith("【超时未确认】A县应急管理局报告：某镇化工厂爆炸"), text
        for f in facts:
            assert f in text, (f, text)


def test_levels_name_roles_and_min_level_holds_back_news(make_dutyd, sink):
    d = make_dutyd(ack_timeout="2s", report_deadline="1h")
    with open(d.config_path) as f:
        text = f.read()
    text = text.replace('{ id: li,   name: "李强", token: "secret-li",',
                        '{ id: li, name: "李强", token: "secret-li", min_level: II,')
    assert "min_level: II" in text
    with open(d.config_path, "w") as f:
        f.write(text + "  escalation:\n    - { after: 2s, notify: [leader, officers] }\n")
    d.start()
    minor = d.report(title="路灯倒伏", level="IV").json["id"]
    major = d.report(title="河堤管涌", level="II").json["id"]
    sink.wait_delivered("incident.new", major, {"zhang", "li"})
    sink.wait_delivered("incident.new", minor, {"zhang"})
    [new] = intents(d, "incident.new", minor)
    assert people(new) == ["zhang"], "li asked for level II and above only"
    # The minor incident's alarm reaches li all the same.
    sink.wait_delivered("incident.escalated", minor, {"zhang", "li", "wang"}, timeout=15)
    # Level 2 calls the roles: whoever holds them now.
    level2 = wait_until(lambda: [i for i in intents(d, "incident.escalated", minor)
                                 if i["data"].get("level") == 2], timeout=15,
                        what="the level 2 intent")
    assert people(level2[0]) == ["zhang", "li"]
    whys = [x["why"] for x in level2[0]["data"]["recipients"]]
    assert whys[0].startswith("duty officer") and "leader on duty" in whys[1], whys


def test_a_message_nobody_could_deliver_is_an_alarm(make_dutyd, sink):
    d = make_dutyd(extra="  retry_give_up: 2s\n")
    sink.script["li"] = [500] * 1000
    d.start()
    iid = d.report(**CHEMICAL).json["id"]
    undeliverable = wait_until(
        lambda: [r for r in d.audit() if r["event"] == "notify.undeliverable"],
        timeout=20, what="the notify.undeliverable record")
    assert len(undeliverable) == 1
    rec = undeliverable[0]
    assert rec["incident"] == iid
    assert rec["data"]["person"] == "li" and rec["data"]["name"] == "李强"
    assert rec["data"]["event"] == "incident.new"
    assert rec["data"]["reason"].startswith("webhook HTTP 500"), rec

    # The officer on duty is told whom to phone; li is not told about li.
    [msg] = sink.wait_delivered("notify.undeliverable", iid, {"zhang"})
    text = msg["body"]["text"]
    assert text.startswith("【通知失败】无法通知 李强（webhook HTTP 500"), text
    assert "请电话联系" in text and "某镇化工厂爆炸" in text, text
    assert not [m for m in sink.all("notify.undeliverable", iid)
                if m["body"]["recipient"]["id"] != "zhang"]

    got = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang").json
    assert [u["person"] for u in got["undeliverable"]] == ["li"], got
    assert got["undeliverable"][0]["event"] == "incident.new"
    # It survives a restart, and nobody is told twice.
    d.stop()
    d.start()
    got = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang").json
    assert [u["person"] for u in got["undeliverable"]] == ["li"], got
    assert len([r for r in d.audit() if r["event"] == "notify.undeliverable"]) == 1
