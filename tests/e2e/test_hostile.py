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
