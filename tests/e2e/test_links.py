"""One-tap links end to end: the real dutyd serving /a/<token>.

Tokens are made here from state_dir/links.key exactly as parse/linktoken.h
documents them, so a test can make any token (an expired one, one for a
resolved incident) without waiting for a clock.

What a duty officer relies on: opening a link (or a chat app prefetching
it) changes nothing; the button acts once, in their name; an expired,
altered or foreign link is refused with a page that says what to do.
"""
import base64
import hashlib
import hmac
import os
import stat
import time
import urllib.parse

import pytest

from conftest import wait_until

KEY_LEN = 32


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(key, incident, person, action="A", expiry_ms=None):
    """base64url(payload) "." base64url(HMAC-SHA256(key, payload)), payload
    "1|<action>|<expiry_ms>|<incident>|<person>" (parse/linktoken.h)."""
    if expiry_ms is None:
        expiry_ms = int(time.time() * 1000) + 3600 * 1000
    payload = ("1|%s|%d|%s|%s" % (action, expiry_ms, incident, person)).encode()
    return b64url(payload) + "." + b64url(hmac.new(key, payload, hashlib.sha256).digest())


class Links:
    def __init__(self, d):
        self.d = d

    @property
    def key(self):
        with open(os.path.join(self.d.state_dir, "links.key"), "rb") as f:
            return f.read()

    def token(self, incident, person="zhang", action="A", expiry_ms=None, key=None):
        return make_token(key or self.key, incident, person, action, expiry_ms)

    def get(self, token):
        return self.d.call("GET", "/a/" + token)

    def post(self, token, form_token=None):
        body = urllib.parse.urlencode({"token": form_token or token}).encode()
        return self.d.call("POST", "/a/" + token, raw=body,
                           content_type="application/x-www-form-urlencoded")

    def incident(self, iid):
        return self.d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang").json


def is_page(resp, status):
    assert resp.status == status, resp
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8", resp.headers
    text = resp.text.decode()
    assert text.lstrip().startswith("<!DOCTYPE html>"), text[:200]
    return text


@pytest.fixture
def links(make_dutyd):
    d = make_dutyd(extra="links:\n  ttl: 2h\n").start()
    return Links(d)


def settle(d):
    """Wait until the notifications of what happened so far are all recorded,
    so that a later comparison of the log sees only what a request did."""
    def quiet():
        recs = d.audit()
        intents = {(r["seq"], i) for r in recs if r["event"] == "notify.intent"
                   for i in range(len(r["data"]["recipients"]))}
        done = {(r["data"].get("intent"), r["data"].get("recipient")) for r in recs
                if (r["event"] == "notify.attempt"
                    and r["data"].get("outcome") in ("delivered", "failed"))
                or r["event"] == "notify.abandoned"}
        return intents <= done and recs
    return wait_until(quiet, 15, what="notifications to be recorded")


def test_the_key_is_made_once_with_mode_0600(links):
    path = os.path.join(links.d.state_dir, "links.key")
    st = os.stat(path)
    assert st.st_size == KEY_LEN
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    key = links.key
    links.d.stop()
    links.d.start()
    assert links.key == key, "a restart must keep the key: sent links would die"


def test_prefetch_changes_nothing_and_the_button_acknowledges(links):
    d = links.d
    inc = d.report(title="某镇化工厂爆炸", level="II").json
    iid = inc["id"]
    token = links.token(iid)
    before = settle(d)

    page = is_page(links.get(token), 200)
    assert "某镇化工厂爆炸" in page and iid in page and "A县应急管理局" in page, page
    assert "<form" in page and 'method="post"' in page and "确认" in page, page
    assert "张伟" in page, page
    # A second prefetch, as chat apps do: still nothing.
    is_page(links.get(token), 200)
    assert d.audit() == before, "a GET of a link wrote to the audit log"
    assert links.incident(iid)["state"] == "open"

    page = is_page(links.post(token), 200)
    assert iid in page, page
    got = links.incident(iid)
    assert got["state"] == "acknowledged" and got["acknowledged_by"]["id"] == "zhang", got
    [ack] = [r for r in d.audit() if r["event"] == "incident.acknowledged"]
    assert ack["actor"] == "person:zhang" and ack["incident"] == iid
    assert ack["data"].get("note") == "一键确认", ack

    # Single use: the second POST changes nothing and says who did it.
    before = settle(d)
    page = is_page(links.post(token), 200)
    assert "张伟" in page and "无需" in page, page
    assert d.audit() == before
    # And the GET now says so instead of offering the button again.
    page = is_page(links.get(token), 200)
    assert "<form" not in page and "张伟" in page, page


def test_someone_else_acknowledged_first(links):
    d = links.d
    iid = d.report(title="某村山体滑坡").json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-li", {}).status == 200
    before = settle(d)
    page = is_page(links.post(links.token(iid, "zhang")), 200)
    assert "李强" in page, page
    assert d.audit() == before
    assert links.incident(iid)["acknowledged_by"]["id"] == "li"


