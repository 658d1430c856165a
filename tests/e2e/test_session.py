"""Console sessions: signing in with a token for a cookie, the cookie as a
credential on the API, CSRF on changes, signing out, expiry, restarts."""
import json
import re

import pytest

from conftest import now_rfc3339, wait_until

COOKIE = re.compile(r"^dutyd_session=([A-Za-z0-9_-]+); HttpOnly; SameSite=Strict; "
                    r"Path=/; Max-Age=(\d+)$")


def sign_in(d, token):
    r = d.call("POST", "/api/v1/session", body={"token": token})
    assert r.status == 200, r
    m = COOKIE.match(r.headers["Set-Cookie"])
    assert m, r.headers["Set-Cookie"]
    return m.group(1), r.json


def with_cookie(cookie, csrf=None):
    h = {"Cookie": "other=1; dutyd_session=%s; x=y" % cookie}
    if csrf is not None:
        h["X-Dutyd-CSRF"] = csrf
    return h


def test_person_signs_in_and_uses_the_api(make_dutyd):
    d = make_dutyd().start()
    r = d.call("POST", "/api/v1/session", body={"token": "secret-zhang"})
    assert r.status == 200, r
    m = COOKIE.match(r.headers["Set-Cookie"])
    assert m and m.group(2) == str(12 * 3600), r.headers["Set-Cookie"]
    cookie = m.group(1)
    assert r.json["who"] == {"kind": "person", "id": "zhang", "name": "张伟"}
    assert re.match(r"^[A-Za-z0-9_-]{22}$", r.json["csrf"])
    assert re.match(r"^\d{4}-\d\d-\d\dT", r.json["expires_at"])
    csrf = r.json["csrf"]
    # The audit log says who signed in, from where; never the cookie.
    started = [x for x in d.audit() if x["event"] == "session.started"]
    assert len(started) == 1 and started[0]["actor"] == "person:zhang"
    assert started[0]["data"]["kind"] == "person"
    assert started[0]["data"]["source"] == "127.0.0.1"
    assert cookie not in open(d.audit_path).read()

    # GET /api/v1/session says who is signed in.
    r = d.call("GET", "/api/v1/session", headers=with_cookie(cookie))
    assert r.status == 200 and r.json["who"]["id"] == "zhang", r
    assert r.json["csrf"] == csrf
    # Reads need no CSRF header.
    inc = d.report().json["id"]
    r = d.call("GET", "/api/v1/incidents/" + inc, headers=with_cookie(cookie))
    assert r.status == 200, r
    # A change without the header, or with a wrong one: 403, nothing recorded.
    r = d.call("POST", "/api/v1/incidents/%s/ack" % inc, body={},
               headers=with_cookie(cookie))
    assert r.status == 403 and r.json["field"] == "X-Dutyd-CSRF", r
    r = d.call("POST", "/api/v1/incidents/%s/ack" % inc, body={},
               headers=with_cookie(cookie, "A" * 22))
    assert r.status == 403 and r.json["field"] == "X-Dutyd-CSRF", r
    assert not [x for x in d.audit() if x["event"] == "incident.acknowledged"]
    assert d.call("GET", "/api/v1/incidents/" + inc,
                  token="secret-zhang").json["state"] == "open"
    # With it: done, as the person.
    r = d.call("POST", "/api/v1/incidents/%s/ack" % inc, body={},
               headers=with_cookie(cookie, csrf))
    assert r.status == 200 and r.json["state"] == "acknowledged", r
    ack = [x for x in d.audit() if x["event"] == "incident.acknowledged"]
    assert ack[0]["actor"] == "person:zhang"
    # Bearer clients are unchanged: no CSRF header needed.
    inc2 = d.report().json["id"]
    r = d.call("POST", "/api/v1/incidents/%s/ack" % inc2, token="secret-li", body={})
    assert r.status == 200, r


def test_office_session_is_an_office(make_dutyd):
    d = make_dutyd().start()
    cookie, body = sign_in(d, "secret-a")
    assert body["who"] == {"kind": "office", "id": "county-a", "name": "A县应急管理局"}
    csrf = body["csrf"]
    # An office may report with its session (and the CSRF header) ...
    report = {"title": "山体滑坡", "occurred_at": now_rfc3339()}
    r = d.call("POST", "/api/v1/reports", body=report, headers=with_cookie(cookie))
    assert r.status == 403, r
    r = d.call("POST", "/api/v1/reports", body=report, headers=with_cookie(cookie, csrf))
    assert r.status == 201, r
    assert r.json["office"] == "county-a"
    # ... but not act as staff: 401 as with its token.
    r = d.call("POST", "/api/v1/incidents/%s/ack" % r.json["id"], body={},
               headers=with_cookie(cookie, csrf))
    assert r.status == 401, r
    assert "office" in r.json["error"]


