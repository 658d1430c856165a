"""Every error status of the API, with a JSON body that names the field."""
import pytest

from conftest import now_rfc3339, wait_until


@pytest.fixture
def d(make_dutyd):
    return make_dutyd().start()


def report_body(**fields):
    body = {"title": "山体滑坡", "occurred_at": now_rfc3339()}
    body.update(fields)
    return body


@pytest.mark.parametrize("fields,field", [
    ({"title": None}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "险" * 201}, "title"),
    ({"title": 5}, "title"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"occurred_at": "2026-11-28 14:05"}, "occurred_at"),
    ({"occurred_at": "2026-11-28T14:05:00"}, "occurred_at"),
    ({"level": "V"}, "level"),
    ({"casualties": {"dead": -1}}, "casualties.dead"),
    ({"casualties": {"injured": 1.5}}, "casualties.injured"),
    ({"casualties": {"missing": "2"}}, "casualties.missing"),
    ({"details": "字" * 8001}, "details"),
    ({"reporter": {"name": "赵六", "phone": "call me"}}, "reporter.phone"),
])
def test_bad_field_is_named(refused, fields, field):
    body = report_body()
    for k, v in fields.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    r = refused.call("POST", "/api/v1/reports", "secret-a", body)
    assert r.status == 400, r
    assert r.json["field"] == field, r.json
    assert r.json["error"]


def test_limits_are_code_points_not_bytes(d):
    r = d.call("POST", "/api/v1/reports", "secret-a", report_body(title="险" * 200, details="字" * 8000))
    assert r.status == 201, r


def test_unknown_field_is_an_error(refused):
    r = refused.call("POST", "/api/v1/reports", "secret-a", report_body(ttile="typo"))
    assert r.status == 400
    assert "ttile" in r.json["error"]


def test_malformed_json_is_400(refused):
    r = refused.call("POST", "/api/v1/reports", "secret-a", raw=b'{"title": ')
    assert r.status == 400
    assert "JSON" in r.json["error"]


def test_not_json_is_415(refused):
    r = refused.call("POST", "/api/v1/reports", "secret-a", raw=b"title=x", content_type="text/plain")
    assert r.status == 415
    assert "application/json" in r.json["error"]
    r = refused.call("POST", "/api/v1/reports", "secret-a", raw=b"title=x",
               content_type="application/x-www-form-urlencoded")
    assert r.status == 415


def test_body_over_64k_is_413(refused):
    body = report_body(details="x" * 70000)
    r = refused.call("POST", "/api/v1/reports", "secret-a", body)
    assert r.status == 413
    assert "64 KiB" in r.json["error"]
    # Well past the limit the connection is refused the body, still with a 413.
    r = refused.call("POST", "/api/v1/reports", "secret-a", raw=b"{" + b" " * (2 * 1024 * 1024) + b"}")
    assert r.status == 413


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": "Basic c2VjcmV0LWE="},
])
def test_report_needs_an_office_token(d, sink, headers):
    # A person's token is a report taken by phone: test_corrections.py.  Not
    # on the shared dutyd: a failed authentication is an auth.refused record
    # a minute later, in the middle of another test.
    r = d.call("POST", "/api/v1/reports", None, report_body(), headers=headers)
    assert r.status == 401, r
    assert "token" in r.json["error"] or "credentials" in r.json["error"]
    assert "Bearer" in r.headers.get("WWW-Authenticate", "")
    assert not sink.requests


@pytest.mark.parametrize("token", [None, "wrong", "secret-a"])
def test_staff_endpoints_need_a_person_token(d, token):
    iid = d.report().json["id"]
    for method, path in (("GET", "/api/v1/incidents"), ("GET", "/api/v1/incidents/" + iid),
                         ("POST", "/api/v1/incidents/%s/ack" % iid),
                         ("POST", "/api/v1/incidents/%s/written-report" % iid),
                         ("POST", "/api/v1/incidents/%s/resolve" % iid)):
        r = d.call(method, path, token)
        # An office reads its own incidents (test_notes.py), never acts.
        if token == "secret-a" and method == "GET":
            assert r.status == 200, (method, path, r)
            continue
        assert r.status == 401, (method, path, r)
    r = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang")
    assert r.json["state"] == "open", "nothing changed"


