"""The written report to the province (书面报告) in the console, in a real
browser against the real dutyd: the officer on duty opens the generated
draft, edits and saves it; a second session that saved from a stale version
is told who saved first and keeps its text; the draft goes for approval, the
leader approves it in his own session, the officer sends it, and the page
and the incident page say 已报送.  The print view shows only the report.
With DUTYD_SCREENSHOTS=1, screenshots go to build/screenshots/
(docs/console.md shows them)."""
import base64
import re

import pytest

from conftest import wait_until
from test_console_browser import (browser, console_errors, css, no_alert, one, redrawn, shot,
                                  sign_in, size, text_of, texts)

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
EXTRA = """organization: "某市人民政府总值班室"
province:
  name: "省政府总值班室"
  contacts: [ { channel: hook, to: "province" } ]
"""


def value(driver, selector):
    return driver.execute_script(
        "var n = document.querySelector(arguments[0]); return n ? n.value : null;", selector)


def word(driver):
    """The state line's word: 未起草, 已起草, 待审核, 已批准, 已退回, 已报送."""
    return text_of(driver, "[data-wr-word]")


def press(driver, action, inputs=None):
    """Fills INPUTS (selector -> text) and presses the page's ACTION button;
    done again from the start if the page redrew under it."""
    def step():
        for selector, text in (inputs or {}).items():
            node = one(driver, selector)
            node.clear()
            node.send_keys(text)
        one(driver, '[data-wr-action="%s"]' % action).click()
    redrawn(step, "pressing %s" % action)


def computed(driver, selector, prop):
    return driver.execute_script(
        "var n = document.querySelector(arguments[0]);"
        " return n ? getComputedStyle(n).getPropertyValue(arguments[1]) : null;", selector, prop)


