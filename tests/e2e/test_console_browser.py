"""The duty-room console (值班台) in a real browser: Debian's chromium,
headless, driven by selenium through /usr/bin/chromedriver, against the real
dutyd.  One long scenario for the duty room and a county on a phone, then,
in a second window of the same chromium, the board of a dutyd whose streams
are all taken: chromium starts once.  With DUTYD_SCREENSHOTS=1, screenshots of every
page go to build/screenshots/ (docs/console.md shows them).

Nothing is skipped: without chromium, chromedriver or selenium the test
fails and says what to install (`make deps` installs all three)."""
import base64
import datetime
import os
import re
import shutil
import tempfile

import pytest

from conftest import ROOT, SANITIZED, Sink, now_rfc3339, wait_until

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SHOTS = os.path.join(ROOT, "build", "screenshots", "san" if SANITIZED else "")
# Screenshots only when asked: the docs' pictures are committed, and the 17
# the tests take cost about 6 CPU-s a make check (0.2 to 0.9 each) for
# pictures nobody looks at.
SHOTS_WANTED = os.environ.get("DUTYD_SCREENSHOTS", "") not in ("", "0")
ZONE = datetime.timezone(datetime.timedelta(hours=8))
XSS = "<img src=x onerror=alert(1)>"

# A roster with a leader, an officer round the clock, and tomorrow's leader
# replaced (调班), so /oncall has something to show; times as a duty room
# in China sees them.
ROSTER = """
timezone: Asia/Shanghai
roster:
  timezone: Asia/Shanghai
  start: 2026-01-01
  leader: { handover: "08:30", rotation: daily, people: [li] }
  shifts:
    - { name: 白班, hours: "08:30-20:30", rotation: daily, people: [zhang] }
    - { name: 夜班, hours: "20:30-08:30", rotation: daily, people: [zhang] }
  overrides:
    - { date: %s, shift: leader, person: wang }
"""


def browser(tmp_path, width, height, mobile=False, beside=None):
    """A headless chromium with a viewport of exactly WIDTH x HEIGHT.

    BESIDE (a window this returned): another window of the same chromium,
    for a second person, instead of a second chromium (a chromium's start
    and quit cost about 5.8 CPU-s).  That person opens the pages under
    another host name, localhost (127.0.0.1 for the first): the browser
    keeps cookies per host and storage per origin, so each window holds its
    own session."""
    if beside is not None:
        return Window(beside._driver, width, height, mobile)
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium module (python3-selenium)")
    if missing:
        pytest.fail("the console's browser test needs %s: run `make deps` "
                    "(apt-get install chromium chromium-driver python3-selenium)"
                    % ", ".join(missing))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-", dir=str(tmp_path))
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--lang=zh-CN",
                "--autoplay-policy=no-user-gesture-required",
                "--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height)):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    return Window(driver, width, height, mobile, first=True)


class Window:
    """One window of a chromium, used as selenium's driver is: each use
    makes it the window the driver acts on first.  An element found in a
    window is used before the other window is (selenium acts on the current
    window's elements only).  The log of the browser's console is the
    driver's, of every window: console_errors() of either window sees both.
    quit(): the first window's quits the chromium; another's closes it."""

    def __init__(self, driver, width, height, mobile, first=False):
        self._driver = driver
        self._first = first
        if not first:
            driver.switch_to.new_window("window")
        self._handle = driver.current_window_handle
        driver.dutyd_window = self._handle       # the window the driver acts on
        size(self, width, height, mobile)

    def __getattr__(self, name):
        driver = self._driver
        if driver.dutyd_window != self._handle:
            driver.switch_to.window(self._handle)
            driver.dutyd_window = self._handle
        return getattr(driver, name)

    def quit(self):
        if self._first:
            self._driver.quit()
            self._driver.dutyd_window = None
        elif self._driver.dutyd_window is not None:  # not quit already
            self.close()


