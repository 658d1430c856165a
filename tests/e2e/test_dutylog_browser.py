"""The duty log (值班日志) in a real browser against the real dutyd: the
incoming leader opens /dutylog, accepts the handover with 确认接班, and the
printable log shows the day (who was on duty, the handover with the
outgoing's note, the incident, the entries) and the signature lines; the
print view is only the log, on A4."""
import base64
import datetime
import re

import pytest

from conftest import audit_records, wait_until
from test_console_browser import browser, css, one, shot, sign_in, size, text_of

pytestmark = [pytest.mark.browser, pytest.mark.plain_pass]

ZONE = datetime.timezone(datetime.timedelta(hours=8))
XSS = "<img src=x onerror=alert(1)>"


def computed(driver, selector, prop):
    return driver.execute_script(
        "var n = document.querySelector(arguments[0]);"
        " return n ? getComputedStyle(n).getPropertyValue(arguments[1]) : null;", selector, prop)


@pytest.mark.slow(12)
def test_the_duty_log_is_read_accepted_and_printed_on_a4(make_dutyd, sink, tmp_path):
    now = datetime.datetime.now(ZONE).replace(microsecond=0)
    t1 = now + datetime.timedelta(seconds=4)
    day = (now - datetime.timedelta(hours=2)).date().isoformat()
    extra = """
roster:
  timezone: Asia/Shanghai
  start: 2026-01-01
  accept_within: 1h
  leader: { handover: "%s", rotation: daily, people: [li] }
  shifts:
    - { name: allday, hours: "00:00-00:00", rotation: daily, people: [zhang] }
  overrides:
    - { start: "%s", end: "%s", shift: leader, person: wang }
""" % ((now - datetime.timedelta(hours=2)).strftime("%H:%M"), t1.isoformat(),
       (t1 + datetime.timedelta(hours=1)).isoformat())
    d = make_dutyd(extra=extra).start()
    base = "http://127.0.0.1:%d" % d.port
    r = d.report(title="河堤管涌", level="III")
    assert r.status == 201, r
    inc = r.json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/ack" % inc, "secret-zhang").status == 200
    note = "请留意 %s 的续报 " % inc + XSS
    assert d.call("POST", "/api/v1/handover/note", "secret-li", {"text": note}).status == 201
    wait_until(lambda: any(x["event"] == "duty.handover" for x in audit_records(d.state_dir)),
               timeout=15, what="the handover")

    r = d.call("GET", "/dutylog?date=" + day)
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html"), r

    drv = browser(tmp_path, 1280, 900)
    try:
        drv.get(base + "/dutylog?date=" + day)
        sign_in(drv, "secret-wang")
        one(drv, "[data-dutylog]")
        assert drv.execute_script("return document.querySelector('[data-dutylog]').getAttribute('data-dutylog')") == day
        assert "尚未确认接班" in text_of(drv, "[data-handover-state]")
        one(drv, '[data-handover-action="accept"]').click()
        wait_until(lambda: "确认接班" in text_of(drv, "[data-handover-state]")
                   and "已于" in text_of(drv, "[data-handover-state]"), 10, what="accepted")
        acc = [x for x in audit_records(d.state_dir) if x["event"] == "duty.handover_accepted"]
        assert len(acc) == 1 and acc[0]["data"]["by"] == "wang", acc

        wait_until(lambda: "王芳" in text_of(drv, "[data-dutylog]"), 10, what="the log redrawn")
        sheet = text_of(drv, "[data-dutylog]")
        for part in ("值班日志", day, "带班领导", "李强", "王芳", "张伟", inc, "河堤管涌",
                     "交班人签字", "接班人签字", "带班领导签字", XSS):
            assert part in sheet, (part, sheet)
        assert not css(drv, "[data-dutylog] img"), "a note's text became markup"
        # 下载 CSV works with the console's session (no token in the page).
        got = drv.execute_async_script(
            "var done = arguments[0];"
            " fetch(document.querySelector('[data-dutylog-csv]').href)"
            ".then(function (r) { return r.text().then(function (t) { done([r.status, t]); }); },"
            " function (e) { done([0, String(e)]); });")
        assert got[0] == 200 and got[1].startswith("序号,时间,类型") and inc in got[1], got

        size(drv, 794, 1123)
        drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            assert computed(drv, ".topbar", "display") == "none"
            assert computed(drv, ".dl-screen", "display") == "none"
            assert computed(drv, ".dl-title", "text-align") == "center"
            assert drv.execute_script(
                "return Array.from(document.querySelectorAll('button, nav, input, textarea'))"
                ".every(n => n.getBoundingClientRect().height === 0);"), "a control would print"
            shot(drv, "dutylog-print", full=True)
        finally:
            drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
            size(drv, 1280, 900)
        pdf = base64.b64decode(drv.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2
                             for w, h in boxes), boxes
    finally:
        drv.quit()
