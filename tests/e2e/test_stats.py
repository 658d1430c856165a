"""The figures (通报): GET /api/v1/stats over a log that spans more than
audit.retention, so that the oldest incidents are not in memory and only the
segments hold them, plus reports made live.  Every figure is checked against
what this file computes itself from the records, by the rules docs/stats.md
states; the CSV says the same; bad parameters are refused naming the field;
/healthz is answered while a big log is being read."""
import csv
import datetime
import io
import os
import re
import sys
import threading
import time

import pytest

from conftest import SANITIZED, audit_records

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import statslog  # noqa: E402  (bench/statslog.py: the generator)

CST = datetime.timezone(datetime.timedelta(hours=8))
EXTRA = """timezone: "Asia/Shanghai"
audit:
  retention: 30d
  reserve: 0
"""
DAY = 86400.0
CJK_RE = re.compile("[\u4e00-\u9fff]")


def ms(ts):
    return int(round(datetime.datetime.fromisoformat(ts).timestamp() * 1000))


def day_start_ms(date):
    """The first instant of a local date in Asia/Shanghai."""
    d = datetime.datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=CST)
    return int(d.timestamp() * 1000)


def local(t):
    return datetime.datetime.fromtimestamp(t, CST).strftime("%Y-%m-%d")


def minutes(x):
    return None if x is None else int(x / 60000.0 + 0.5)


