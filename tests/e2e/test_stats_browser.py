"""The figures (/stats) and directives (/directives) pages in a real browser
against the real dutyd: the office table and the charts the page draws as
SVG show what was reported; a directive created through the API is in the
list, and progress posted from its page shows in its timeline.
With DUTYD_SCREENSHOTS=1, screenshots go to build/screenshots/
(docs/console.md)."""
import time

import pytest

from conftest import now_rfc3339, wait_until
from test_console_browser import browser, console_errors, css, no_alert, one, shot, sign_in, texts

pytestmark = [pytest.mark.browser, pytest.mark.plain_pass]

EXTRA = 'timezone: "Asia/Shanghai"\n'


@pytest.mark.slow(20)
def test_stats_and_directives_pages(make_dutyd, tmp_path):
    d = make_dutyd(extra=EXTRA).start()
    base = "http://127.0.0.1:%d" % d.port
    assert d.report(title="河堤管涌").status == 201
    assert d.report(title="山体滑坡", occurred_at=now_rfc3339(-3600)).status == 201
    assert d.report(token="secret-b", title="厂房起火").status == 201
    r = d.call("POST", "/api/v1/directives", "secret-zhang", {
        "title": "关于做好河堤巡查的批示", "text": "请A县立即组织巡查，结果报市政府。",
        "issued_by": "王市长", "owner": "county-a"})
    assert r.status == 201, r
    did = r.json["id"]

    driver = browser(tmp_path, 1280, 900)
    try:
        driver.get(base + "/stats")
        sign_in(driver, "secret-zhang")
        one(driver, '[data-stats-office="county-a"]', timeout=20)
        assert texts(driver, "[data-stats-office]", "data-stats-office") == ["county-a", "county-b"]
        row = texts(driver, '[data-stats-office="county-a"] td')
        assert row[:3] == ["A县应急管理局", "2", "1"], row
        # The chart: a bar per office and series, drawn by the page.
        bars = texts(driver, 'svg[data-chart="reports"] rect[data-series="报告数"]', "data-value")
        assert bars == ["2", "1"], bars
        late = texts(driver, 'svg[data-chart="reports"] rect[data-series="迟报数"]', "data-value")
        assert late == ["1", "0"], late
        assert css(driver, 'svg[data-chart="ack"] rect')
        assert css(driver, 'svg[data-chart="escalations"] rect')
        shot(driver, "stats", full=True)
        # Last month: nothing reported then, every office still listed.
        one(driver, '[data-stats-period="last-month"]').click()
        wait_until(lambda: "from=" in driver.current_url and
                   texts(driver, '[data-stats-office="county-a"] td')[1:2] == ["0"],
                   20, what="last month's figures")
        assert len(css(driver, "[data-stats-office]")) == 2

        driver.get(base + "/directives")
        one(driver, '[data-directive="%s"]' % did, timeout=20)
        shot(driver, "directives")
        one(driver, '[data-directive="%s"] a' % did).click()
        box = one(driver, 'form[data-directive-form="progress"]')
        box.find_element("css selector", 'textarea[name="text"]').send_keys("已组织 30 人巡查，发现管涌 2 处。")
        box.find_element("css selector", '[data-directive-action="progress"]').click()
        wait_until(lambda: any("已组织 30 人巡查" in t for t in
                               texts(driver, '[data-directive-timeline] tr[data-event="directive.progress"]')),
                   20, what="the progress in the timeline")
        shot(driver, "directive", full=True)
        got = d.call("GET", "/api/v1/directives/" + did, "secret-zhang").json
        assert [p["text"] for p in got["progress"]] == ["已组织 30 人巡查，发现管涌 2 处。"]

        # A directive recorded from the list page opens its own page.
        driver.get(base + "/directives")
        one(driver, "details summary").click()
        form = one(driver, "form[data-directive-create]")
        for name, value in (("title", "关于山体滑坡隐患排查的批示"), ("text", "请B县三日内排查完毕。"),
                            ("issued_by", "李副市长"), ("owner", "county-b")):
            form.find_element("css selector", '[name="%s"]' % name).send_keys(value)
        form.find_element("css selector", 'button[type="submit"]').click()
        wait_until(lambda: "/directives/DIR-" in driver.current_url and
                   css(driver, ".dir-page[data-directive]"), 20, what="the new directive's page")
        new = driver.current_url.rsplit("/", 1)[1]
        got = d.call("GET", "/api/v1/directives/" + new, "secret-zhang").json
        assert (got["title"], got["owner"], got["issued_by"]) == ("关于山体滑坡隐患排查的批示", "county-b", "李副市长")
        no_alert(driver)
        assert console_errors(driver) == [], console_errors(driver)
    finally:
        driver.quit()
    d.stop()
