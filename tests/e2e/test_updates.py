"""Follow-up reports (续报): POST /api/v1/incidents/{id}/updates from the
office that reported the incident; every version is kept, the duty room is
told, and the timeline shows them in order."""
from conftest import audit_records, wait_until


def follow_up(d, inc, token="secret-a", key=None, **fields):
    headers = {"Idempotency-Key": key} if key else None
    return d.call("POST", "/api/v1/incidents/%s/updates" % inc, token=token,
                  body=fields, headers=headers)


def test_follow_up_is_kept_notified_and_in_the_timeline(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    inc = d.report(title="化工厂泄漏", level="III").json["id"]
    r = follow_up(d, inc, casualties={"dead": 0, "injured": 3, "missing": 1},
                  measures="已疏散周边居民 200 人")
    assert r.status == 201, r
    assert len(r.json["updates"]) == 1
    u = r.json["updates"][0]
    assert u["n"] == 1 and u["by"] == "office:county-a"
    assert u["fields"]["casualties"]["injured"] == 3
    assert r.json["level"] == "III"            # the original report stays as sent

    r = follow_up(d, inc, level="II", details="泄漏已控制")
    assert r.status == 201
    assert [x["n"] for x in r.json["updates"]] == [1, 2]

    sink.wait_delivered("incident.updated", inc, {"zhang", "li"})
    texts = wait_until(lambda: sorted(
        x["body"]["text"] for x in sink.delivered("incident.updated", inc, "zhang"))
        if len(sink.delivered("incident.updated", inc, "zhang")) == 2 else None,
        what="both follow-ups to reach zhang")
    # Only the numbers given, as the county gave them.
    assert any("伤亡：死亡0人、受伤3人、失踪1人" in t and "疏散" in t for t in texts), texts
    assert any("泄漏已控制" in t and "II级" in t for t in texts), texts

    full = d.call("GET", "/api/v1/incidents/" + inc, token="secret-zhang").json
    events = [e["event"] for e in full["timeline"]]
    assert events.count("incident.updated") == 2
    assert events.index("report.received") < events.index("incident.updated")

    # Every version survives a restart: the log is the truth.
    d.stop()
    d.start()
    again = d.call("GET", "/api/v1/incidents/" + inc, token="secret-zhang").json
    assert again["updates"] == full["updates"]
    # ... and nobody is told twice.
    d.stop()
    intents = [r for r in audit_records(d.state_dir) if r["event"] == "notify.intent"
               and r["data"]["event"] == "incident.updated"]
    assert [i["data"]["update"] for i in intents] == [1, 2]


def test_follow_up_errors(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    inc = d.report(title="道路塌陷").json["id"]
    r = follow_up(d, inc, token="secret-b", details="x")
    assert r.status == 403 and r.json["field"] == "id"
    assert "another office" in r.json["error"]
    assert follow_up(d, "INC-20990101-0001", details="x").status == 404
    r = follow_up(d, inc)
    assert r.status == 400 and "at least one of" in r.json["error"]
    r = follow_up(d, inc, title="new title")
    assert r.status == 400 and "unknown field" in r.json["error"]
    r = follow_up(d, inc, casualties={"dead": -1})
    assert r.status == 400 and r.json["field"] == "casualties.dead"
    r = follow_up(d, inc, token="secret-zhang", details="x")
    assert r.status == 401
    assert d.call("POST", "/api/v1/incidents/%s/resolve" % inc, token="secret-li",
                  body={}).status == 200
    r = follow_up(d, inc, details="x")
    assert r.status == 409
    d.stop()


def test_follow_up_retry_with_the_same_key_changes_nothing(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    inc = d.report(title="森林火灾").json["id"]
    assert follow_up(d, inc, key="fu-1", details="火线长 2 公里").status == 201
    r = follow_up(d, inc, key="fu-1", details="火线长 2 公里")
    assert r.status == 200
    assert len(r.json["updates"]) == 1
    r = follow_up(d, inc, key="fu-1", details="火线长 3 公里")
    assert r.status == 422 and r.json["field"] == "Idempotency-Key", r
    r = follow_up(d, inc, key="sms:x", details="x")
    assert r.status == 400 and r.json["field"] == "Idempotency-Key", r
    sink.wait_delivered("incident.updated", inc, {"zhang", "li"})
    d.stop()
    n = [r for r in audit_records(d.state_dir) if r["event"] == "incident.updated"]
    assert len(n) == 1
    assert len(sink.all("incident.updated", inc)) == 2      # zhang and li, once each
