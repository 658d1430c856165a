"""Inbound SMS end to end: the real dutyd taking Twilio webhooks and Aliyun
uplink pushes, signed or authenticated as the vendors document it.

What a duty room relies on: a county office can report by SMS and is told
the incident id and deadlines; a duty officer can acknowledge by replying
with the code from the notification SMS; forged or repeated deliveries
change nothing; strangers learn nothing.
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import urllib.parse

import pytest

import vendors as V
from conftest import Sink, parse_time, wait_until

TWILIO_TOKEN = "twilio-webhook-token-0123456789"
ALIYUN_SECRET = "aliyun-uplink-secret"

OFFICE_A = "+8613900000001"     # county-a's duty phone
OFFICE_B = "+8613900000002"     # county-b's
ZHANG = "+8613800000001"        # duty officer: an SMS contact (gets reply codes)
LI = "+8613800000002"           # leader: notified by webhook, replies from this phone
STRANGER = "+15550001234"

CONFIG = """\
listen: "127.0.0.1:$port"
state_dir: "$state_dir"
plugin_dir: "$plugin_dir"
public_url: "http://127.0.0.1:$port"
offices:
  - {id: county-a, name: "A县应急管理局", token: "secret-a", phones: ["+86 139-0000-0001"]}
  - {id: county-b, name: "B县应急管理局", token: "secret-b", phones: ["13900000002"]}
people:
  - id: zhang
    name: "张伟"
    token: "secret-zhang"
    contacts:
      - {channel: sms, to: "+8613800000001"}
  - id: li
    name: "李强"
    token: "secret-li"
    phones: ["+8613800000002"]
    contacts:
      - {channel: hook, to: "li"}
duty:
  officers: [zhang]
  leader: li
channels:
  sms:
    plugin: twilio_sms
    account_sid: "$twilio_sid"
    auth_token: "$twilio_api_token"
    from: "$twilio_from"
    url: "$twilio_url"
  hook:
    plugin: webhook
    url: "$sink_url"
policy:
  retry_initial: 200ms
  retry_max: 1s
$sms
"""

SMS_ON = """\
sms:
  twilio: {auth_token: "%s"}
  aliyun: {secret: "%s", reply_channel: hook}
  reply_limit: %d/min
