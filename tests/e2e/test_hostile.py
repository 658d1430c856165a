"""Hostile input and hostile peers (issue 15): a bad config file, floods,
slow clients, a careless local user.  Each test names the defect it guards."""
import os
import signal

from conftest import check_config, wait_until

# A person whose id is invalid, with an escalation level: dutyd -t crashed
# with a segfault (exit 139), and SIGHUP killed the running dutyd.
BAD_ID = """
policy:
  escalation:
    - { after: 10m, notify: [li] }
"""


def test_a_config_mistake_is_an_error_not_a_crash(make_dutyd):
    d = make_dutyd()
    with open(d.config_path) as f:
        good = f.read()
    bad = good.replace('id: zhang', 'id: "bad id"') + BAD_ID
    path = d.tmp / "bad.yaml"
    path.write_text(bad)
    rc, out, err = check_config(path)
    assert rc == 1, (rc, err)
    assert "invalid person id 'bad id'" in err
    assert "configuration OK" not in out

    # The same file on SIGHUP: the running dutyd keeps its configuration.
    d.start()
    assert d.report().status == 201
    with open(d.config_path, "w") as f:
        f.write(bad)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in d.stderr(), what="the reload to fail")
    assert d.proc.poll() is None, d.stderr()
    assert d.report().status == 201
    with open(d.config_path, "w") as f:
        f.write(good)
    d.stop()


def test_sms_idempotency_keys_are_reserved(make_dutyd):
    """An office could send Idempotency-Key: sms:twilio:<sid> and so claim
    the SMS with that MessageSid before it came: its text was never recorded."""
    d = make_dutyd().start()
    r = d.report(key="sms:twilio:SM" + "0" * 32)
    assert r.status == 400, r
    assert r.json["field"] == "Idempotency-Key" and "sms:" in r.json["error"]
    assert [x for x in d.audit() if x["event"] == "report.received"] == []
    assert d.report(key="county-a-2026-001").status == 201
    d.stop()


def test_incident_list_is_paginated(make_dutyd):
    """GET /api/v1/incidents built every incident at once: 8.6 s and 121 MB
    at 130k open, with /healthz stalled behind it (issue 15)."""
    d = make_dutyd().start()
    ids = [d.report(title="事件%d" % i).json["id"] for i in range(5)]
    staff = "secret-zhang"
    r = d.call("GET", "/api/v1/incidents?limit=2", staff)
    assert r.status == 200, r
    assert [i["id"] for i in r.json["incidents"]] == ids[:-3:-1]
    assert (r.json["count"], r.json["total"], r.json["next"]) == (2, 5, ids[3])
    seen = [i["id"] for i in r.json["incidents"]]
    while r.json["next"] is not None:
        r = d.call("GET", "/api/v1/incidents?limit=2&cursor=" + r.json["next"], staff)
        assert r.status == 200, r
        seen += [i["id"] for i in r.json["incidents"]]
    assert seen == ids[::-1]
    r = d.call("GET", "/api/v1/incidents", staff)
    assert (r.json["count"], r.json["next"]) == (5, None)
    for bad, field in (("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"),
                       ("cursor=nope", "cursor")):
        r = d.call("GET", "/api/v1/incidents?" + bad, staff)
        assert (r.status, r.json["field"]) == (400, field), (bad, r)
    r = d.call("GET", "/healthz")
    assert r.json["open_incidents"] == 5
    d.stop()