def summary(values, second):
    """{"median", second} in whole minutes: the median (mean of the middle two
    of an even count), and the nearest-rank P90 or the maximum."""
    if not values:
        return {"median": None, second: None}
    v = sorted(values)
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0
    other = v[-(-9 * n // 10) - 1] if second == "p90" else v[-1]
    return {"median": minutes(med), second: minutes(other)}


def expected(records, date_from, date_to, now_ms, configured):
    """The figures by docs/stats.md, computed here from the records."""
    lo, hi = day_start_ms(date_from), day_start_ms(date_to) + 86400000
    cutoff = min(hi, now_ms)
    inc, order, names, dirs = {}, [], {}, {}
    levels = {}
    for r in records:
        t = ms(r["ts"])
        if not lo <= t < hi:
            continue
        ev, data, iid = r["event"], r.get("data") or {}, r.get("incident")
        if ev == "report.received":
            if iid in inc:
                continue
            names[data["office"]] = data.get("office_name")
            occ = (data.get("report") or {}).get("occurred_at")
            inc[iid] = {"office": data["office"], "received": t,
                        "occurred": ms(occ) if occ else None,
                        "deadline": ms(data["report_deadline"]) if data.get("report_deadline") else None,
                        "late": bool(data.get("late_report")), "ack": None, "sent": None,
                        "follow_ups": 0, "merged": False, "dismissed": False}
            order.append(iid)
        elif ev == "directive.created":
            dirs.setdefault(data["directive"], None)
        elif ev == "directive.completed":
            if data["directive"] in dirs and dirs[data["directive"]] is None:
                dirs[data["directive"]] = bool(data.get("on_time"))
        elif iid in inc:
            i = inc[iid]
            if ev == "incident.acknowledged" and i["ack"] is None:
                i["ack"] = t
            elif ev == "incident.escalated":
                levels[data["level"]] = levels.get(data["level"], 0) + 1
            elif ev == "incident.updated":
                inc[data["via"] if data.get("via") in inc else iid]["follow_ups"] += 1
            elif ev in ("report.submitted", "incident.report_filed") and i["sent"] is None:
                i["sent"] = t
            elif ev == "incident.merged":
                i["merged"] = True
            elif ev == "incident.dismissed":
                i["dismissed"] = True

    def blank():
        return {"reports": 0, "late": 0, "follow_ups": 0, "dismissed": 0, "minutes": []}
    per = {}
    city = blank()
    ack, sent = [], []
    w = {"on_time": 0, "late": 0, "pending": 0}
    merged = unacked = 0
    for iid in order:
        i = inc[iid]
        o = per.setdefault(i["office"], blank())
        if i["dismissed"]:
            o["dismissed"] += 1
            city["dismissed"] += 1
            continue
        for c in (o, city):
            c["reports"] += 1
            c["late"] += i["late"]
            c["follow_ups"] += i["follow_ups"]
            if i["occurred"] is not None:
                c["minutes"].append(max(i["received"] - i["occurred"], 0))
        if i["merged"]:
            merged += 1
            continue
        if i["ack"] is not None:
            ack.append(i["ack"] - i["received"])
        else:
            unacked += 1
        if i["sent"] is not None:
            sent.append(i["sent"] - i["received"])
            w["on_time" if i["deadline"] is None or i["sent"] <= i["deadline"] else "late"] += 1
        elif i["deadline"] is not None and i["deadline"] < cutoff:
            w["late"] += 1
        else:
            w["pending"] += 1

    def row(oid, name, c):
        return {"office": oid, "name": name, "reports": c["reports"], "late": c["late"],
                "report_minutes": summary(c["minutes"], "max"),
                "follow_ups": c["follow_ups"], "dismissed": c["dismissed"]}
    offices = [row(oid, name, per.get(oid, blank())) for oid, name in configured]
    offices += [row(oid, names[oid], per[oid]) for oid in sorted(per, key=lambda o: order.index(
        next(x for x in order if inc[x]["office"] == o))) if oid not in dict(configured)]
    # Every configured level (the harness configures none past the first), and any in the log.
    top = max([1] + list(levels))
    return {"from": date_from, "to": date_to, "offices": offices, "city": {
        "reports": city["reports"], "late": city["late"],
        "report_minutes": summary(city["minutes"], "max"),
        "follow_ups": city["follow_ups"], "dismissed": city["dismissed"], "merged": merged,
        "ack_minutes": summary(ack, "p90"), "unacknowledged": unacked,
        "escalations": {str(k): levels.get(k, 0) for k in range(1, top + 1)},
        "written_reports": dict(w, minutes=summary(sent, "max")),
        "directives": {"done_on_time": sum(1 for v in dirs.values() if v is True),
                       "done_late": sum(1 for v in dirs.values() if v is False),
                       "open": sum(1 for v in dirs.values() if v is None)}}}


CONFIGURED = [("county-a", "A县应急管理局"), ("county-b", "B县应急管理局")]


def stats(d, query, token="secret-zhang", timeout=30):
    return d.call("GET", "/api/v1/stats" + query, token, timeout=timeout)


@pytest.mark.slow(20)
def test_figures_over_a_log_longer_than_retention_and_live_reports(make_dutyd):
    d = make_dutyd(extra=EXTRA)
    now = time.time()
    # 100 days of history up to yesterday, its last segment a checkpoint:
    # nothing of it in memory.
    midnight = day_start_ms(local(now)) / 1000.0
    log = statslog.generate(d.state_dir, 900, now - 100 * DAY, midnight - 60, seed=17,
                            segment=2 << 20)
    segments = [n for n in os.listdir(d.state_dir) if n.startswith("audit-")]
    assert len(segments) >= 3
    d.start()
    old = audit_records(d.state_dir, "report.received")[0]
    assert ms(old["ts"]) < (now - 60 * DAY) * 1000
    assert d.call("GET", "/api/v1/incidents/" + old["incident"], "secret-zhang").status == 404

    # Live: a late report (an hour after the event), two on time; one acknowledged
    # with a follow-up and its written report filed, one dismissed as false.
    late = d.report(title="山体滑坡", occurred_at=statslog.ts(time.time() - 3600)).json["id"]
    a = d.report(title="化工厂泄漏").json["id"]
    b = d.report(token="secret-b", title="误报的火情").json["id"]
    assert d.call("POST", "/api/v1/incidents/%s/ack" % a, "secret-zhang", {}).status == 200
    assert d.call("POST", "/api/v1/incidents/%s/updates" % a, "secret-a",
                  {"measures": "已疏散"}).status == 201
    assert d.call("POST", "/api/v1/incidents/%s/written-report" % a, "secret-li",
                  {"reference": "某应急〔2026〕1号"}).status == 200
    assert d.call("POST", "/api/v1/incidents/%s/dismiss" % b, "secret-li",
                  {"reason": "经核实为误报"}).status == 200
    records = audit_records(d.state_dir)

    today = local(time.time())
    first = local(now - 100 * DAY)
    month_ago = local(now - 60 * DAY)
    for date_from, date_to in ((first, today), (first, month_ago), (today, today)):
        r = stats(d, "?from=%s&to=%s" % (date_from, date_to))
        assert r.status == 200, r
        want = expected(records, date_from, date_to, int(time.time() * 1000), CONFIGURED)
        assert r.json == want, (date_from, date_to, r.json, want)

    # The whole history is there: the generator's count of reports, every office listed.
    r = stats(d, "?from=%s&to=%s" % (first, today))
    gen = sum(1 for x in records if x["event"] == "report.received")
    got = r.json["city"]["reports"] + r.json["city"]["dismissed"]
    assert got == gen and gen == 900 + 3, (got, gen, log.seq)
    assert [o["office"] for o in r.json["offices"]][:2] == ["county-a", "county-b"]
    assert {o["office"] for o in r.json["offices"]} == {"county-a", "county-b", "county-c", "county-d"}
    assert r.json["city"]["directives"]["done_on_time"] > 0

    # Today only: the three live reports, as the test made them.
    r = stats(d, "?from=%s&to=%s" % (today, today)).json
    a_row = next(o for o in r["offices"] if o["office"] == "county-a")
    assert (a_row["reports"], a_row["late"], a_row["follow_ups"]) == (2, 1, 1)
    assert a_row["report_minutes"]["max"] == 60
    b_row = next(o for o in r["offices"] if o["office"] == "county-b")
    assert (b_row["reports"], b_row["dismissed"]) == (0, 1)
    assert r["city"]["written_reports"]["on_time"] == 1
    assert r["city"]["written_reports"]["pending"] == 1      # the late report's, not yet due

    # CSV: a BOM, one row per office, then the city's, the same numbers.
    r = stats(d, "?from=%s&to=%s&format=csv" % (first, today))
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv"), r
    assert r.text.startswith("\ufeff".encode())
    assert "attachment" in r.headers.get("Content-Disposition", "")
    rows = list(csv.reader(io.StringIO(r.text.decode("utf-8-sig"), newline="")))
    assert rows[0][:4] == ["单位编号", "单位名称", "报告数", "迟报数"]
    js = stats(d, "?from=%s&to=%s" % (first, today)).json
    assert [x[0] for x in rows[1:]] == [o["office"] for o in js["offices"]] + ["city"]
    for x, o in zip(rows[1:], js["offices"]):
        assert x[2:4] == [str(o["reports"]), str(o["late"])]
    assert rows[-1][2] == str(js["city"]["reports"])
    assert rows[-1][-3:] == [str(js["city"]["directives"][k])
                             for k in ("done_on_time", "done_late", "open")]
    d.stop()


def assert_error(r, status, field):
    assert r.status == status, r
    assert r.json["field"] == field, r.json
    assert CJK_RE.search(r.json["error_zh"]), r.json


def test_bad_parameters_name_the_field(make_dutyd):
    d = make_dutyd(extra=EXTRA)
    d.start()
    assert_error(stats(d, "?from=2026-13-01&to=2026-12-01"), 400, "from")
    assert_error(stats(d, "?from=2026-02-30"), 400, "from")
    assert_error(stats(d, "?from=2026-01-01&to=tomorrow"), 400, "to")
    assert_error(stats(d, "?from=2026-12-02&to=2026-12-01"), 400, "from")
    assert_error(stats(d, "?from=2025-01-01&to=2026-02-05"), 400, "to")
    assert_error(stats(d, "?from=2026-01-01&to=2026-01-31&office=county-a"), 400, "office")
    assert_error(stats(d, "?from=2026-01-01&to=2026-01-31&format=xlsx"), 400, "format")
    # 400 days is the most; without dates: this month up to today.
    assert stats(d, "?from=2025-01-01&to=2026-02-04").status == 200
    r = stats(d, "")
    today = local(time.time())
    assert r.status == 200 and r.json["to"] == today and r.json["from"] == today[:8] + "01", r
    assert [o["office"] for o in r.json["offices"]] == ["county-a", "county-b"]
    assert r.json["offices"][0]["report_minutes"] == {"median": None, "max": None}
    # Staff only.
    assert stats(d, "?from=2026-01-01&to=2026-01-31", token="secret-a").status == 401
    assert d.call("GET", "/api/v1/stats").status == 401
    d.stop()


@pytest.mark.slow(30)
def test_healthz_answered_while_a_big_log_is_read(make_dutyd):
    d = make_dutyd(extra=EXTRA)
    now = time.time()
    # The scans run at nice 10 (scanjob.c), so on a machine loaded by other
    # work they get little CPU: under ASan in make check (8 workers on 2
    # cores) two scans of 2,000 outlasted a 30 s client.  This test is about
    # /healthz during a scan, not the scan's speed: the scan only has to
    # outlast the probes, so the askers wait as long as a hang's bound.
    statslog.generate(d.state_dir, 1000 if SANITIZED else 5000, now - 300 * DAY, now - 3600,
                      seed=3)
    d.start()
    q = "?from=%s&to=%s" % (local(now - 300 * DAY), local(now))
    results = []

    def ask():
        results.append(stats(d, q, timeout=180))
    for _ in range(3):
        results.clear()
        askers = [threading.Thread(target=ask) for _ in range(2)]
        for t in askers:
            t.start()
        during = []
        while any(t.is_alive() for t in askers):
            t0 = time.monotonic()
            assert d.call("GET", "/healthz").status == 200
            took = time.monotonic() - t0
            if any(t.is_alive() for t in askers):
                during.append(took)
            # Pacing, not a wait for anything: 50 probes a second find a
            # loop held up for a second as surely as back-to-back probes,
            # which took a core from the scans they were waiting out.
            time.sleep(0.02)
        for t in askers:
            t.join()
        assert [r.status for r in results] == [200, 200], results
        assert results[0].json == results[1].json
        if during:
            break
    # The loop answered while both scans ran, each time at once.
    assert during, "the scans ended before /healthz was asked"
    assert max(during) < 1.0, during
    d.stop()