def size(driver, width, height, mobile=False):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def shot(driver, name, full=False):
    """Saves build/screenshots/NAME.png, with DUTYD_SCREENSHOTS=1 in the
    environment; FULL: the whole page, not just the viewport."""
    if not SHOTS_WANTED:
        return
    os.makedirs(SHOTS, exist_ok=True)
    png = driver.execute_cdp_cmd("Page.captureScreenshot",
                                 {"format": "png", "captureBeyondViewport": full})["data"]
    with open(os.path.join(SHOTS, name + ".png"), "wb") as f:
        f.write(base64.b64decode(png))


def css(driver, selector):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, selector)


def one(driver, selector, timeout=10):
    """The element SELECTOR matches, once it is there."""
    return wait_until(lambda: (css(driver, selector) or [None])[0], timeout,
                      what="%s on %s" % (selector, driver.current_url))


def text_of(driver, selector):
    """The text SELECTOR shows now, read in one step: the pages redraw, and
    an element found a moment ago may be gone."""
    return driver.execute_script(
        "var n = document.querySelector(arguments[0]); return n ? n.innerText : '';", selector)


def classes(driver, selector):
    """The classes of what SELECTOR matches now (read in one step, as text_of)."""
    return driver.execute_script(
        "var n = document.querySelector(arguments[0]); return n ? n.className : '';",
        selector).split()


def texts(driver, selector, attribute=None):
    """Every match's text (or ATTRIBUTE), read in one step."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]),"
        " n => arguments[1] ? n.getAttribute(arguments[1]) : n.innerText);",
        selector, attribute)


def seconds(countdown):
    """'19:58' or '1:02:03' -> seconds."""
    parts = [int(p) for p in countdown.split(":")]
    assert len(parts) in (2, 3), countdown
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def sign_in(driver, token):
    field = one(driver, 'form input[name="token"]')
    assert field.get_attribute("type") == "password"
    field.send_keys(token)
    one(driver, 'form button[type="submit"]').click()
    wait_until(lambda: not css(driver, 'input[name="token"]'), 10, what="signing in")


def no_alert(driver):
    from selenium.common.exceptions import NoAlertPresentException
    try:
        text = driver.switch_to.alert.text
    except NoAlertPresentException:
        return
    raise AssertionError("an alert opened: %r (a report's text ran as script)" % text)


def console_errors(driver):
    """What chromium's console said at error level: a CSP violation, a
    script error.  Answers of 4xx are logged too; the page handles those."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and "Failed to load resource" not in e["message"]]   # a 401 or 400 the page expects


def redrawn(step, what):
    """Runs STEP until it ran through.  The pages redraw when the stream says
    something changed (a delivery recorded): an element found before that is
    gone (stale, or no longer interactable), and then the step is done again
    from the start.  The step's last act is its click, so it never acts twice."""
    from selenium.common.exceptions import (ElementClickInterceptedException,
                                            ElementNotInteractableException,
                                            StaleElementReferenceException)

    def attempt():
        try:
            step()
            return True
        except (StaleElementReferenceException, ElementNotInteractableException,
                ElementClickInterceptedException):
            return False
    wait_until(attempt, 10, what=what)


def fill(container, inputs):
    for field, value in inputs.items():
        node = container.find_element("css selector", '[name="%s"]' % field)
        node.clear()
        node.send_keys(value)


def action(driver, name, inputs=None):
    """Fills the inputs of an incident page's action box and presses its button."""
    def step():
        box = one(driver, '[data-action-box="%s"]' % name)
        fill(box, inputs or {})
        box.find_element("css selector", '[data-action="%s"]' % name).click()
    redrawn(step, "pressing %s" % name)