"""


class Rig:
    """A dutyd with SMS intake on, a fake Twilio API for its outgoing SMS and
    a webhook sink; helpers that post as the gateways do."""

    def __init__(self, dutyd_from, reply_limit=5, sms=None):
        self.api = V.Twilio()         # the Messages API dutyd sends SMS through
        self.sink = Sink(secret=None)
        self.sid = 0
        if sms is None:
            sms = SMS_ON % (TWILIO_TOKEN, ALIYUN_SECRET, reply_limit)
        self.d = dutyd_from(CONFIG, twilio_sid=self.api.sid,
                            twilio_api_token=self.api.token,
                            twilio_from=self.api.sender, twilio_url=self.api.url,
                            sink_url=self.sink.url, sms=sms)
        self.d.start()
        self.url = "http://127.0.0.1:%d/api/v1/sms/twilio" % self.d.port

    def close(self):
        self.d.stop()
        V.close_all(self.api, self.sink)

    # -- Twilio --------------------------------------------------------------
    def twilio_params(self, sender, text, sid=None):
        if sid is None:
            self.sid += 1
            sid = "SM%032x" % self.sid
        return {"ToCountry": "CN", "SmsMessageSid": sid, "NumMedia": "0",
                "Body": text, "From": sender, "To": "+861065000000",
                "MessageSid": sid, "AccountSid": "AC" + "0" * 32,
                "ApiVersion": "2010-04-01", "NumSegments": "1", "SmsStatus": "received"}

    def twilio(self, sender, text, sid=None, signature=None, token=TWILIO_TOKEN,
               url=None, params=None):
        params = params or self.twilio_params(sender, text, sid)
        headers = {}
        if signature is None:
            signature = twilio_signature(token, url or self.url, params)
        if signature is not False:
            headers["X-Twilio-Signature"] = signature
        return self.d.call("POST", "/api/v1/sms/twilio", headers=headers,
                           raw=urllib.parse.urlencode(params).encode(),
                           content_type="application/x-www-form-urlencoded")

    # -- Aliyun --------------------------------------------------------------
    def aliyun(self, messages, secret=ALIYUN_SECRET):
        path = "/api/v1/sms/aliyun"
        if secret is not None:
            path += "?" + urllib.parse.urlencode({"secret": secret})
        return self.d.call("POST", path, body=messages)

    # -- reading back ----------------------------------------------------------
    def records(self, event=None):
        return [r for r in self.d.records() if event is None or r["event"] == event]

    def incident(self, iid):
        r = self.d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang")
        assert r.status == 200, r
        return r.json

    def incidents(self):
        r = self.d.call("GET", "/api/v1/incidents?state=all", "secret-zhang")
        return r.json["incidents"]

    def code_for(self, iid, person="zhang"):
        """The reply code the notification for IID gave PERSON's SMS contact,
        once the SMS itself has gone out."""
        def intent():
            for r in self.records("notify.intent"):
                if r["incident"] != iid:
                    continue
                for rc in r["data"]["recipients"]:
                    for c in rc["contacts"] if rc["person"] == person else []:
                        if "code" in c:
                            return c["code"]
            return None
        code = wait_until(intent, what="a reply code for %s in a notify.intent" % iid)
        self.api.wait_delivered([ZHANG], what="the notification SMS to zhang")
        return code

    def settled(self):
        """Every recipient of every intent has a final outcome: no record is
        still to come from deliveries."""
        def done():
            recs = self.records()
            want = {(r["seq"], i) for r in recs if r["event"] == "notify.intent"
                    for i in range(len(r["data"]["recipients"]))}
            got = {(r["data"].get("intent"), r["data"].get("recipient")) for r in recs
                   if (r["event"] == "notify.attempt"
                       and r["data"].get("outcome") in ("delivered", "failed"))
                   or r["event"] == "notify.abandoned"}
            return want <= got and recs
        return wait_until(done, 15, what="deliveries to settle")


@pytest.fixture
def rig(dutyd_from):
    made = []

    def make(**kw):
        r = Rig(dutyd_from, **kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


def twilio_signature(token, url, params):
    """Twilio's documented scheme: the full URL, then every POST parameter
    sorted by name with its value appended, HMAC-SHA1 with the auth token,
    base64."""
    data = url + "".join(k + params[k] for k in sorted(params))
    mac = hmac.new(token.encode(), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def twiml_message(resp):
    """The <Message> text of a TwiML answer, or None for <Response/>."""
    assert resp.status == 200, resp
    assert resp.headers["Content-Type"].startswith("text/xml"), resp.headers
    import xml.etree.ElementTree as ET
    root = ET.fromstring(resp.text)
    assert root.tag == "Response", resp.text
    msgs = root.findall("Message")
    assert len(msgs) <= 1, resp.text
    return msgs[0].text if msgs else None


def received(rig, sid):
    """The sms.received records of one gateway message id."""
    return [r for r in rig.records("sms.received") if r["data"]["id"] == sid]


def local_hhmm_minutes_ago(minutes):
    """A "HH:MM" a few minutes ago in local time, and that minute as epoch seconds."""
    t = datetime.datetime.now().astimezone() - datetime.timedelta(minutes=minutes)
    t = t.replace(second=0, microsecond=0)
    return t.strftime("%H:%M"), t.timestamp()


# -- Twilio ---------------------------------------------------------------------

def test_office_reports_by_sms_and_officer_acknowledges_by_reply(rig):
    r = rig()
    hhmm, occurred = local_hhmm_minutes_ago(10)
    text = "%s 某镇化工厂爆炸\n厂区东侧起火，3人受伤。" % hhmm
    answer = twiml_message(r.twilio(OFFICE_A, text, sid="SM" + "a" * 32))
    [inc] = r.incidents()
    iid = inc["id"]
    # The county hears the id, not the city's own deadlines (test_corrections.py).
    assert answer == "已收到，事件编号 %s。续报请以事件编号开头。" % iid, answer

    inc = r.incident(iid)
    assert inc["office"] == "county-a" and inc["title"] == "某镇化工厂爆炸", inc
    assert inc["details"] == "厂区东侧起火，3人受伤。", inc
    assert parse_time(inc["occurred_at"]) == occurred, inc["occurred_at"]
    [rec] = received(r, "SM" + "a" * 32)
    assert rec.get("incident") == iid and rec["actor"] == "office:county-a"
    assert (rec["data"]["kind"], rec["data"]["result"]) == ("report", iid)
    assert rec["data"]["from"] == OFFICE_A and rec["data"]["text"] == text

    code = r.code_for(iid)
    [sms] = r.api.delivered(ZHANG)
    assert iid in sms["text"] or inc["title"] in sms["text"], sms["text"]
    answer = twiml_message(r.twilio(ZHANG, "%dA" % code))
    assert iid in answer and "已确认" in answer, answer
    inc = r.incident(iid)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"]["id"] == "zhang", inc
    [ackrec] = r.records("incident.acknowledged")
    assert ackrec["actor"] == "person:zhang" and ackrec["incident"] == iid
    assert ackrec["data"].get("note") == "短信回复", ackrec
    [rec] = received(r, "SM%032x" % r.sid)
    assert (rec["data"]["kind"], rec["data"]["result"], rec.get("incident")) == \
        ("reply", "acknowledged", iid), rec

    # Again: nothing changes, and the answer says who did it.
    answer = twiml_message(r.twilio(ZHANG, "%dA" % code))
    assert iid in answer and "张伟" in answer, answer
    assert len(r.records("incident.acknowledged")) == 1
    [rec] = received(r, "SM%032x" % r.sid)
    assert rec["data"]["result"] == "already acknowledged", rec


def test_full_width_reply_and_unknown_code(rig):
    r = rig()
    twiml_message(r.twilio(OFFICE_A, "某村山体滑坡"))
    [inc] = r.incidents()
    code = r.code_for(inc["id"])

    wrong = code + 7
    answer = twiml_message(r.twilio(ZHANG, "%dA" % wrong))
    assert answer and str(wrong) in answer and "3A" in answer, answer
    assert r.incident(inc["id"])["state"] == "open"
    [rec] = received(r, "SM%032x" % r.sid)
    assert (rec["data"]["kind"], rec["data"]["result"]) == ("reply", "unknown code"), rec

    # "３Ａ" as a phone in full-width mode types it.
    full = "".join(chr(ord(c) + 0xFEE0) for c in "%dA" % code)
    answer = twiml_message(r.twilio(ZHANG, full))
    assert "已确认" in answer, answer
    assert r.incident(inc["id"])["acknowledged_by"]["id"] == "zhang"


def test_forged_signatures_are_refused_and_recorded(rig):
    r = rig()
    before = len(r.records())
    forged = [
        dict(signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA="),                 # made up
        dict(signature=False),                                          # none
        dict(token="another-account-token"),                            # wrong key
        dict(url="http://127.0.0.1:%d/elsewhere" % r.d.port),           # wrong URL
    ]
    for i, kw in enumerate(forged):
        resp = r.twilio(OFFICE_A, "某镇化工厂爆炸", sid="SM%032x" % (900 + i), **kw)
        assert resp.status == 403, (kw, resp)
        assert "X-Twilio-Signature" in resp.json["error"], resp.json
    # Signed over other parameters than those sent: a tampered Body.
    params = r.twilio_params(OFFICE_A, "无事")
    sig = twilio_signature(TWILIO_TOKEN, r.url, params)
    params["Body"] = "某镇化工厂爆炸"
    assert r.twilio(OFFICE_A, None, signature=sig, params=params).status == 403

    recs = r.records()[before:]
    assert [x["event"] for x in recs] == ["sms.rejected"] * 5, recs
    assert all(x["data"]["provider"] == "twilio" and x["data"]["peer"] == "127.0.0.1"
               for x in recs), recs
    assert r.incidents() == []
    # The real thing still works afterwards.
    assert r.twilio(OFFICE_A, "某镇化工厂爆炸").status == 200
    assert len(r.incidents()) == 1


def test_a_redelivered_message_changes_nothing(rig):
    r = rig()
    sid = "SM" + "b" * 32
    answer = twiml_message(r.twilio(OFFICE_A, "某镇化工厂爆炸", sid=sid))
    [inc] = r.incidents()
    assert inc["id"] in answer
    recs = r.settled()
    again = r.twilio(OFFICE_A, "某镇化工厂爆炸", sid=sid)
    assert twiml_message(again) is None
    assert r.records() == recs, "a repeated MessageSid wrote records"
    assert len(r.incidents()) == 1

    # The same for a reply: acknowledged once, the repeat is silent.
    code = r.code_for(inc["id"])
    sid = "SM" + "c" * 32
    assert "已确认" in twiml_message(r.twilio(ZHANG, "%dA" % code, sid=sid))
    recs = r.settled()
    assert twiml_message(r.twilio(ZHANG, "%dA" % code, sid=sid)) is None
    assert r.records() == recs


def test_seen_ids_survive_a_restart(rig):
    """The ids taken are rebuilt from the log at start-up."""
    r = rig()
    sid = "SM" + "d" * 32
    twiml_message(r.twilio(OFFICE_A, "某镇化工厂爆炸", sid=sid))
    r.settled()
    r.d.stop()
    r.d.start()
    assert twiml_message(r.twilio(OFFICE_A, "某镇化工厂爆炸", sid=sid)) is None
    assert len(r.incidents()) == 1
    assert len(r.records("report.received")) == 1


def test_unknown_numbers_are_recorded_and_not_answered(rig):
    r = rig()
    resp = r.twilio(STRANGER, "1A")
    assert twiml_message(resp) is None
    assert b"<Message" not in resp.text
    [rec] = received(r, "SM%032x" % r.sid)
    assert rec.get("incident") is None
    assert (rec["data"]["kind"], rec["data"]["from"], rec["data"]["text"]) == \
        ("unknown", STRANGER, "1A"), rec
    assert r.incidents() == []


def test_replies_are_rate_limited_per_phone(rig):
    r = rig(reply_limit=3)
    answers = [twiml_message(r.twilio(LI, "你好")) for _ in range(5)]
    assert all(a and "3A" in a for a in answers[:3]), answers    # help, 3 times
    assert answers[3:] == [None, None], answers
    kinds = [x["data"]["kind"] for x in r.records("sms.received")]
    assert kinds == ["ignored"] * 3 + ["rate_limited"] * 2, kinds
    # Another phone has its own allowance.
    twiml_message(r.twilio(OFFICE_A, "某镇化工厂爆炸"))
    [inc] = r.incidents()
    code = r.code_for(inc["id"])
    assert "已确认" in twiml_message(r.twilio(ZHANG, "%dA" % code))


def test_a_rate_limited_reply_does_not_act(rig):
    r = rig(reply_limit=1)
    twiml_message(r.twilio(OFFICE_A, "某镇化工厂爆炸"))
    [inc] = r.incidents()
    twiml_message(r.twilio(LI, "你好"))                  # uses li's one reply
    assert twiml_message(r.twilio(LI, "A " + inc["id"])) is None
    assert r.incident(inc["id"])["state"] == "open"
    assert received(r, "SM%032x" % r.sid)[0]["data"]["kind"] == "rate_limited"


def test_a_followup_by_sms_appears_in_the_timeline(rig):
    r = rig()
    twiml_message(r.twilio(OFFICE_A, "某镇化工厂爆炸"))
    [inc] = r.incidents()
    iid = inc["id"]
    answer = twiml_message(r.twilio(OFFICE_A, "%s 火势已控制，无新增伤亡" % iid))
    assert iid in answer and "续报" in answer, answer
    assert len(r.incidents()) == 1, "a follow-up must not open an incident"
    got = r.incident(iid)
    [upd] = [e for e in got["timeline"] if e["event"] == "incident.updated"]
    assert upd["actor"] == "office:county-a", upd
    assert "火势已控制，无新增伤亡" in json.dumps(upd["data"], ensure_ascii=False), upd
    [u] = got["updates"]
    assert u["fields"] == {"details": "火势已控制，无新增伤亡"}, u
    [rec] = received(r, "SM%032x" % r.sid)
    assert (rec["data"]["kind"], rec.get("incident")) == ("followup", iid), rec

    # Another office cannot add to it.
    answer = twiml_message(r.twilio(OFFICE_B, "%s 伤亡10人" % iid))
    assert iid in answer and "不是本单位" in answer, answer
    assert len(r.incident(iid)["updates"]) == 1
    assert len(r.records("incident.updated")) == 1


def test_person_can_resolve_by_reply_and_late_replies_are_answered(rig):
    r = rig()
    twiml_message(r.twilio(OFFICE_A, "某镇化工厂爆炸"))
    [inc] = r.incidents()
    code = r.code_for(inc["id"])
    assert "处置完毕" in twiml_message(r.twilio(ZHANG, "%d处置完毕" % code))
    assert r.incident(inc["id"])["state"] == "resolved"
    assert r.records("incident.resolved")[0]["actor"] == "person:zhang"
    # The code was freed by the resolution; by id it is still known.
    answer = twiml_message(r.twilio(ZHANG, "A " + inc["id"]))
    assert "处置完毕" in answer and "张伟" in answer, answer
    assert r.records("incident.acknowledged") == []
    # A follow-up to a resolved incident is refused, and the office told.
    answer = twiml_message(r.twilio(OFFICE_A, "%s 又有新情况" % inc["id"]))
    assert inc["id"] in answer and "已处置完毕" in answer, answer
    assert r.records("incident.updated") == []


def test_endpoints_are_off_until_configured(rig):
    r = rig(sms="")
    resp = r.twilio(OFFICE_A, "某镇化工厂爆炸")
    assert resp.status == 404 and "sms.twilio.auth_token" in resp.json["error"], resp
    resp = r.aliyun([{"phone_number": "13900000001", "content": "x",
                      "send_time": "2026-11-28 14:05:00", "dest_code": "",
                      "sequence_id": 1}])
    assert resp.status == 404 and "sms.aliyun" in resp.json["error"], resp
    assert r.records("sms.received") == [] and r.records("sms.rejected") == []


# -- Aliyun ----------------------------------------------------------------------

def aliyun_msg(phone, text, seq):
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
    return {"phone_number": phone, "content": text, "dest_code": "",
            "send_time": now.strftime("%Y-%m-%d %H:%M:%S"), "sequence_id": seq}


def test_aliyun_uplink_reports_and_answers_through_the_reply_channel(rig):
    r = rig()
    resp = r.aliyun([aliyun_msg("13900000001", "某镇化工厂爆炸\n3人受伤", 1001)])
    assert resp.status == 200 and resp.json == {"code": 0, "msg": "接收成功"}, resp
    [inc] = r.incidents()
    assert inc["office"] == "county-a" and inc["title"] == "某镇化工厂爆炸"
    [rec] = received(r, "1001")
    assert (rec["data"]["provider"], rec["data"]["kind"]) == ("aliyun", "report")
    # The answer goes out on sms.aliyun.reply_channel to the sender.
    wait_until(lambda: [x for x in r.sink.requests
                        if (x["body"] or {}).get("recipient", {}).get("to") == "+8613900000001"],
               what="the answer on the reply channel")
    [ans] = [x for x in r.sink.requests
             if (x["body"] or {}).get("recipient", {}).get("to") == "+8613900000001"]
    assert inc["id"] in json.dumps(ans["body"], ensure_ascii=False), ans["body"]

    # A redelivered sequence_id changes nothing, not even in a batch with a new one.
    recs = r.settled()
    code = r.code_for(inc["id"])
    resp = r.aliyun([aliyun_msg("13900000001", "某镇化工厂爆炸\n3人受伤", 1001),
                     aliyun_msg("13800000001", "%dA" % code, 1002)])
    assert resp.json == {"code": 0, "msg": "接收成功"}
    assert len(r.incidents()) == 1
    new = r.records()[len(recs):]
    assert [x["data"]["id"] for x in new if x["event"] == "sms.received"] == ["1002"], new
    assert r.incident(inc["id"])["acknowledged_by"]["id"] == "zhang"


def test_aliyun_needs_the_secret(rig):
    r = rig()
    batch = [aliyun_msg("13900000001", "某镇化工厂爆炸", 2001)]
    for secret in ("wrong", None, ALIYUN_SECRET + "x", ""):
        resp = r.aliyun(batch, secret=secret)
        assert resp.status == 403, (secret, resp)
    rej = r.records("sms.rejected")
    assert len(rej) == 4 and {x["data"]["provider"] for x in rej} == {"aliyun"}, rej
    assert ALIYUN_SECRET not in json.dumps(rej), "the secret must not reach the log"
    assert r.incidents() == [] and r.records("sms.received") == []
    assert r.aliyun(batch).status == 200
    assert len(r.incidents()) == 1


def test_aliyun_secret_is_matched_exactly(rig):
    """?secret= once, in lower case, without a NUL: '<secret>%00…',
    '?SECRET=' and a second secret= all passed before (issue 15)."""
    r = rig()
    batch = [aliyun_msg("13900000001", "某镇化工厂爆炸", 2101)]
    path = "/api/v1/sms/aliyun?"
    for query in ("secret=%s%%00junk" % ALIYUN_SECRET, "SECRET=" + ALIYUN_SECRET,
                  "Secret=" + ALIYUN_SECRET,
                  "secret=%s&secret=other" % ALIYUN_SECRET,
                  "secret=other&secret=" + ALIYUN_SECRET):
        resp = r.d.call("POST", path + query, body=batch)
        assert resp.status == 403, (query, resp)
    assert r.incidents() == []
    resp = r.d.call("POST", path + "x=1&secret=" + ALIYUN_SECRET, body=batch)
    assert resp.status == 200, resp


def test_aliyun_refuses_a_body_that_is_not_a_batch(rig):
    r = rig()
    for body in ({"phone_number": "13900000001"}, [{"content": "x"}], "[1, 2"):
        resp = r.aliyun(body)
        assert resp.status == 400, (body, resp)
    assert r.records("sms.received") == [] and r.incidents() == []


@pytest.mark.parametrize("allow,status", [
    (["10.0.0.0/8", "127.0.0.1/32"], 200),
    (["127.0.0.0/8"], 200),
    (["127.0.0.1"], 200),
    (["10.0.0.0/8", "::1", "127.0.0.2"], 403),
])
def test_aliyun_source_allow_list(rig, allow, status):
    r = rig(sms="sms:\n  aliyun: {allow: %s}\n" % json.dumps(allow))
    resp = r.aliyun([aliyun_msg("13900000001", "某镇化工厂爆炸", 3001)], secret=None)
    assert resp.status == status, resp
    assert len(r.incidents()) == (1 if status == 200 else 0)
    assert len(r.records("sms.rejected")) == (0 if status == 200 else 1)


def test_the_link_and_reply_hint_survive_fitting_an_sms(rig):
    """A long report must lose words, never the end of its SMS: the one-tap
    link and the reply hint stay whole, so the link opens its page."""
    import re
    from conftest import now_rfc3339
    r = rig()
    long_title = "某县某镇某村发生山体滑坡，冲毁道路和民房" * 4
    resp = r.d.call("POST", "/api/v1/reports", token="secret-a",
                    body={"title": long_title[:190], "occurred_at": now_rfc3339(),
                          "details": "详情" * 500})
    assert resp.status == 201, resp
    iid = resp.json["id"]
    code = r.code_for(iid)
    [sms] = r.api.delivered(ZHANG)
    text = sms["text"]
    assert V.sms_segments(text) <= 3, text
    assert text.endswith("回复%dA确认，%dF已报省" % (code, code)), text
    link = re.search(r"http://127\.0\.0\.1:\d+/a/[A-Za-z0-9_.\-]+", text).group(0)
    assert "…" in text, text                      # the text gave way, not the link
    page = r.d.call("GET", link[link.index("/a/"):])
    assert page.status == 200, (page, link)
    assert iid in page.text.decode()


def test_an_sms_keeps_its_essentials_and_cuts_the_details(rig):
    """An 18-character title, casualties and long details in the 3 parts
    an SMS channel sends: the details are cut, never the title, level,
    casualties, either deadline, the 24-character link or the reply hint."""
    import re
    from conftest import now_rfc3339
    r = rig()
    title = "某某县某某镇某某村化工厂储罐爆炸"
    assert len(title) >= 16
    resp = r.d.call("POST", "/api/v1/reports", token="secret-a",
                    body={"title": title, "level": "II", "occurred_at": now_rfc3339(),
                          "casualties": {"dead": 1, "injured": 5},
                          "details": "储罐区起火，周边群众正在疏散。" * 20})
    assert resp.status == 201, resp
    inc = resp.json
    code = r.code_for(inc["id"])
    [sms] = r.api.delivered(ZHANG)
    text = sms["text"]
    assert V.sms_segments(text) <= 3, text
    for essential in (title, "（II级）", "伤亡：死亡1人、受伤5人",
                      "确认时限 " + inc["ack_deadline"][11:16],
                      "书面报告时限 " + inc["report_deadline"][11:16]):
        assert essential in text, (essential, text)
    assert "…" in text and "储罐区起火" in text, text
    assert re.search(r"/a/[A-Za-z0-9_-]{24} 回复%dA确认，%dF已报省$" % (code, code), text), text


def test_a_long_chinese_sms_is_taken_whole(rig):
    """Twilio's longest SMS, 1,600 Chinese characters, percent-encoded in
    its webhook, is a report like any other."""
    r = rig()
    details = ("河水漫过堤坝，村民已转移" * 200)[:1590]
    resp = r.twilio(OFFICE_A, "堤坝漫水\n" + details)
    assert resp.status == 200, resp
    [rec] = [x for x in r.records("sms.received") if x["data"]["kind"] == "report"]
    iid = rec["incident"]
    got = r.incident(iid)
    assert got["title"] == "堤坝漫水" and got["details"] == details
