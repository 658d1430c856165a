"""GET /metrics: Prometheus text that promtool accepts, numbers that follow
what happened, and metrics.allow."""
import http.client
import re
import shutil
import subprocess

from conftest import wait_until

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def scrape(d, source="127.0.0.1"):
    c = http.client.HTTPConnection(d.host, d.port, timeout=30,
                                   source_address=(source, 0))
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, r.getheader("Content-Type"), body


def value(text, series):
    """The value of SERIES ('name{labels}' exactly as exposed), or None."""
    m = re.search(r"^%s (\S+)$" % re.escape(series), text, re.M)
    return float(m.group(1)) if m else None


def promtool_check(text):
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode()


def test_metrics_follow_what_happened_and_pass_promtool(make_dutyd, sink):
    d = make_dutyd(ack_timeout="1s", report_deadline="1h")
    d.start()
    status, ctype, text = scrape(d)
    assert status == 200
    assert ctype == "text/plain; version=0.0.4; charset=utf-8"
    rc, out = promtool_check(text)
    assert rc == 0, out + text
    assert value(text, 'dutyd_build_info{version="0.1.0"}') == 1
    assert value(text, "dutyd_incidents_open") == 0

    iid = d.report().json["id"]
    d.report(title="迟报", occurred_at="2020-01-01T00:00:00+08:00")
    sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    sink.wait_delivered("incident.escalated", iid, {"li", "wang"})

    def scraped():
        t = scrape(d)[2]
        return t if value(t, 'dutyd_notify_latency_seconds_count') == 2 and \
            value(t, 'dutyd_escalations_total{kind="ack"}') == 2 else None
    text = wait_until(scraped, 10, what="the metrics to count both incidents")
    rc, out = promtool_check(text)
    assert rc == 0, out + text
    assert value(text, "dutyd_incidents_open") == 2
    assert value(text, "dutyd_incidents_overdue") == 2
    assert value(text, 'dutyd_reports_total{office="county-a",late="false"}') == 1
    assert value(text, 'dutyd_reports_total{office="county-a",late="true"}') == 1
    assert value(text, 'dutyd_notify_attempts_total{channel="hook",outcome="delivered"}') >= 4
    assert value(text, 'dutyd_escalations_total{kind="report"}') is None
    # One latency per incident: the first incident.new delivered, not each one.
    assert value(text, 'dutyd_notify_latency_seconds_bucket{le="+Inf"}') == 2
    assert value(text, "dutyd_notify_latency_seconds_sum") < 20
    assert value(text, "dutyd_audit_fsync_seconds_count") >= 3
    # The ack clocks fired, each a little after its deadline.
    assert value(text, "dutyd_clock_lateness_seconds_count") >= 2
    assert value(text, 'dutyd_clock_lateness_seconds_bucket{le="+Inf"}') == \
        value(text, "dutyd_clock_lateness_seconds_count")
    d.stop()


def test_metrics_allow(make_dutyd):
    d = make_dutyd(extra='metrics:\n  allow: ["127.0.0.2", "10.0.0.0/8"]\n')
    d.start()
    status, _, body = scrape(d, source="127.0.0.1")
    assert status == 403, body
    assert "127.0.0.1 may not read the metrics: add it to metrics.allow" in body
    status, _, body = scrape(d, source="127.0.0.2")
    assert status == 200 and "dutyd_incidents_open 0" in body
    # The default, loopback, after a reload without the section.
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace('metrics:\n  allow: ["127.0.0.2", "10.0.0.0/8"]\n', ""))
    d.proc.send_signal(1)
    wait_until(lambda: "configuration reloaded" in d.stderr(), 10, what="the reload")
    assert scrape(d, source="127.0.0.1")[0] == 200
    d.stop()