@pytest.mark.slow(40)
def test_the_night_shift_and_a_county_use_the_console(make_dutyd, sink, tmp_path):
    tomorrow = (datetime.datetime.now(ZONE) + datetime.timedelta(days=1)).date().isoformat()
    # The leader's receiver is down for good: messages to li fail after 2 s.
    sink.script["li"] = [500] * 1000
    d = make_dutyd(ack_timeout="20m", report_deadline="40m",
                   extra="  retry_give_up: 2s\n" + ROSTER % tomorrow).start()
    base = "http://127.0.0.1:%d" % d.port

    # The HTML shell and its headers, as the browser gets them.
    r = d.call("GET", "/")
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert b"<script>" not in r.text and b"style=" not in r.text

    driver = browser(tmp_path, 1440, 900)
    try:
        # A page opened without a session shows the sign-in form; signing in
        # there keeps the page.
        driver.get(base + "/wall")
        one(driver, 'input[name="token"]')
        shot(driver, "signin")
        field = one(driver, 'input[name="token"]')
        field.send_keys("wrong-token")
        one(driver, 'button[type="submit"]').click()
        one(driver, ".signin-error .msg.error")
        assert "令牌不正确" in text_of(driver, ".signin-error")
        field.clear()
        sign_in(driver, "secret-zhang")
        one(driver, ".wall-clock")
        assert driver.current_url == base + "/wall"

        driver.get(base + "/")
        one(driver, "table.incidents")
        wait_until(lambda: "当前没有未办结的事件" in text_of(driver, ".empty"), 10,
                   what="the empty board")
        one(driver, '[data-duty="leader"]')
        assert "李强" in text_of(driver, '[data-duty="leader"]')
        driver.execute_script("window.notReloaded = true;")
        one(driver, "#alarm-switch")

        # A report posted over the API is on the board within 2 s, without a reload.
        r = d.report(title="G15高速多车相撞", level="II", location="A县G15 K1234",
                     casualties={"dead": 1, "injured": 5})
        assert r.status == 201, r
        first = r.json["id"]
        row = '[data-incident="%s"]' % first
        one(driver, row, timeout=2.0)
        assert driver.execute_script("return window.notReloaded === true;"), "the page reloaded"
        text = text_of(driver, row)
        assert "G15高速多车相撞" in text and "A县应急管理局" in text, text
        assert "死1 伤5" in text and "Ⅱ橙" in text and "待确认" in text, text
        # It sounded and the title flashes until someone looks.
        wait_until(lambda: driver.execute_script(
            "return Number(document.body.getAttribute('data-beeps') || 0);") >= 1, 5,
            what="the alarm to sound")
        assert driver.execute_script("return document.body.getAttribute('data-flashing');") == "true"
        # Then the sound rests: a running AudioContext renders silence on its
        # own thread, a tenth of a core on a board left open day and night.
        wait_until(lambda: driver.execute_script("return Alarm.ctx.state;") == "suspended", 5,
                   what="the alarm's audio to be suspended after the beeps")

        # Its acknowledgement countdown runs down.
        ack = '[data-incident="%s"] [data-countdown="ack"]' % first
        one(driver, ack)
        start = seconds(text_of(driver, ack))
        assert 19 * 60 <= start <= 20 * 60, start
        wait_until(lambda: seconds(text_of(driver, ack)) < start, 4, what="the countdown to move")
        assert re.fullmatch(r"\d\d:\d\d", text_of(driver, '[data-incident="%s"] [data-countdown="report"]' % first))

        # A title that is markup shows as text and runs nothing.
        r = d.report(title=XSS, level="I", occurred_at=now_rfc3339(-30 * 60),
                     casualties={"missing": 2})
        assert r.status == 201, r
        xss = r.json["id"]
        row = '[data-incident="%s"]' % xss
        one(driver, row, timeout=2.0)
        assert XSS in text_of(driver, row)
        assert not css(driver, row + " img")
        # The rested sound comes back for the next new incident.
        wait_until(lambda: driver.execute_script(
            "return Number(document.body.getAttribute('data-beeps') || 0);") >= 2, 5,
            what="the alarm to sound again after resting")
        assert "迟报" in text_of(driver, row), "reported 30 minutes after the event: late"
        no_alert(driver)
        # The deadlines first: both run 20 minutes, the newer one is last.
        rows = texts(driver, "tr[data-incident]", "data-incident")
        assert rows == [first, xss], rows
        d.report(token="secret-b", title="某村山洪", level="III")
        wait_until(lambda: len(css(driver, "tr[data-incident]")) == 3, 2, what="a third row")
        shot(driver, "board")

        # The incident page: acknowledge in one click, file, note, resolve.
        redrawn(lambda: one(driver, '[data-incident="%s"] .c-title a' % first).click(),
                "opening the incident")
        one(driver, '[data-action="ack"]')
        assert driver.current_url == base + "/incidents/" + first
        assert driver.execute_script("return window.notReloaded === true;"), "the page reloaded"
        assert "A县G15 K1234" in text_of(driver, ".facts")
        action(driver, "ack")
        wait_until(lambda: "已确认" in text_of(driver, ".inc-head"), 5, what="已确认")
        inc = d.call("GET", "/api/v1/incidents/" + first, "secret-li").json
        assert inc["acknowledged_by"] == {"id": "zhang", "name": "张伟"}
        action(driver, "file", {"reference": "A应急〔2026〕12号"})
        wait_until(lambda: "已报省" in text_of(driver, ".inc-head"), 5, what="已报省")
        action(driver, "note", {"text": "已电话联系现场指挥部 <b>确认</b>"})
        wait_until(lambda: css(driver, '.timeline [data-event="incident.note"]'), 5,
                   what="the note in the timeline")
        assert "<b>确认</b>" in text_of(driver, '.timeline [data-event="incident.note"]')
        # A dismissal without its reason is refused with the server's words.
        action(driver, "dismiss")
        one(driver, '[data-action-box="dismiss"] .msg.error')
        inc = d.call("GET", "/api/v1/incidents/" + first, "secret-li").json
        assert inc["written_report"]["reference"] == "A应急〔2026〕12号"
        assert inc["state"] == "acknowledged"
        assert "incident.note" in [e["event"] for e in inc["timeline"]]
        # The leader's receiver never answered: those deliveries failed for
        # good and show in red, without a reload.
        wait_until(lambda: "李强" in text_of(driver, "tr.delivery.failed"), 15,
                   what="li's failed delivery in red")
        assert "送达失败" in text_of(driver, "tr.delivery.failed")
        assert "李强" in text_of(driver, ".card.danger")
        shot(driver, "incident", full=True)
        action(driver, "resolve", {"note": "处置完毕"})
        wait_until(lambda: "已办结" in text_of(driver, ".inc-head"), 5, what="已办结")
        assert d.call("GET", "/api/v1/incidents/" + first, "secret-li").json["state"] == "resolved"
        assert texts(driver, '[data-action="resolve"]', "disabled") == [""], "resolve still enabled"

        # The XSS incident's own page shows the title as text too.
        driver.get(base + "/incidents/" + xss)
        one(driver, ".inc-head h1")
        assert text_of(driver, ".inc-head h1") == XSS
        assert not css(driver, ".inc-head img, .facts img")
        no_alert(driver)

        # Back on the board, the resolved one is gone.
        redrawn(lambda: one(driver, 'a[href="/"][data-nav]').click(), "going back")
        wait_until(lambda: len(css(driver, "tr[data-incident]")) == 2, 5, what="two rows")

        # A report taken by phone is recorded as the person, source phone.
        driver.get(base + "/report")
        picker = one(driver, "#rp-office")
        wait_until(lambda: len(css(driver, "#rp-office option")) == 3, 5, what="the offices")
        from selenium.webdriver.support.ui import Select
        Select(picker).select_by_value("county-b")
        one(driver, 'form[data-form="report"] input[name="title"]').send_keys("某镇民房倒塌")
        shot(driver, "report-staff")
        one(driver, '[data-submit="report"]').click()
        wait_until(lambda: "/incidents/" in driver.current_url, 5, what="the new incident's page")
        phone = driver.current_url.rsplit("/", 1)[1]
        inc = d.call("GET", "/api/v1/incidents/" + phone, "secret-li").json
        assert inc["office"] == "county-b" and inc["source"] == "phone"
        assert inc["taken_by"]["id"] == "zhang"

        # Today and the next 14 days, the leader on duty, tomorrow's override.
        driver.get(base + "/oncall")
        one(driver, "[data-day]")
        assert "李强" in text_of(driver, '[data-duty="leader"]')
        days = texts(driver, "[data-day]")
        assert len(days) == 15
        assert "王芳" in days[1] and "调班" in days[1]
        shot(driver, "oncall")

        # The wall at 1920 x 1080: no buttons, countdowns, who is on duty.
        size(driver, 1920, 1080)
        driver.get(base + "/wall")
        wait_until(lambda: len(css(driver, ".wall-row")) == 3, 5, what="the wall's rows")
        assert not css(driver, "button, input, a")
        assert css(driver, '.wall-row [data-countdown="ack"]')
        assert "李强" in text_of(driver, ".wall-head")
        shot(driver, "wall")
        no_alert(driver)
        errors = console_errors(driver)
        assert not errors, errors

        # The sound switch is remembered by the browser: off, it stays off
        # after a reload and a new incident only flashes the title.
        size(driver, 1440, 900)
        driver.get(base + "/")
        switch = one(driver, "#alarm-switch")
        assert switch.is_selected()
        switch.click()
        driver.refresh()
        one(driver, "table.incidents")
        assert not one(driver, "#alarm-switch").is_selected()
        wait_until(lambda: "实时" in text_of(driver, "#live-mode"), 5, what="the stream")
        r = d.report(title="某路段塌陷")
        one(driver, '[data-incident="%s"]' % r.json["id"], timeout=2.0)
        wait_until(lambda: driver.execute_script(
            "return document.body.getAttribute('data-flashing');") == "true", 5, what="the flash")
        assert driver.execute_script("return document.body.getAttribute('data-beeps');") is None

        # Signing out ends the session: the next page asks for the token.
        one(driver, "[data-signout]").click()
        one(driver, 'input[name="token"]')
        driver.get(base + "/oncall")
        one(driver, 'input[name="token"]')

        # A county on a phone: its report and a follow-up; only its incidents.
        size(driver, 390, 844, mobile=True)
        driver.get(base + "/")
        sign_in(driver, "secret-a")
        wait_until(lambda: driver.current_url == base + "/report", 5, what="the county page")
        form = one(driver, 'form[data-form="report"]')
        form.find_element("css selector", 'input[name="title"]').send_keys("某镇化工厂火灾")
        form.find_element("css selector", 'input[name="injured"]').send_keys("3")
        form.find_element("css selector", 'textarea[name="details"]').send_keys("厂区东侧起火，已疏散。")
        shot(driver, "report-county-form", full=True)
        one(driver, '[data-submit="report"]').click()
        one(driver, 'form[data-form="report"] .msg.ok')
        mine = re.search(r"INC-\d{8}-\d{4}", text_of(driver, 'form[data-form="report"] .msg.ok')).group(0)
        # The form is empty for the next report, its time now again.
        def value(name):
            return driver.execute_script(
                "return document.querySelector(arguments[0]).value;",
                'form[data-form="report"] [name="%s"]' % name)
        assert value("title") == "" and value("details") == ""
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", value("occurred_at"))
        inc = d.call("GET", "/api/v1/incidents/" + mine, "secret-li").json
        assert inc["office"] == "county-a" and inc["casualties"] == {"injured": 3}
        card = '.county-inc[data-incident="%s"]' % mine
        one(driver, card)
        assert "已接收" in text_of(driver, card)
        ids = texts(driver, ".county-inc", "data-incident")
        assert mine in ids and phone not in ids, "county-b's incident shown to county-a"
        form = 'form[data-followup="%s"]' % mine

        def open_and_send():
            if not one(driver, form).is_displayed():
                one(driver, '[data-followup-open="%s"]' % mine).click()
            fu = one(driver, form)
            fill(fu, {"measures": "已疏散周边群众 200 人"})
            fu.find_element("css selector", '[data-submit="followup"]').click()
        redrawn(open_and_send, "sending the follow-up")
        wait_until(lambda: "续报 1 次" in text_of(driver, card), 5, what="the follow-up counted")
        inc = d.call("GET", "/api/v1/incidents/" + mine, "secret-li").json
        assert inc["updates"][0]["fields"] == {"measures": "已疏散周边群众 200 人"}
        # Staff pages lead the county back to its own.
        driver.get(base + "/oncall")
        wait_until(lambda: driver.current_url == base + "/report", 5, what="the redirect")
        one(driver, card)
        shot(driver, "report-county", full=True)
        errors = console_errors(driver)
        assert not errors, errors
        # The next scenario in this chromium (a start and quit cost about
        # 5.8 CPU-s): this window's page is done with, its live updates too.
        driver.get("about:blank")
        the_board_polls_while_the_stream_is_refused(make_dutyd, driver, tmp_path)
    finally:
        driver.quit()


