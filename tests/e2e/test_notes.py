"""Notes on incidents (备注), and what an office may read: only its own."""
from conftest import now_rfc3339


def test_note_in_timeline(make_dutyd):
    d = make_dutyd().start()
    inc = d.report().json["id"]
    r = d.call("POST", "/api/v1/incidents/%s/notes" % inc, token="secret-zhang",
               body={"text": "已电话联系县局，伤员已送医 <b>"})
    assert r.status == 201, r
    assert r.json["id"] == inc
    rec = [x for x in d.audit() if x["event"] == "incident.note"]
    assert len(rec) == 1
    assert rec[0]["incident"] == inc and rec[0]["actor"] == "person:zhang"
    assert rec[0]["data"] == {"text": "已电话联系县局，伤员已送医 <b>", "by_name": "张伟"}
    tl = d.call("GET", "/api/v1/incidents/" + inc, token="secret-li").json["timeline"]
    notes = [e for e in tl if e["event"] == "incident.note"]
    assert notes and notes[0]["data"]["text"] == "已电话联系县局，伤员已送医 <b>"
    assert notes[0]["actor"] == "person:zhang"
    # A note changes no state.
    assert d.call("GET", "/api/v1/incidents/" + inc, token="secret-li").json["state"] == "open"
    # Kept across a restart (replayed from the log).
    d.stop()
    d.start()
    tl = d.call("GET", "/api/v1/incidents/" + inc, token="secret-li").json["timeline"]
    assert [e["data"]["text"] for e in tl if e["event"] == "incident.note"] == \
        ["已电话联系县局，伤员已送医 <b>"]


def test_note_bad_bodies(make_dutyd):
    d = make_dutyd().start()
    inc = d.report().json["id"]
    path = "/api/v1/incidents/%s/notes" % inc
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": 5},
                 {"text": "长" * 2001}):
        r = d.call("POST", path, token="secret-zhang", body=body)
        assert r.status == 400 and r.json["field"] == "text", (body, r)
    assert d.call("POST", path, token="secret-zhang",
                  body={"text": "长" * 2000}).status == 201
    r = d.call("POST", path, token="secret-zhang", body={"text": "x", "y": 1})
    assert r.status == 400, r
    r = d.call("POST", "/api/v1/incidents/INC-20990101-0001/notes",
               token="secret-zhang", body={"text": "x"})
    assert r.status == 404, r
    # Staff only.
    r = d.call("POST", path, token="secret-a", body={"text": "x"})
    assert r.status == 401, r
    assert len([x for x in d.audit() if x["event"] == "incident.note"]) == 1


def test_note_on_closed_incident(make_dutyd):
    d = make_dutyd().start()
    inc = d.report().json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/resolve" % inc, token="secret-li",
                  body={}).status == 200
    r = d.call("POST", "/api/v1/incidents/%s/notes" % inc, token="secret-li",
               body={"text": "事后补记：县局已书面说明"})
    assert r.status == 201 and r.json["state"] == "resolved", r
    other = d.report(title="误报").json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/dismiss" % other, token="secret-li",
                  body={"reason": "演练"}).status == 200
    assert d.call("POST", "/api/v1/incidents/%s/notes" % other, token="secret-li",
                  body={"text": "已核实"}).status == 201


def test_office_sees_only_its_own(make_dutyd):
    d = make_dutyd().start()
    a1 = d.report(token="secret-a", title="A县一").json["id"]
    b1 = d.report(token="secret-b", title="B县一").json["id"]
    a2 = d.report(token="secret-a", title="A县二").json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/notes" % a1, token="secret-zhang",
                  body={"text": "内部备注"}).status == 201
    # The list: its own, newest first; office= of its own is fine, another's is 400.
    r = d.call("GET", "/api/v1/incidents?state=all", token="secret-a")
    assert r.status == 200, r
    assert [i["id"] for i in r.json["incidents"]] == [a2, a1]
    r = d.call("GET", "/api/v1/incidents?office=county-a", token="secret-a")
    assert [i["id"] for i in r.json["incidents"]] == [a2, a1]
    r = d.call("GET", "/api/v1/incidents?office=county-b", token="secret-a")
    assert r.status == 400 and r.json["field"] == "office", r
    # One incident: its own, with what became of it; another's is 404.
    r = d.call("GET", "/api/v1/incidents/" + a1, token="secret-a")
    assert r.status == 200, r
    assert r.json["state"] == "open" and r.json["office"] == "county-a"
    assert "timeline" not in r.json and "undeliverable" not in r.json
    r = d.call("GET", "/api/v1/incidents/" + b1, token="secret-a")
    assert r.status == 404 and r.json["field"] == "id", r
    assert "B县" not in r.text.decode()
    # Staff see all, with the timeline.
    r = d.call("GET", "/api/v1/incidents?state=all", token="secret-zhang")
    assert [i["id"] for i in r.json["incidents"]] == [a2, b1, a1]
    assert "timeline" in d.call("GET", "/api/v1/incidents/" + b1,
                                token="secret-zhang").json
    # Offices still may not act.
    for action, body in (("ack", {}), ("written-report", {}), ("resolve", {}),
                         ("merge", {"into": a2}), ("dismiss", {"reason": "x"})):
        r = d.call("POST", "/api/v1/incidents/%s/%s" % (a1, action),
                   token="secret-a", body=body)
        assert r.status == 401, (action, r)


def test_office_scoping_with_a_session(make_dutyd):
    d = make_dutyd().start()
    a1 = d.report(token="secret-a").json["id"]
    b1 = d.report(token="secret-b").json["id"]
    r = d.call("POST", "/api/v1/session", body={"token": "secret-b"})
    cookie = r.headers["Set-Cookie"].split(";")[0]
    h = {"Cookie": cookie}
    r = d.call("GET", "/api/v1/incidents", headers=h)
    assert [i["id"] for i in r.json["incidents"]] == [b1]
    assert d.call("GET", "/api/v1/incidents/" + a1, headers=h).status == 404
    assert d.call("GET", "/api/v1/incidents/" + b1, headers=h).status == 200
    # A follow-up from its session, with the CSRF header.
    r = d.call("POST", "/api/v1/incidents/%s/updates" % b1,
               headers=dict(h, **{"X-Dutyd-CSRF": d.call("GET", "/api/v1/session",
                                                         headers=h).json["csrf"]}),
               body={"casualties": {"dead": 1}})
    assert r.status == 201, r
