"""One-tap links end to end: the real dutyd serving /a/<token>.

A link is what a notification carried: the tests take it from the webhook
sink.  To make links no notification could carry (expired, forged, from
before 0.2) they sign with state_dir/links.key exactly as
parse/linktoken.h documents the two formats.

What a duty officer relies on: the link is short enough that an SMS keeps
its facts; opening it (or a chat app prefetching it) changes nothing; the
button acknowledges once, in their name, and does nothing else; an
expired, altered or foreign link is refused with a page that says what to
do; every other link in a message is the incident's details link.
"""
import base64
import hashlib
import hmac
import os
import stat
import struct
import time
import urllib.parse

import pytest

from conftest import wait_until

KEY_LEN = 32
TOKEN_LEN = 24


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(key, expiry_ms, ident=None):
    """base64url(id[6] | expiry minutes[4] | HMAC-SHA256(key, id|expiry)[:8])."""
    ident = ident if ident is not None else os.urandom(6)
    stub = ident + struct.pack(">I", (expiry_ms + 59999) // 60000)
    return b64url(stub + hmac.new(key, stub, hashlib.sha256).digest()[:8])


def make_v1_token(key, incident, person, action="A", expiry_ms=None):
    """A link of dutyd before 0.2: base64url(payload) "." base64url(MAC),
    payload "1|<action>|<expiry_ms>|<incident>|<person>"."""
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

    def prefix(self):
        return "http://127.0.0.1:%d/a/" % self.d.port

    def details(self, iid):
        return "http://127.0.0.1:%d/api/v1/incidents/%s" % (self.d.port, iid)

    def page(self, iid):
        """The incident's page in the console, where link pages send people."""
        return "http://127.0.0.1:%d/incidents/%s" % (self.d.port, iid)

    def sent(self, iid, person="zhang", event="incident.new"):
        """The token PERSON's EVENT message carried (its first delivery)."""
        self.d.sink.wait_delivered(event, iid, [person])
        msg = self.d.sink.delivered(event, iid, person)[0]["body"]
        url = msg["url"]
        assert url.startswith(self.prefix()), url
        assert url in msg["text"], msg
        return url[len(self.prefix()):]

    def v1(self, incident, person="zhang", action="A", expiry_ms=None):
        return make_v1_token(self.key, incident, person, action, expiry_ms)

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
    token = links.sent(iid, "zhang")
    assert len(token) <= TOKEN_LEN, token
    before = settle(d)

    page = is_page(links.get(token), 200)
    assert "某镇化工厂爆炸" in page and iid in page and "A县应急管理局" in page, page
    assert "<form" in page and 'method="post"' in page and "确认收到" in page, page
    assert "张伟" in page, page
    # Below the button, the incident's page; no "duty system" that is not there.
    assert '<a href="%s">' % links.page(iid) in page, page
    assert "值班系统" not in page, page
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


def test_the_link_acknowledges_as_its_own_recipient(links):
    d = links.d
    iid = d.report(title="某镇化工厂爆炸").json["id"]
    token = links.sent(iid, "li")
    assert token != links.sent(iid, "zhang"), "everyone gets their own link"
    before = settle(d)
    page = is_page(links.get(token), 200)
    assert "李强" in page and iid in page, page
    assert d.audit() == before
    is_page(links.post(token), 200)
    got = links.incident(iid)
    assert got["acknowledged_by"]["id"] == "li", got


def test_someone_else_acknowledged_first(links):
    d = links.d
    iid = d.report(title="某村山体滑坡").json["id"]
    token = links.sent(iid, "zhang")
    assert d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-li", {}).status == 200
    before = settle(d)
    page = is_page(links.post(token), 200)
    assert "李强" in page, page
    assert d.audit() == before
    assert links.incident(iid)["acknowledged_by"]["id"] == "li"


def test_after_the_acknowledgement_messages_carry_the_details_link(links):
    """Only acknowledging is a tap.  Once done, every message's link is the
    incident's page, which acts on nothing: a leader tapping "details" on
    a 续报 cannot close the incident."""
    d = links.d
    iid = d.report(title="桥梁垮塌", key="bridge-1").json["id"]
    for path, event in (("ack", "incident.acknowledged"),
                        ("written-report", "incident.report_filed"),
                        ("resolve", "incident.resolved")):
        assert d.call("POST", "/api/v1/incidents/%s/%s" % (iid, path),
                      token="secret-zhang", body={}).status == 200
        d.sink.wait_delivered(event, iid, ["zhang", "li"])
        for msg in d.sink.delivered(event, iid):
            body = msg["body"]
            assert body["url"] == links.details(iid), body
            assert body["url"] in body["text"] and "/a/" not in body["text"], body


def test_resolve_and_file_links_from_before_do_nothing(links):
    """Links sent by dutyd before 0.2 could resolve or file the report.
    After the upgrade they say where to do that and change nothing."""
    d = links.d
    iid = d.report(title="某镇化工厂爆炸").json["id"]
    before = settle(d)
    for action in ("R", "F"):
        for resp in (links.get(links.v1(iid, "li", action)),
                     links.post(links.v1(iid, "li", action))):
            page = is_page(resp, 409)
            assert "只用于确认" in page and links.page(iid) in page, page
    assert d.audit() == before
    assert links.incident(iid)["state"] == "open"
    # Its acknowledge links still work until they expire.
    is_page(links.post(links.v1(iid, "wang")), 200)
    assert links.incident(iid)["acknowledged_by"]["id"] == "wang"


def test_expired_altered_and_foreign_links_are_refused(links):
    d = links.d
    iid = d.report(title="某镇化工厂爆炸").json["id"]
    good = links.sent(iid, "zhang")
    li = links.sent(iid, "li")
    now_ms = int(time.time() * 1000)
    refused = {
        "expired": (make_token(links.key, now_ms - 120000), 410),
        "swapped: li's id, zhang's MAC": (li[:14] + good[14:], 403),
        "another key": (make_token(os.urandom(KEY_LEN), now_ms + 3600000), 403),
        "cut short, as a split SMS": (good[:-1], 403),
        "not a token": ("not-a-token", 403),
        "never sent": (make_token(links.key, now_ms + 3600000), 404),
        "before 0.2, expired": (links.v1(iid, expiry_ms=now_ms - 1000), 410),
        "before 0.2, unknown incident": (links.v1("INC-20000101-0001"), 404),
        "before 0.2, unknown person": (links.v1(iid, person="nobody"), 403),
    }
    for n in (0, 9, 13, 17, 23):  # one character of the id, expiry or MAC
        refused["altered at %d" % n] = (
            good[:n] + ("A" if good[n] != "A" else "B") + good[n + 1:], 403)
    before = settle(d)
    for what, (token, status) in refused.items():
        for resp in (links.get(token), links.post(token)):
            page = is_page(resp, status)
            assert "未能完成" in page, (what, page)
    assert d.audit() == before, "a refused link wrote to the audit log"
    assert links.incident(iid)["state"] == "open"
    page = is_page(links.get(refused["before 0.2, expired"][0]), 410)
    assert iid in page and "过期" in page, page
    # The good link still works after all that.
    is_page(links.post(good), 200)
    assert links.incident(iid)["state"] == "acknowledged"


def test_links_outlive_a_restart(links):
    d = links.d
    iid = d.report(title="某镇化工厂爆炸").json["id"]
    token = links.sent(iid, "zhang")
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


def test_a_link_to_a_merged_or_dismissed_incident_does_nothing(links):
    d = links.d
    target = d.report(title="某镇化工厂爆炸", key="first").json["id"]
    dup = d.report(title="化工厂爆炸（重复）", key="second").json["id"]
    false = d.report(title="误报的火情", key="third").json["id"]
    dup_link, false_link = links.sent(dup, "zhang"), links.sent(false, "li")
    assert d.call("POST", "/api/v1/incidents/%s/merge" % dup, "secret-zhang",
                  {"into": target, "note": "同一事件"}).status == 200
    assert d.call("POST", "/api/v1/incidents/%s/dismiss" % false, "secret-zhang",
                  {"reason": "核实为误报"}).status == 200
    before = settle(d)
    for resp in (links.get(dup_link), links.post(dup_link)):
        page = is_page(resp, 409)
        assert "并入事件 " + target in page, page
    for resp in (links.get(false_link), links.post(false_link)):
        page = is_page(resp, 409)
        assert "核实为误报" in page, page
    assert d.audit() == before
    # Those told get one message about it, with the details link.
    for iid, event in ((dup, "incident.merged"), (false, "incident.dismissed")):
        for msg in d.sink.wait_delivered(event, iid, ["zhang", "li"]):
            assert msg["body"]["url"] == links.details(iid), msg["body"]