def test_wrong_token_is_401_and_counted(make_dutyd):
    d = make_dutyd(extra="limits:\n  auth_failures: 3/min\n").start()
    for _ in range(3):
        r = d.call("POST", "/api/v1/session", body={"token": "guess"})
        assert r.status == 401 and r.json["field"] == "token", r
        assert "Set-Cookie" not in r.headers
    r = d.call("POST", "/api/v1/session", body={"token": "secret-zhang"})
    assert r.status == 429, r
    assert int(r.headers["Retry-After"]) > 0


def test_bad_sign_in_bodies(make_dutyd):
    d = make_dutyd().start()
    for body in ({}, {"token": ""}, {"token": 5}, {"token": "x" * 1100}):
        r = d.call("POST", "/api/v1/session", body=body)
        assert r.status == 400 and r.json["field"] == "token", (body, r)
    r = d.call("POST", "/api/v1/session", raw=b"[1]")
    assert r.status == 400, r
    r = d.call("GET", "/api/v1/session")
    assert r.status == 401, r


def test_forged_cookie_refused_and_counted(make_dutyd):
    d = make_dutyd(extra="limits:\n  auth_failures: 2/min\n").start()
    cookie, _ = sign_in(d, "secret-zhang")
    # One character changed: the MAC no longer holds.
    forged = cookie[:10] + ("A" if cookie[10] != "A" else "B") + cookie[11:]
    for _ in range(2):
        r = d.call("GET", "/api/v1/incidents", headers=with_cookie(forged))
        assert r.status == 401, r
    r = d.call("GET", "/api/v1/incidents", headers=with_cookie(cookie))
    assert r.status == 429, r


def test_sign_out_survives_restart(make_dutyd):
    d = make_dutyd().start()
    cookie, body = sign_in(d, "secret-zhang")
    kept, _ = sign_in(d, "secret-zhang")
    # Signing out is a change: it needs the CSRF header.
    r = d.call("DELETE", "/api/v1/session", headers=with_cookie(cookie))
    assert r.status == 403, r
    r = d.call("DELETE", "/api/v1/session", headers=with_cookie(cookie, body["csrf"]))
    assert r.status == 200 and r.json == {}, r
    assert r.headers["Set-Cookie"] == \
        "dutyd_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    ended = [x for x in d.audit() if x["event"] == "session.ended"]
    assert len(ended) == 1 and cookie not in json.dumps(ended)
    r = d.call("GET", "/api/v1/incidents", headers=with_cookie(cookie))
    assert r.status == 401 and "signed out" in r.json["error"], r
    # Sessions survive a restart (the key is in state_dir); a signed-out one stays out.
    d.stop()
    d.start()
    r = d.call("GET", "/api/v1/incidents", headers=with_cookie(cookie))
    assert r.status == 401 and "signed out" in r.json["error"], r
    r = d.call("GET", "/api/v1/session", headers=with_cookie(kept))
    assert r.status == 200 and r.json["who"]["id"] == "zhang", r


def test_session_expires(make_dutyd):
    d = make_dutyd(extra="console:\n  session_ttl: 2s\n").start()
    r = d.call("POST", "/api/v1/session", body={"token": "secret-zhang"})
    assert r.headers["Set-Cookie"].endswith("Max-Age=2")
    cookie = COOKIE.match(r.headers["Set-Cookie"]).group(1)
    assert d.call("GET", "/api/v1/incidents", headers=with_cookie(cookie)).status == 200

    def refused():
        r = d.call("GET", "/api/v1/incidents", headers=with_cookie(cookie))
        return r.status == 401 and "ended" in r.json["error"]
    wait_until(refused, timeout=10, what="the session to expire")


def test_rotated_token_ends_sessions(make_dutyd):
    d = make_dutyd().start()
    cookie, _ = sign_in(d, "secret-zhang")
    office, _ = sign_in(d, "secret-a")
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace('"secret-zhang"', '"secret-zhang-2"'))
    d.proc.send_signal(__import__("signal").SIGHUP)
    wait_until(lambda: any(x["event"] == "config.reloaded" for x in d.audit()),
               what="the reload")
    r = d.call("GET", "/api/v1/incidents", headers=with_cookie(cookie))
    assert r.status == 401 and "changed or removed" in r.json["error"], r
    # The office's token did not change: its session goes on.
    assert d.call("GET", "/api/v1/session", headers=with_cookie(office)).status == 200