@pytest.mark.slow(15)
def test_the_written_report_is_drafted_approved_and_sent_from_the_console(make_dutyd, tmp_path):
    d = make_dutyd(ack_timeout="20m", report_deadline="40m", extra=EXTRA).start()
    base = "http://127.0.0.1:%d" % d.port
    r = d.report(title="某镇化工厂爆炸", level="II", location="A县某镇化工园区",
                 casualties={"dead": 2, "injured": 7}, details="厂区东侧储罐起火 " + XSS)
    assert r.status == 201, r
    inc = r.json["id"]
    page = base + "/incidents/%s/written-report" % inc
    # The leader's window, beside the officer's in the same chromium, opens
    # the pages under another host name: its cookie and storage are its own.
    his_page = "http://localhost:%d/incidents/%s/written-report" % (d.port, inc)
    r = d.call("GET", "/incidents/%s/written-report" % inc)
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html"), r

    officer = browser(tmp_path, 1440, 900)
    leader = None
    try:
        # The incident page leads to the report, saying it is not sent yet.
        officer.get(base + "/incidents/" + inc)
        sign_in(officer, "secret-zhang")
        one(officer, "[data-wr-link]")
        assert "待报送" in text_of(officer, "[data-wr-link-state]")
        redrawn(lambda: one(officer, "[data-wr-link]").click(), "opening the written report")
        wait_until(lambda: officer.current_url == page, 5, what="the written report's page")

        # The draft dutyd generated: the customary title and sections, the
        # unknowns to be checked, the county's words as text.
        wait_until(lambda: value(officer, "#wr-body"), 10, what="the generated draft")
        assert value(officer, "#wr-title") == "关于A县应急管理局某镇化工厂爆炸的报告"
        body = value(officer, "#wr-body")
        for part in ("省政府总值班室", "一、基本情况", "二、伤亡和损失情况", "三、事件原因",
                     "四、已采取的处置措施", "五、下一步工作", "（待核实）", "某市人民政府总值班室",
                     "A县某镇化工园区"):
            assert part in body, (part, body)
        assert word(officer) == "未起草"
        assert texts(officer, "[data-version]", "data-version") == ["0"]
        assert "系统生成" in text_of(officer, "[data-wr-versions]")
        # Level II needs the leader's approval; the officer may not approve.
        one(officer, '[data-wr-action="request"]')
        assert not css(officer, '[data-wr-action="approve"]')
        # The report's clock runs, as on the board.
        assert officer.execute_script(
            "return /^\\d\\d:\\d\\d$/.test(document.querySelector('[data-countdown=\"report\"]').textContent)")
        no_alert(officer)

        # The leader opens the same draft in his own window and starts typing.
        leader = browser(tmp_path, 1440, 900, beside=officer)
        leader.get(his_page)
        sign_in(leader, "secret-li")
        wait_until(lambda: value(leader, "#wr-body"), 10, what="the leader's draft")
        one(leader, "#wr-body").send_keys("\n领导补充：请核实储罐数量。")
        mine = value(leader, "#wr-body")
        # He looks at the incident and comes back: what he typed is still there.
        redrawn(lambda: one(leader, 'a[href="/incidents/%s"][data-nav]' % inc).click(), "to the incident")
        redrawn(lambda: one(leader, "[data-wr-link]").click(), "back to the report")
        wait_until(lambda: "已恢复" in text_of(leader, "[data-wr-edit-info]"), 10, what="his text restored")
        assert value(leader, "#wr-body") == mine

        # Meanwhile the officer fills in what the county phoned through
        # (the measures were still （待核实）) and saves it: version 1.
        def edit():
            officer.execute_script(
                "var n = document.querySelector('#wr-body');"
                " n.value = n.value.replace('四、已采取的处置措施\\n（待核实）',"
                " '四、已采取的处置措施\\n现场已设警戒区，疏散周边群众200人。');"
                " n.dispatchEvent(new Event('input'));")
            assert "现场已设警戒区" in value(officer, "#wr-body")
            one(officer, '[data-wr-action="save"]').click()
        redrawn(edit, "saving the draft")
        wait_until(lambda: "1" in texts(officer, "[data-version]", "data-version"), 5, what="version 1")
        assert word(officer) == "已起草"
        saved = d.call("GET", "/api/v1/incidents/%s/written-report/draft" % inc, "secret-li").json
        assert saved["version"] == 1 and "现场已设警戒区" in saved["body"], saved
        assert saved["versions"][-1]["saved_by"] == "zhang"

        # The leader saves from version 0: refused, he is told who saved
        # version 1, his text stays, and he may load the newer one.
        press(leader, "save")
        one(leader, "[data-wr-conflict] .msg.error")
        said = text_of(leader, "[data-wr-conflict] .msg.error")
        assert "张伟" in said and "第 1 版" in said, said
        assert value(leader, "#wr-body") == mine, "the typed text was lost"
        shot(leader, "written-report-conflict")
        press(leader, "load-newer")
        wait_until(lambda: "现场已设警戒区" in (value(leader, "#wr-body") or ""), 5, what="version 1 loaded")
        assert "领导补充" in value(leader, "[data-wr-mine-text]"), "his text no longer in view"
        assert d.call("GET", "/api/v1/incidents/%s/written-report/draft" % inc,
                      "secret-li").json["version"] == 1, "the stale save was recorded"

        # The officer asks for approval; the leader sees it and approves.
        press(officer, "request")
        wait_until(lambda: word(officer) == "待审核", 5, what="待审核")
        # Not approved yet: 报送 is refused, saying what is missing.
        press(officer, "submit")
        one(officer, '[data-wr-out="submit"] .msg.error')
        assert "待审核" in text_of(officer, '[data-wr-out="submit"]')
        assert not d.call("GET", "/api/v1/incidents/" + inc, "secret-li").json["written_report"]["reports"]
        leader.get(his_page)
        wait_until(lambda: word(leader) == "待审核", 10, what="待审核 for the leader")
        # A rejection needs its reason: said on the page, nothing recorded.
        press(leader, "reject")
        one(leader, '[data-wr-out="approval"] .msg.error')
        assert word(leader) == "待审核"
        press(leader, "approve", {"#wr-comment": "同意报送。"})
        wait_until(lambda: word(leader) == "已批准", 5, what="已批准")
        assert "李强" in text_of(leader, "[data-wr-state]")
        wait_until(lambda: word(officer) == "已批准", 10, what="已批准 on the officer's page")

        # The print view, of the approved version: only the report, title
        # centred, black on white, no navigation or buttons; on A4.
        size(officer, 794, 1123)
        officer.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            assert computed(officer, ".topbar", "display") == "none"
            assert computed(officer, ".wr-screen", "display") == "none"
            assert computed(officer, ".wr-print", "display") == "block"
            assert computed(officer, ".wr-print-title", "text-align") == "center"
            assert computed(officer, ".wr-print", "color") == "rgb(0, 0, 0)"
            # The closing block to the right: the office, 签发 (the approver), the contact.
            foot = texts(officer, ".wr-print p.wr-foot")
            assert foot[0] == "某市人民政府总值班室" and foot[1] == "签发：李强", foot
            assert computed(officer, ".wr-print p.wr-foot", "text-align") == "right"
            assert officer.execute_script(
                "return Array.from(document.querySelectorAll('button, nav, input, textarea'))"
                ".every(n => n.getBoundingClientRect().height === 0);"), "a control would print"
            assert text_of(officer, ".wr-print-title") == "关于A县应急管理局某镇化工厂爆炸的报告"
            printed = text_of(officer, "[data-wr-print]")
            for part in ("一、基本情况", "现场已设警戒区", "某市人民政府总值班室", "签发"):
                assert part in printed, (part, printed)
            assert XSS in printed and not css(officer, "[data-wr-print] img")
            shot(officer, "written-report-print", full=True)
        finally:
            officer.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
            size(officer, 1440, 900)
        pdf = base64.b64decode(officer.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes), boxes
        assert len(boxes) <= 2, "the report prints on %d A4 pages" % len(boxes)

        # The officer sends it with its reference: the state says 已报送,
        # the report's clock stops, the incident page says so too.
        press(officer, "submit", {"#wr-reference": "某应急〔2026〕12号"})
        wait_until(lambda: "首报" in text_of(officer, "[data-wr-sent]"), 5, what="the report sent")
        wait_until(lambda: word(officer) == "已报送", 5, what="已报送")
        assert "某应急〔2026〕12号" in text_of(officer, "[data-wr-sent]")
        wait_until(lambda: "已报送" in text_of(officer, '[data-countdown="report"]'), 5,
                   what="the report clock stopped")
        got = d.call("GET", "/api/v1/incidents/" + inc, "secret-li").json
        wr = got["written_report"]
        assert wr["via"] == "dutyd" and wr["reports"][0]["reference"] == "某应急〔2026〕12号", wr
        assert wr["reports"][0]["number"] == 0
        # The page names what it sends: a second click (or a retry after a
        # lost answer) is the same submission, not 续报一.
        subs = [r for r in d.audit() if r["event"] == "report.submitted"]
        assert len(subs) == 1 and subs[0]["data"]["idempotency_key"] == \
            "console-%s-0-%d" % (inc, subs[0]["data"]["version"]), subs
        # It goes to the province like a notification, and the page shows it arrive.
        wait_until(lambda: "已送达" in text_of(officer, '[data-wr-deliveries] tr[data-event="report.submitted"]'),
                   10, what="the report delivered to the province")
        assert "省政府总值班室" in text_of(officer, '[data-wr-deliveries] tr[data-event="report.submitted"]')
        assert "李强" in text_of(officer, "[data-wr-sent]"), "who approved it, by name"
        # The toast floats over the cards in a whole-page picture: not in the docs'.
        officer.execute_script("document.querySelectorAll('.msg.toast').forEach(n => n.remove());")
        shot(officer, "written-report", full=True)

        # What 下载文本 offers: the latest version as plain text.
        href = one(officer, "[data-wr-download]").get_attribute("href")
        assert href == base + "/api/v1/incidents/%s/written-report.txt" % inc, href
        txt = d.call("GET", "/api/v1/incidents/%s/written-report.txt" % inc, "secret-li")
        assert txt.status == 200 and txt.headers["Content-Type"].startswith("text/plain"), txt

        # The incident page: 已报省, and its button 已报送.
        redrawn(lambda: one(officer, 'a[href="/incidents/%s"][data-nav]' % inc).click(), "back to the incident")
        one(officer, "[data-wr-link-state]")
        wait_until(lambda: "已报送" in text_of(officer, "[data-wr-link-state]"), 5, what="已报送 on the incident")
        assert "已报省" in text_of(officer, ".inc-head")
        assert "书面报告报送" in text_of(officer, ".timeline")

        # A level-IV report needs no approval: no 送审, sent at once.
        r = d.report(token="secret-b", title="某村道路塌方", level="IV")
        assert r.status == 201, r
        officer.get(base + "/incidents/%s/written-report" % r.json["id"])
        one(officer, "[data-wr-no-approval]")
        assert not css(officer, '[data-wr-action="request"]')
        assert word(officer) == "未起草"
        press(officer, "submit")
        wait_until(lambda: word(officer) == "已报送", 5, what="the level-IV report sent")
        assert "未经审核" in text_of(officer, "[data-wr-sent]")
        # Text typed and not saved is kept in the tab, and dropped at sign-out.
        redrawn(lambda: one(officer, "#wr-body").send_keys("续报草稿"), "typing")
        kept = "return Object.keys(sessionStorage).filter(k => k.startsWith('dutyd.wr.')).length;"
        assert officer.execute_script(kept) == 1
        redrawn(lambda: one(officer, "[data-signout]").click(), "signing out")
        one(officer, 'input[name="token"]')
        assert officer.execute_script(kept) == 0, "unsaved report text left for the next person"
        sign_in(officer, "secret-zhang")

        # An incident that does not exist: said plainly, no editor to type into.
        officer.get(base + "/incidents/INC-20991231-9999/written-report")
        one(officer, "[data-wr-problem] .msg.error")
        assert "找不到" in text_of(officer, "[data-wr-problem]")
        assert not one(officer, "#wr-body").is_displayed()

        # On a phone (the leader opens his SMS link there): one column, nothing wider.
        size(leader, 390, 844, mobile=True)
        leader.get(his_page)
        wait_until(lambda: word(leader) == "已报送" or "续报" in text_of(leader, "h1"), 10,
                   what="the page on a phone")
        assert leader.execute_script("return document.documentElement.scrollWidth <= 390;")
        # The leader came to approve: approval and sending above the long text.
        assert leader.execute_script(
            "var top = s => document.querySelector(s).getBoundingClientRect().top;"
            " return top('.wr-card-approval') < top('.wr-card-send')"
            " && top('.wr-card-send') < top('.wr-card-editor');")
        shot(leader, "written-report-phone", full=True)
        no_alert(officer)
        for driver in (officer, leader):
            errors = console_errors(driver)
            assert not errors, errors
    finally:
        officer.quit()
        if leader is not None:
            leader.quit()
