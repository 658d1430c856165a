"""The written report's draft and approval (书面报告 起草、审核批准), end to end
with the real dutyd: version 0 generated from the report and its follow-ups
(each fact in its section, unknowns （待核实）), editing with a stale base
refused, the approvers asked with the text, a one-tap approve link and an
SMS code, approval by link and by SMS, a non-approver refused, a rejection
needing its comment, the plain text, and a restart in the middle of each
step losing nothing.  Submitting is test_written_report_send.py's.
"""
import base64
import hashlib
import hmac
import re
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

import vendors as V
from conftest import Sink, now_rfc3339, wait_until

TWILIO_TOKEN = "twilio-webhook-token-0123456789"
LI = "+8613800000002"           # the leader on duty: the approver, told by SMS

CONFIG = """\
listen: "127.0.0.1:$port"
state_dir: "$state_dir"
plugin_dir: "$plugin_dir"
public_url: "http://127.0.0.1:$port"
organization: "某市人民政府总值班室"
province: {name: "省政府总值班室"}
offices:
  - {id: county-a, name: "A县应急管理局", token: "secret-a"}
people:
  - {id: zhang, name: "张伟", token: "secret-zhang", phones: ["+8613800000001"],
     contacts: [{channel: hook, to: "zhang"}]}
  - {id: li, name: "李强", token: "secret-li", contacts: [{channel: sms, to: "+8613800000002"}]}
  - {id: wang, name: "王芳", token: "secret-wang", contacts: [{channel: hook, to: "wang"}]}
duty:
  officers: [zhang]
  leader: li
  escalation: [wang]
channels:
  hook:
    plugin: webhook
    url: "$sink_url"
  sms:
    plugin: twilio_sms
    account_sid: "$twilio_sid"
    auth_token: "$twilio_api_token"
    from: "$twilio_from"
    url: "$twilio_url"
sms:
  twilio: {auth_token: "%s"}
policy:
  retry_initial: 200ms
  retry_max: 1s
""" % TWILIO_TOKEN