def test_unknown_incident_and_route(refused):
    r = refused.call("GET", "/api/v1/incidents/INC-19990101-0001", "secret-zhang")
    assert r.status == 404 and r.json["field"] == "id"
    r = refused.call("POST", "/api/v1/incidents/INC-19990101-0001/ack", "secret-zhang")
    assert r.status == 404
    r = refused.call("GET", "/api/v1/nothing", "secret-zhang")
    assert r.status == 404 and r.json["error"]
    r = refused.call("GET", "/api/v1/reports", "secret-a")
    assert r.status == 405 and "POST" in r.headers["Allow"]


def test_action_bodies_are_validated(d):
    iid = d.report().json["id"]
    r = d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-zhang", {"note": 5})
    assert r.status == 400 and r.json["field"] == "note"
    r = d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-zhang", {"notes": "x"})
    assert r.status == 400
    r = d.call("POST", "/api/v1/incidents/%s/written-report" % iid, "secret-zhang", {"reference": ["x"]})
    assert r.status == 400 and r.json["field"] == "reference"
    r = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang")
    assert r.json["acknowledged"] is False


def test_idempotency_key(d, sink):
    body = report_body(title="同一份报告")
    first = d.call("POST", "/api/v1/reports", "secret-a", body, {"Idempotency-Key": "a-42"})
    assert first.status == 201
    iid = first.json["id"]
    sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    again = d.call("POST", "/api/v1/reports", "secret-a", body, {"Idempotency-Key": "a-42"})
    assert again.status == 200
    assert again.json["id"] == iid
    assert again.json["received_at"] == first.json["received_at"]
    # A retry whose client rebuilt occurred_at from its clock is still a retry.
    rebuilt = dict(body, occurred_at=now_rfc3339(-3))
    retried = d.call("POST", "/api/v1/reports", "secret-a", rebuilt, {"Idempotency-Key": "a-42"})
    assert retried.status == 200, retried
    assert retried.json["id"] == iid
    assert retried.json["occurred_at"] == first.json["occurred_at"], "the first report stands"
    # Another office may use the same key for its own report.
    other = d.call("POST", "/api/v1/reports", "secret-b", body, {"Idempotency-Key": "a-42"})
    assert other.status == 201 and other.json["id"] != iid
    # Reusing a key for a different report is refused, not silently merged.
    changed = d.call("POST", "/api/v1/reports", "secret-a", report_body(title="另一份"),
                     {"Idempotency-Key": "a-42"})
    assert changed.status == 422 and changed.json["field"] == "Idempotency-Key"
    bad = d.call("POST", "/api/v1/reports", "secret-a", body, {"Idempotency-Key": "has space"})
    assert bad.status == 400 and bad.json["field"] == "Idempotency-Key"
    # Nobody was notified twice.
    wait_until(lambda: len(sink.delivered("incident.new", other.json["id"])) == 2, what="b's notices")
    assert len(sink.all("incident.new", iid)) == 2
    records = [r for r in d.audit() if r["event"] == "report.received"]
    assert len(records) == 2


def test_same_key_in_a_burst_makes_one_incident(d, sink):
    import concurrent.futures
    body = report_body(title="并发重试")

    def post(_):
        return d.call("POST", "/api/v1/reports", "secret-a", body, {"Idempotency-Key": "burst"})
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(16)))
    assert sorted({r.status for r in results}) in ([200, 201], [201])
    assert [r.status for r in results].count(201) == 1
    assert len({r.json["id"] for r in results}) == 1