def test_secure_cookie_with_https_public_url(dutyd_from):
    from conftest import CONFIG
    text = CONFIG.replace("http://127.0.0.1:{port}", "https://duty.example.cn")
    text = text.format(port="$port", state_dir="$state_dir", plugin_dir="$plugin_dir",
                       sink_url="http://127.0.0.1:9/", secret_line="",
                       ack_timeout="20m", report_deadline="40m",
                       retry_initial="1s", retry_max="5m")
    d = dutyd_from(text).start()
    r = d.call("POST", "/api/v1/session", body={"token": "secret-li"})
    assert r.status == 200, r
    assert r.headers["Set-Cookie"].endswith("; Secure"), r.headers["Set-Cookie"]


def test_console_config_errors(tmp_path):
    from conftest import check_config, CONFIG
    for bad, where in (("console:\n  session_ttl: 0s\n", "session_ttl"),
                       ("console:\n  max_streams: 0\n", "max_streams"),
                       ("console:\n  max_streams: 2000\n", "max_streams"),
                       ("console:\n  sessions: 3\n", "sessions")):
        p = tmp_path / "bad.yaml"
        p.write_text(CONFIG.format(port=1, state_dir=str(tmp_path / "s"),
                                   plugin_dir="/nonexistent", sink_url="http://127.0.0.1:9/",
                                   secret_line="", ack_timeout="20m",
                                   report_deadline="40m", retry_initial="1s",
                                   retry_max="5m") + bad)
        rc, out, err = check_config(p)
        assert rc != 0
        assert re.search(r"bad\.yaml:\d+:\d+: .*%s" % where, out + err), out + err


def test_sign_out_outlives_the_segment_it_was_written_in(make_dutyd):
    """Replay starts at the newest checkpoint: the checkpoint must carry
    the sessions signed out before it."""
    from conftest import audit_files
    d = make_dutyd(extra="audit:\n  segment_size: 4KiB\n  reserve: 0\n").start()
    cookie, body = sign_in(d, "secret-zhang")
    r = d.call("DELETE", "/api/v1/session", headers=with_cookie(cookie, body["csrf"]))
    assert r.status == 200, r
    first = audit_files(d.state_dir)
    n = 0
    while len(audit_files(d.state_dir)) < len(first) + 2:
        assert d.report(title="报告%d" % n, location="x" * 300).status == 201
        n += 1
        assert n < 200, "no new segment after 200 reports"
    d.stop()
    d.start()
    r = d.call("GET", "/api/v1/session", headers=with_cookie(cookie))
    assert r.status == 401 and "signed out" in r.json["error"], r


def test_phoned_report_with_a_session(make_dutyd):
    """/report for staff taking a call: the report is the person's, source phone."""
    d = make_dutyd().start()
    cookie, body = sign_in(d, "secret-zhang")
    r = d.call("POST", "/api/v1/reports",
               body={"office": "county-b", "title": "电话报告：道路塌方",
                     "occurred_at": now_rfc3339()},
               headers=with_cookie(cookie, body["csrf"]))
    assert r.status == 201, r
    assert r.json["office"] == "county-b" and r.json["source"] == "phone"
    rec = [x for x in d.audit() if x["event"] == "report.received"]
    assert rec[0]["actor"] == "person:zhang"


def test_session_key_kept_private(make_dutyd):
    """session.key is made 0600 on first start; readable by others, or a
    symbolic link, dutyd refuses to start and says what to run."""
    import os
    import subprocess
    d = make_dutyd().start()
    d.stop()
    key = os.path.join(d.state_dir, "session.key")
    assert os.stat(key).st_mode & 0o777 == 0o600
    assert os.path.getsize(key) == 32
    for bad in ("chmod", "symlink"):
        if bad == "chmod":
            os.chmod(key, 0o644)
        else:
            os.rename(key, key + ".real")
            os.symlink(key + ".real", key)
        d.start(wait=False)
        try:
            rc = d.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            d.stop()
            raise AssertionError("dutyd started with a bad session.key (%s)" % bad)
        d.notify.close()
        assert rc != 0
        assert key in d.stderr(), d.stderr()
        if bad == "chmod":
            assert "chmod 600" in d.stderr(), d.stderr()
            os.chmod(key, 0o600)
        else:
            os.unlink(key)
            os.rename(key + ".real", key)
    cookie = None
    d.start()
    cookie, _ = sign_in(d, "secret-li")
    d.stop()
    # Deleting the key signs everyone out.
    os.unlink(key)
    d.start()
    r = d.call("GET", "/api/v1/session", headers=with_cookie(cookie))
    assert r.status == 401 and "not one this dutyd signed" in r.json["error"], r