class Rig:
    def __init__(self, dutyd_from):
        self.api = V.Twilio()
        self.sink = Sink(secret=None)
        self.d = dutyd_from(CONFIG, twilio_sid=self.api.sid,
                            twilio_api_token=self.api.token,
                            twilio_from=self.api.sender, twilio_url=self.api.url,
                            sink_url=self.sink.url)
        self.d.start()
        self.sms_url = "http://127.0.0.1:%d/api/v1/sms/twilio" % self.d.port
        self.sid = 0

    def close(self):
        self.d.stop()
        V.close_all(self.api, self.sink)

    def report(self, level="II", **fields):
        body = {"title": "某镇化工厂爆炸", "occurred_at": now_rfc3339(-600), "level": level}
        body.update(fields)
        r = self.d.call("POST", "/api/v1/reports", "secret-a", body)
        assert r.status == 201, r.json
        return r.json["id"]

    def path(self, inc, tail=""):
        return "/api/v1/incidents/%s/written-report%s" % (inc, tail)

    def draft(self, inc, token="secret-zhang"):
        r = self.d.call("GET", self.path(inc, "/draft"), token)
        assert r.status == 200, r.json
        return r.json

    def records(self, event, inc=None):
        return [r for r in self.d.records() if r["event"] == event
                and (inc is None or r.get("incident") == inc)]

    def sms(self, sender, text):
        self.sid += 1
        sid = "SM%032x" % self.sid
        params = {"Body": text, "From": sender, "To": "+861065000000",
                  "MessageSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "0" * 32}
        data = self.sms_url + "".join(k + params[k] for k in sorted(params))
        sig = base64.b64encode(hmac.new(TWILIO_TOKEN.encode(), data.encode(),
                                        hashlib.sha1).digest()).decode()
        r = self.d.call("POST", "/api/v1/sms/twilio", headers={"X-Twilio-Signature": sig},
                        raw=urllib.parse.urlencode(params).encode(),
                        content_type="application/x-www-form-urlencoded")
        assert r.status == 200, r
        msgs = ET.fromstring(r.text).findall("Message")
        return msgs[0].text if msgs else None

    def approval_sms(self, inc):
        """The approval request SMS the leader got, once it went out."""
        def sent():
            return [m for m in self.api.delivered(LI) if "待审核" in m["text"]]
        return wait_until(sent, 15, what="the approval request SMS to li")[-1]["text"]


@pytest.fixture
def rig(dutyd_from):
    made = []

    def make():
        r = Rig(dutyd_from)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


def section(body, head, nxt):
    """The text of BODY between heading HEAD and heading NXT."""
    start = body.index(head) + len(head)
    return body[start:body.index(nxt, start)]


def test_draft_is_generated_from_the_report_and_its_follow_ups(rig):
    r = rig()
    inc = r.report(location="某镇工业园", category="生产安全事故",
                   casualties={"dead": 1, "injured": 5})
    d = r.draft(inc)
    assert (d["number"], d["version"], d["saved_by"]) == (0, 0, "dutyd")
    assert d["title"] == "关于A县应急管理局某镇化工厂爆炸的报告"
    body = d["body"]
    assert body.startswith("省政府总值班室：")
    # Nobody reported the cause, the measures or the missing yet.
    assert "（待核实）" in section(body, "三、事件原因", "四、")
    assert "（待核实）" in section(body, "四、已采取的处置措施", "五、")
    assert "失踪人数（待核实）" in section(body, "二、伤亡和损失情况", "三、")
    for f, text in ((dict(cause="反应釜超压", measures="已疏散周边群众300人"), None),
                    (dict(casualties={"missing": 2}, level="I"), None)):
        u = r.d.call("POST", "/api/v1/incidents/%s/updates" % inc, "secret-a", f)
        assert u.status in (200, 201), u.json
    d = r.draft(inc)
    body = d["body"]
    basic = section(body, "一、基本情况", "二、")
    assert "某镇工业园" in basic and "生产安全事故" in basic
    assert "Ⅰ级（特别重大）" in basic and "续报一" in basic and "续报二" in basic
    loss = section(body, "二、伤亡和损失情况", "三、")
    assert "死亡1人" in loss and "受伤5人" in loss and "失踪2人" in loss
    assert "（待核实）" not in loss
    assert "反应釜超压" in section(body, "三、事件原因", "四、")
    assert "已疏散周边群众300人" in section(body, "四、已采取的处置措施", "五、")
    footer = body[body.index("五、下一步工作"):]
    assert "某市人民政府总值班室" in footer
    assert "签发：李强" in footer and "联系人及电话：张伟 +8613800000001" in footer
    assert d["approval"]["required"] is True and d["approval"]["state"] == "none"
    assert d["versions"] == [{"version": 0, "saved_by": "dutyd",
                              "saved_at": d["saved_at"]}]
    # The same incident always gives the same text.
    assert r.draft(inc)["body"] == body
    txt = r.d.call("GET", r.path(inc, ".txt"), "secret-zhang")
    assert txt.status == 200
    assert txt.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert txt.text.decode() == d["title"] + "\n\n" + body


def test_edits_make_versions_and_a_stale_base_is_409(rig):
    r = rig()
    inc = r.report()
    put = lambda tok, base, title="关于某镇化工厂爆炸的报告", body="正文": r.d.call(
        "PUT", r.path(inc, "/draft"), tok,
        {"title": title, "body": body, "base_version": base})
    a = put("secret-zhang", 0, body="张伟的修改")
    assert a.status == 200, a.json
    assert (a.json["version"], a.json["saved_by"], a.json["body"]) == (1, "zhang", "张伟的修改")
    # Wang edited version 0 too, at the same time: refused, told who saved what.
    b = put("secret-wang", 0, body="王芳的修改")
    assert b.status == 409, b.json
    assert b.json["field"] == "base_version"
    assert "version 1" in b.json["error"] and "张伟" in b.json["error"]
    assert put("secret-wang", 1, body="王芳的修改").status == 200
    d = r.draft(inc)
    assert d["version"] == 2 and d["body"] == "王芳的修改"
    assert [v["version"] for v in d["versions"]] == [0, 1, 2]
    assert [v["saved_by"] for v in d["versions"]] == ["dutyd", "zhang", "wang"]
    # Every version is kept in the log.
    saved = r.records("report.draft_saved", inc)
    assert [(s["data"]["version"], s["data"]["body"], s["data"]["base_version"])
            for s in saved] == [(1, "张伟的修改", 0), (2, "王芳的修改", 1)]
    for bad, field in (({"title": "", "body": "x", "base_version": 2}, "title"),
                       ({"title": "t" * 201, "body": "x", "base_version": 2}, "title"),
                       ({"title": "一行\n两行", "body": "x", "base_version": 2}, "title"),
                       ({"title": "t", "body": "  ", "base_version": 2}, "body"),
                       ({"title": "t", "body": "x" * (32 * 1024 + 1), "base_version": 2}, "body"),
                       ({"title": "t", "body": "x"}, "base_version"),
                       ({"title": "t", "body": "x", "base_version": "2"}, "base_version"),
                       ({"title": "t", "body": "x", "base_version": 2, "extra": 1}, "extra")):
        e = r.d.call("PUT", r.path(inc, "/draft"), "secret-zhang", bad)
        assert (e.status, e.json["field"]) == (400, field), (bad, e.json)
    # An office is no staff: the draft is the duty room's.
    assert r.d.call("GET", r.path(inc, "/draft"), "secret-a").status == 401
    assert r.d.call("GET", r.path("INC-20990101-0001", "/draft"), "secret-zhang").status == 404


def test_approval_by_one_tap_link_and_an_edit_withdraws_it(rig):
    r = rig()
    inc = r.report(level="II")
    # A duty officer is no approver: 403 naming who is.
    no = r.d.call("POST", r.path(inc, "/approve"), "secret-zhang", {})
    assert no.status == 403, no.json
    assert no.json["field"] is None and "李强" in no.json["error"]
    q = r.d.call("POST", r.path(inc, "/approval-request"), "secret-zhang", {})
    assert q.status == 200, q.json
    assert q.json["approval"]["state"] == "requested"
    [rec] = r.records("report.approval_requested", inc)
    assert rec["data"]["approvers"] == ["li"] and rec["data"]["version"] == 0
    text = r.approval_sms(inc)
    assert "待审核" in text
    link = re.search(r"http://127\.0\.0\.1:\d+/a/[A-Za-z0-9_-]+", text).group(0)
    code = re.search(r"回复(\d+)P批准", text).group(1)
    assert code
    path = link.split(str(r.d.port), 1)[1]
    page = r.d.call("GET", path)
    assert page.status == 200, page.text
    html = page.text.decode()
    assert "关于A县应急管理局某镇化工厂爆炸的报告" in html and "批准" in html
    assert 'name="version" value="0"' in html
    # Nothing is approved by opening the page.
    assert r.draft(inc)["approval"]["state"] == "requested"
    ok = r.d.call("POST", path, raw=b"token=x&version=0",
                  content_type="application/x-www-form-urlencoded")
    assert ok.status == 200, ok.text
    d = r.draft(inc)
    assert d["approval"]["state"] == "approved" and d["approval"]["by"] == "li"
    inc_view = r.d.call("GET", "/api/v1/incidents/" + inc, "secret-zhang").json
    assert inc_view["written_report"]["approved_by"] == "li"
    assert inc_view["written_report"]["number"] == 0
    [ap] = r.records("report.approved", inc)
    assert (ap["data"]["version"], ap["actor"]) == (0, "person:li")
    # Approving again changes nothing and says so.
    again = r.d.call("POST", path, raw=b"version=0",
                     content_type="application/x-www-form-urlencoded")
    assert again.status == 200 and "无需再次操作" in again.text.decode()
    assert len(r.records("report.approved", inc)) == 1
    # An edit after approval withdraws it: the new text is not approved.
    e = r.d.call("PUT", r.path(inc, "/draft"), "secret-zhang",
                 {"title": "关于爆炸的报告", "body": "改过的正文", "base_version": 0})
    assert e.status == 200
    assert e.json["approval"]["state"] == "none"
    assert r.d.call("GET", "/api/v1/incidents/" + inc,
                    "secret-zhang").json["written_report"]["approved_by"] is None
    # The page read before the edit approves nothing unseen.
    stale = r.d.call("POST", path, raw=b"version=0",
                     content_type="application/x-www-form-urlencoded")
    assert stale.status == 409, stale.text
    assert r.draft(inc)["approval"]["state"] == "none"
    # Through the API too, the approver names the version read (the
    # console does): an edit saved since is neither approved nor rejected.
    for bad in ({"version": -1}, {"version": "1"}, {"version": 1.5}):
        e = r.d.call("POST", r.path(inc, "/approve"), "secret-li", bad)
        assert (e.status, e.json["field"]) == (400, "version"), (bad, e.json)
    rj = r.d.call("POST", r.path(inc, "/reject"), "secret-li",
                  {"comment": "伤亡人数请再核实", "version": 0})
    assert (rj.status, rj.json["field"]) == (409, "version"), rj.json
    old = r.d.call("POST", r.path(inc, "/approve"), "secret-li", {"version": 0})
    assert (old.status, old.json["field"]) == (409, "version"), old.json
    assert "you read version 0" in old.json["error"], old.json
    assert "latest is version 1" in old.json["error"] and "张伟" in old.json["error"], old.json
    assert r.draft(inc)["approval"]["state"] == "none"
    assert len(r.records("report.approved", inc)) == 1
    assert not r.records("report.rejected", inc)
    ok = r.d.call("POST", r.path(inc, "/approve"), "secret-li", {"version": 1})
    assert ok.status == 200, ok.json
    assert (ok.json["approval"]["state"], ok.json["approval"]["version"]) == ("approved", 1)


def test_approval_by_sms_code_and_rejection_needs_a_comment(rig):
    r = rig()
    inc = r.report(level="I")
    assert r.d.call("POST", r.path(inc, "/approval-request"), "secret-zhang", {}).status == 200
    text = r.approval_sms(inc)
    code = re.search(r"回复(\d+)P批准", text).group(1)
    # Rejecting needs a comment: 400 naming the field.
    rj = r.d.call("POST", r.path(inc, "/reject"), "secret-li", {})
    assert (rj.status, rj.json["field"]) == (400, "comment")
    rj = r.d.call("POST", r.path(inc, "/reject"), "secret-li", {"comment": "伤亡人数请再核实"})
    assert rj.status == 200, rj.json
    assert rj.json["approval"]["state"] == "rejected"
    assert rj.json["approval"]["comment"] == "伤亡人数请再核实"
    # A non-approver's reject is 403 whatever its body.
    assert r.d.call("POST", r.path(inc, "/reject"), "secret-wang",
                    {"comment": "x"}).status == 403
    # The SMS code approves the current version.
    answer = r.sms(LI, "%sP" % code)
    assert "已批准" in answer, answer
    d = r.draft(inc)
    assert (d["approval"]["state"], d["approval"]["by"], d["approval"]["version"]) == \
        ("approved", "li", 0)
    [sm] = [x for x in r.records("sms.received", inc) if x["data"]["text"] == "%sP" % code]
    assert sm["data"]["result"] == "report approved"
    # An edit withdraws the approval; the code then approves nothing unseen.
    e = r.d.call("PUT", r.path(inc, "/draft"), "secret-zhang",
                 {"title": "标题", "body": "改过的正文", "base_version": 0})
    assert e.status == 200 and e.json["approval"]["state"] == "none"
    answer = r.sms(LI, "%sP" % code)
    assert "第 1 版" in answer and "未批准" in answer, answer
    assert r.draft(inc)["approval"]["state"] == "none"
    assert len(r.records("report.approved", inc)) == 1


def test_level_iv_needs_no_approval(rig):
    r = rig()
    inc = r.report(level="IV")
    d = r.draft(inc)
    assert d["approval"]["required"] is False
    q = r.d.call("POST", r.path(inc, "/approval-request"), "secret-zhang", {})
    assert q.status == 409, q.json


def test_restart_in_the_middle_keeps_versions_and_approval(rig):
    r = rig()
    inc = r.report(level="II")
    assert r.d.call("PUT", r.path(inc, "/draft"), "secret-zhang",
                    {"title": "标题一", "body": "正文一", "base_version": 0}).status == 200
    assert r.d.call("POST", r.path(inc, "/approval-request"), "secret-zhang", {}).status == 200
    text = r.approval_sms(inc)
    path = re.search(r"/a/[A-Za-z0-9_-]+", text).group(0)
    r.d.stop()
    r.d.start()
    d = r.draft(inc)
    assert (d["version"], d["title"], d["approval"]["state"]) == (1, "标题一", "requested")
    # The approve link sent before the restart still opens the draft.
    page = r.d.call("GET", path)
    assert page.status == 200 and "正文一" in page.text.decode(), page.text
    assert r.d.call("POST", r.path(inc, "/approve"), "secret-li",
                    {"comment": "同意"}).status == 200
    again = r.d.call("POST", path, raw=b"version=1",
                     content_type="application/x-www-form-urlencoded")
    assert again.status == 200 and "已由李强" in again.text.decode(), again.text
    r.d.stop()
    r.d.start()
    d = r.draft(inc)
    assert (d["approval"]["state"], d["approval"]["by"], d["approval"]["comment"]) == \
        ("approved", "li", "同意")
    assert [v["version"] for v in d["versions"]] == [0, 1]
    # A stale base is still stale after the restart.
    assert r.d.call("PUT", r.path(inc, "/draft"), "secret-zhang",
                    {"title": "x", "body": "y", "base_version": 0}).status == 409
