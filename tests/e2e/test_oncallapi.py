"""GET /api/v1/oncall (now, next handover, the coming days: what
`dutyd --oncall` prints) and GET /api/v1/offices."""
import datetime

from conftest import run_dutyd

ZONE = datetime.timezone(datetime.timedelta(hours=8))   # Asia/Shanghai has no DST

ROSTER = """
roster:
  timezone: Asia/Shanghai
  start: 2026-01-01
  leader: { handover: "08:00", rotation: daily, people: [li, wang] }
  shifts:
    - { name: day, hours: "08:00-20:00", rotation: daily, people: [zhang] }
    - { name: night, hours: "20:00-08:00", rotation: daily, people: [wang, zhang] }
  overrides:
    - { date: %s, shift: day, person: li }
"""


def test_oncall_days_match_dutyd_oncall(make_dutyd):
    today = datetime.datetime.now(ZONE).date()
    over = today + datetime.timedelta(days=2)
    d = make_dutyd(extra=ROSTER % over.isoformat()).start()
    r = d.call("GET", "/api/v1/oncall?days=4", token="secret-zhang")
    assert r.status == 200, r
    body = r.json
    assert [x["date"] for x in body["days"]] == \
        [(today + datetime.timedelta(days=i)).isoformat() for i in range(4)]
    # Now: a leader and one shift, named; since/until around now.
    now = body["now"]
    assert now["leader"]["id"] in ("li", "wang") and now["leader"]["name"]
    assert len(now["officers"]) == 1 and now["officers"][0]["role"] in ("day", "night")
    assert set(now["officers"][0]) == {"id", "name", "role"}
    assert now["since"] < now["until"]
    assert body["next_handover"] is not None
    nh = datetime.datetime.fromisoformat(body["next_handover"])
    assert nh.astimezone(ZONE).strftime("%H:%M") in ("08:00", "20:00")
    # Each day lists the leader and the shifts overlapping it; the override is marked.
    for day in body["days"]:
        roles = [s["role"] for s in day["shifts"]]
        assert "leader" in roles and "day" in roles and "night" in roles, day
        for s in day["shifts"]:
            assert set(s) == {"role", "person", "from", "until", "override"}
            assert s["from"] < s["until"]
    day2 = body["days"][2]["shifts"]
    overridden = [s for s in day2 if s["role"] == "day"]
    assert overridden[0]["person"] == {"id": "li", "name": "李强"}
    assert overridden[0]["override"] is True
    assert not any(s["override"] for s in body["days"][1]["shifts"])
    # The same people as `dutyd --oncall` prints for the day shifts.
    rc, out, err = run_dutyd("--oncall", "--days", "4", "-c", d.config_path)
    assert rc == 0, err
    printed_from = datetime.datetime.now(ZONE)
    compared = 0
    for day in body["days"]:
        for s in day["shifts"]:
            # `--oncall` prints from now on: today's day shift is gone from it after 20:00.
            if s["role"] != "day" or \
                    datetime.datetime.fromisoformat(s["until"]) <= printed_from:
                continue
            compared += 1
            line = [x for x in out.splitlines()
                    if x.startswith(day["date"] + " 08:00") and " day " in x]
            assert line and "(%s)" % s["person"]["id"] in line[0], (day, out)
    assert compared >= 3, out
    # The older fields are still there.
    assert body["leader"]["person"] == now["leader"]["id"]
    assert body["timezone"] == "Asia/Shanghai"


def test_oncall_static_duty_and_bad_days(make_dutyd):
    d = make_dutyd().start()
    r = d.call("GET", "/api/v1/oncall", token="secret-zhang")
    assert r.status == 200, r
    assert len(r.json["days"]) == 15
    assert r.json["now"] == {"leader": {"id": "li", "name": "李强"},
                             "officers": [{"id": "zhang", "name": "张伟", "role": "duty"}],
                             "since": None, "until": None}
    assert r.json["next_handover"] is None
    for day in r.json["days"]:
        assert [(s["role"], s["person"]["id"], s["from"], s["until"], s["override"])
                for s in day["shifts"]] == [("leader", "li", None, None, False),
                                            ("duty", "zhang", None, None, False)]
    assert len(d.call("GET", "/api/v1/oncall?days=31", token="secret-zhang").json["days"]) == 31
    for bad in ("0", "32", "x", "", "1.5"):
        r = d.call("GET", "/api/v1/oncall?days=" + bad, token="secret-zhang")
        assert r.status == 400 and r.json["field"] == "days", (bad, r)
    # Staff only.
    assert d.call("GET", "/api/v1/oncall", token="secret-a").status == 401


def test_offices(make_dutyd):
    d = make_dutyd().start()
    r = d.call("GET", "/api/v1/offices", token="secret-zhang")
    assert r.status == 200, r
    assert r.json == {"offices": [{"id": "county-a", "name": "A县应急管理局"},
                                  {"id": "county-b", "name": "B县应急管理局"}]}
    assert d.call("GET", "/api/v1/offices", token="secret-a").status == 401
    assert d.call("GET", "/api/v1/offices").status == 401