def the_board_polls_while_the_stream_is_refused(make_dutyd, beside, tmp_path):
    """With every stream taken (console.max_streams), the board says it is
    polling and still shows a new incident within the poll's 2 s; its
    countdowns turn amber under 5 minutes and red once passed.

    A dutyd of its own (and a receiver of its own), in a new window of
    BESIDE's chromium that opens the pages as localhost: the browser keeps
    cookies per host, so the session of the windows on 127.0.0.1 is not
    sent, and the board signs in afresh."""
    import socket
    own_sink = Sink(secret="hmac-secret")
    try:
        d = make_dutyd(sink=own_sink, ack_timeout="3s", report_deadline="4m",
                       extra="console:\n  max_streams: 1\n").start()
        held = socket.create_connection((d.host, d.port), timeout=10)
    except BaseException:
        own_sink.close()
        raise
    base = "http://localhost:%d" % d.port
    try:
        held.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: dutyd\r\n"
                     b"Authorization: Bearer secret-li\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = held.recv(4096)
            assert chunk, "dutyd closed the held stream: %r" % head
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head
        driver = browser(tmp_path, 1440, 900, beside=beside)
        try:
            driver.get(base + "/")
            sign_in(driver, "secret-zhang")
            one(driver, "table.incidents")
            wait_until(lambda: "轮询" in text_of(driver, "#live-mode"), 10, what="polling")
            r = d.report(title="某县城区内涝")
            assert r.status == 201, r
            # A poll every 2 s, and the answer's way back.
            row = '[data-incident="%s"]' % r.json["id"]
            one(driver, row, timeout=3.0)
            report = row + ' [data-countdown="report"]'
            assert "amber" in classes(driver, report)
            assert 3 * 60 < seconds(text_of(driver, report)) <= 4 * 60
            ack = row + ' [data-countdown="ack"]'
            wait_until(lambda: text_of(driver, ack) == "已超时 1 分", 6, what="the ack clock overdue")
            assert "red" in classes(driver, ack)
            wait_until(lambda: "overdue" in classes(driver, row), 2, what="the row marked overdue")
            # The escalation the server recorded shows at the next poll.
            wait_until(lambda: "已升级 1 级" in text_of(driver, row), 5, what="the escalation")
            shot(driver, "board-overdue")
            errors = console_errors(driver)
            assert not errors, errors
        finally:
            driver.quit()
    finally:
        held.close()
        try:
            d.stop()            # while its receiver still answers, as the fixtures would
        finally:
            own_sink.close()