def test_written_report_and_resolve_links(links):
    d = links.d
    iid = d.report(title="某镇化工厂爆炸").json["id"]
    is_page(links.post(links.token(iid, "li", "F")), 200)
    got = links.incident(iid)
    assert got["written_report"]["filed_by"]["id"] == "li", got
    assert got["state"] == "open", "filing the written report is no acknowledgement"

    is_page(links.post(links.token(iid, "wang", "R")), 200)
    got = links.incident(iid)
    assert got["state"] == "resolved" and got["resolved_by"]["id"] == "wang", got

    # Resolved: acknowledging or filing makes no sense any more.
    for action in ("A", "F"):
        before = settle(d)
        page = is_page(links.post(links.token(iid, "zhang", action)), 409)
        assert "王芳" in page, page
        is_page(links.get(links.token(iid, "zhang", action)), 409)
        assert d.audit() == before


def test_expired_altered_and_foreign_links_are_refused(links):
    d = links.d
    iid = d.report(title="某镇化工厂爆炸").json["id"]
    good = links.token(iid)
    expired = links.token(iid, expiry_ms=int(time.time() * 1000) - 1000)
    payload, mac = good.split(".")
    flipped = mac[:5] + ("A" if mac[5] != "A" else "B") + mac[6:]
    other_payload = b64url(("1|A|%d|%s|li" % (int(time.time() * 1000) + 3600000, iid))
                           .encode())
    refused = {
        "expired": (expired, 410),
        "altered MAC": (payload + "." + flipped, 403),
        "payload swapped, MAC kept": (other_payload + "." + mac, 403),
        "another key": (links.token(iid, key=os.urandom(KEY_LEN)), 403),
        "not a token": ("not-a-token", 403),
        "unknown incident": (links.token("INC-20000101-0001"), 404),
        "unknown person": (links.token(iid, person="nobody"), 403),
    }
    before = settle(d)
    for what, (token, status) in refused.items():
        for resp in (links.get(token), links.post(token)):
            page = is_page(resp, status)
            assert "未能完成" in page, (what, page)
    assert d.audit() == before, "a refused link wrote to the audit log"
    assert links.incident(iid)["state"] == "open"
    page = is_page(links.get(expired), 410)
    assert iid in page and "过期" in page, page
    # The good link still works after all that.
    is_page(links.post(good), 200)
    assert links.incident(iid)["state"] == "acknowledged"


def test_links_outlive_a_restart(links):
    d = links.d
    iid = d.report(title="某镇化工厂爆炸").json["id"]
    token = links.token(iid)
    d.stop()
    d.start()
    is_page(links.post(token), 200)
    assert links.incident(iid)["acknowledged_by"]["id"] == "zhang"


def test_a_damaged_key_file_stops_start_up_with_a_clear_error(make_dutyd):
    d = make_dutyd()
    d.start()
    d.stop()
    path = os.path.join(d.state_dir, "links.key")
    with open(path, "wb") as f:
        f.write(b"short")
    d.start(wait=False)
    wait_until(lambda: d.proc.poll() is not None, 30, what="dutyd to refuse to start")
    assert d.proc.returncode != 0
    err = d.stderr()
    assert "links.key" in err and "32" in err and "Delete it" in err, err
    with open(path, "rb") as f:
        assert f.read() == b"short", "dutyd must not overwrite a key it cannot read"


def test_the_link_in_a_notification_acknowledges_as_its_recipient(links):
    """The whole path: dutyd's own link, as the webhook delivered it to li."""
    d = links.d
    iid = d.report(title="某镇化工厂爆炸").json["id"]
    d.sink.wait_delivered("incident.new", iid, ["li"])
    [msg] = d.sink.delivered("incident.new", iid, "li")
    url = msg["body"]["url"]
    prefix = "http://127.0.0.1:%d/a/" % d.port
    assert url.startswith(prefix), url
    token = url[len(prefix):]
    before = settle(d)
    page = is_page(links.get(token), 200)
    assert "李强" in page and iid in page, page
    assert d.audit() == before
    is_page(links.post(token), 200)
    got = links.incident(iid)
    assert got["acknowledged_by"]["id"] == "li", got


def test_every_notification_carries_its_readers_link(links):
    """Acknowledged, filed and resolved messages carry a personal link too:
    the next step while there is one, and a page saying it is over after."""
    d = links.d
    iid = d.report(title="桥梁垮塌").json["id"]
    prefix = "http://127.0.0.1:%d/a/" % d.port
    for path, event in (("ack", "incident.acknowledged"),
                        ("written-report", "incident.report_filed"),
                        ("resolve", "incident.resolved")):
        assert d.call("POST", "/api/v1/incidents/%s/%s" % (iid, path),
                      token="secret-zhang", body={}).status == 200
        d.sink.wait_delivered(event, iid, ["zhang", "li"])
        for msg in d.sink.delivered(event, iid):
            url = msg["body"]["url"]
            assert url.startswith(prefix) and url in msg["body"]["text"], msg["body"]
    # The resolved message's link opens a page that says it is over, no button.
    [msg] = d.sink.delivered("incident.resolved", iid, "li")
    page = is_page(links.get(msg["body"]["url"][len(prefix):]), 200)
    assert "<form" not in page, page
