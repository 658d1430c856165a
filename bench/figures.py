#!/usr/bin/python3
"""Every figure of issue 16's table in one run, each beside its target and
its baseline: `make bench` (all of them, under 10 minutes on the 2-core
development machine), `make bench BENCH=replay,rss` (some), or

    bench/figures.py --bin build/dutyd --plugins build/plugins --tools build/bench \
        [--only callgrind,syscalls] [--json out.json] [--before bench/results-84c26d6.json] \
        [--results bench/results.md]

The pieces (--only takes their names):

  throughput  wrk -t2 -c32 5 s, ~1 KiB bodies with distinct ids, against dutyd
              (durable 201s, two webhooks each) and, in the same run,
              Alertmanager (Debian's prometheus-alertmanager, no cluster,
              webhooks to the same sink) grouping by id (a webhook per
              alert) and by alertname (batched).
  callgrind   instructions per report under callgrind, counters zeroed after
              200 warm-up reports and dumped when N more are done
              (callgrind_control): intake + audit (everyone's min_level I,
              reports of level IV: the intent lists nobody), and full (two
              webhook deliveries each, done).
  syscalls    strace -f -c attached over N reports (32 connections, two
              deliveries each, done), divided by N.
  rss         VmRSS after start with no incident (idle), then after 100,000
              reports through HTTP with their 200,000 deliveries done:
              (RSS - idle) / 100,000 per open incident.
  replay      a generated log of 1 M records (the shapes this build writes:
              incidents reported, told, acknowledged, filed, resolved, 200
              open) replayed from the start: exec to READY=1.
  latency     reports at a fixed 1,000/s (open loop, bench/loadgen.c) for
              10 s: report sent -> first webhook at the sink, p50/p99/max.
  clocks      100,000 open incidents (generated log) whose acknowledgement
              deadlines fall in the same 3 s: how late each fired (late_ms of
              incident.escalated) while reports are posted every 20 ms.

Figures that depend on the machine's load (throughput, latency) are noisy on
a shared machine; instruction and syscall counts are not.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
import loggen  # noqa: E402
from benchlib import pct  # noqa: E402

PIECES = ("throughput", "callgrind", "syscalls", "rss", "replay", "latency", "clocks")

# key, what, target text, comparison, target value, unit format
TABLE = [
    ("instr_intake", "instructions per report, intake + audit only", "≤ 150 k", "le", 150e3,
     lambda v: "%.0f k" % (v / 1e3)),
    ("instr_full", "instructions per report, two webhook deliveries done", "≤ 350 k", "le", 350e3,
     lambda v: "%.0f k" % (v / 1e3)),
    ("instr_intake_small", "… the same, a report with 12 bytes of details (issue: 628 k)",
     "≤ 150 k", "le", 150e3, lambda v: "%.0f k" % (v / 1e3)),
    ("instr_full_small", "… the same, a report with 12 bytes of details (issue: 1,581 k)",
     "≤ 350 k", "le", 350e3, lambda v: "%.0f k" % (v / 1e3)),
    ("ratio_am_each", "durable intake ÷ Alertmanager notifying each alert", "≥ 2×", "ge", 2.0,
     lambda v: "%.2f×" % v),
    ("ratio_am_byname", "durable intake ÷ Alertmanager batching by name", "≥ 0.7×", "ge", 0.7,
     lambda v: "%.2f×" % v),
    ("syscalls", "syscalls per report", "≤ 8", "le", 8, lambda v: "%.1f" % v),
    ("rss_per_incident", "RSS per open incident (deliveries done)", "≤ 3 KB", "le", 3000,
     lambda v: "%.1f KB" % (v / 1e3)),
    ("rss_idle", "idle RSS", "≤ 8 MiB", "le", 8 * 2**20, lambda v: "%.1f MiB" % (v / 2**20)),
    ("replay_rate", "replay from the start", "≥ 1 M records/s", "ge", 1e6,
     lambda v: "%.1f k records/s" % (v / 1e3)),
    ("webhook_p99_ms", "report → first webhook at 1,000 reports/s, p99", "< 5 ms", "lt", 5,
     lambda v: "%.1f ms" % v),
    ("clock_p99_ms", "clock lateness, 100,000 deadlines in the same seconds, p99", "< 20 ms",
     "lt", 20, lambda v: "%.0f ms" % v),
    ("clock_intake_ok", "… intake still answered (a report every 20 ms: each 201 within 1 s)",
     "yes", "true",
     True, lambda v: "yes" if v else "no"),
]


def say(*a):
    print(*a, flush=True)


def wrk_lua(path, alertmanager):
    """A wrk script: POST bodies of ~1 KiB, each with an id of its own."""
    pad = "情况说明" * (benchlib.BODY_BYTES // 12)     # as bench/loadgen.c
    if alertmanager:
        fmt = ('[{"labels":{"alertname":"Flood","id":"w%%d-%%d","severity":"IV"},'
               '"annotations":{"summary":"基准测试报告","description":"%s"}}]' % pad)
        headers = 'wrk.headers["Content-Type"] = "application/json"\n'
    else:
        fmt = ('{"title":"基准测试报告 w%%d-%%d","occurred_at":"%s","level":"IV",'
               '"location":"某县某镇","details":"%s"}'
               % (datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
                  .strftime("%Y-%m-%dT%H:%M:%SZ"), pad))
        headers = ('wrk.headers["Content-Type"] = "application/json"\n'
                   'wrk.headers["Authorization"] = "Bearer secret-a"\n')
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n' + headers +
                'threads = 0\n'
                'setup = function(thread) thread:set("tid", threads); threads = threads + 1 end\n'
                'n = 0\n'
                'request = function()\n  n = n + 1\n'
                '  return wrk.format(nil, nil, nil, string.format([==[%s]==], tid, n))\nend\n' % fmt)


class Bench:
    def __init__(self, args, work):
        self.a = args
        self.work = work
        self.fig = {}      # key -> value (the table)
        self.info = {}     # key -> text (beside the table)

    def dutyd(self, name, edit=None, extra="", wrap=(), sink_log=False, state=None):
        d = os.path.join(self.work, name)
        os.makedirs(d, exist_ok=True)
        sink = benchlib.Sink(self.a.tools, d, log=sink_log)
        port = benchlib.free_port()
        state = state or os.path.join(d, "state")
        os.makedirs(state, mode=0o700, exist_ok=True)
        cfg = os.path.join(d, "dutyd.yaml")
        benchlib.dutyd_config(cfg, port, state, self.a.plugins, sink.port, extra, edit)
        return sink, benchlib.Dutyd(self.a.bin, cfg, port, d, wrap), d

    # -- throughput --------------------------------------------------------
    def throughput(self):
        lua_d = os.path.join(self.work, "dutyd.lua")
        lua_am = os.path.join(self.work, "am.lua")
        wrk_lua(lua_d, False)
        wrk_lua(lua_am, True)
        secs = self.a.wrk_seconds
        sink, d, _ = self.dutyd("throughput")
        try:
            d.start()
            rps, out, errs = benchlib.wrk("http://127.0.0.1:%d/api/v1/reports" % d.port,
                                          lua_d, secs)
        finally:
            d.stop()
            sink.close()
        am = {}
        for group in ("id", "alertname"):
            sink = benchlib.Sink(self.a.tools, self.work)
            m = benchlib.Alertmanager(self.work, sink.port, group)
            try:
                am[group], _, _ = benchlib.wrk("http://127.0.0.1:%d/api/v2/alerts" % m.port,
                                               lua_am, secs)
                self.info["am_webhooks_" + group] = sink.count()
            finally:
                m.close()
                sink.close()
        self.fig["ratio_am_each"] = rps / am["id"]
        self.fig["ratio_am_byname"] = rps / am["alertname"]
        self.info["throughput"] = ("dutyd %.0f durable reports/s (socket errors %d); Alertmanager "
                                   "%.0f alerts/s by id (%d webhooks), %.0f alerts/s by name "
                                   "(%d webhooks); wrk -t2 -c32 %d s"
                                   % (rps, errs, am["id"], self.info["am_webhooks_id"],
                                      am["alertname"], self.info["am_webhooks_alertname"], secs))
        self.fig["dutyd_rps"] = rps
        self.fig["am_each_rps"] = am["id"]
        self.fig["am_byname_rps"] = am["alertname"]
        say("throughput: " + self.info["throughput"])

    # -- callgrind ---------------------------------------------------------
    def callgrind(self):
        n, warm = self.a.cg_reports, 200
        def quiet(t):
            q = (t.replace('token: "secret-zhang"        # bearer token for staff actions',
                           'token: "secret-zhang"\n    min_level: I')
                 .replace('token: "secret-li",', 'token: "secret-li", min_level: I,'))
            if q.count("min_level: I") != 2:
                raise SystemExit("bench: etc/dutyd.yaml changed: cannot set min_level")
            return q
        for key, edit, per in (("instr_intake", quiet, 0), ("instr_full", None, 2)):
            name = "callgrind-" + key
            out = os.path.join(self.work, name, "callgrind.out")
            sink, d, wd = self.dutyd(name, edit=edit, wrap=[
                "valgrind", "--tool=callgrind", "--callgrind-out-file=" + out])
            # Two batches in one process: ≈1 KiB reports (the table's), then
            # reports with 12 bytes of details (what the 628 k and
            # 1,581 k were measured with).
            batches = ((key, self.a.body_bytes, n), (key + "_small", 12, self.a.cg_small_reports))
            try:
                d.start(timeout=300)
                benchlib.loadgen(self.a.tools, d.port, warm, conns=self.a.cg_conns)
                sink.wait(warm * per, 300)
                d.wait_quiet(0.5, 300)
                done, tag = warm, warm
                for k, body, count in batches:
                    if count <= 0:
                        continue
                    self._cg("-z", d.pid)
                    benchlib.loadgen(self.a.tools, d.port, count, conns=self.a.cg_conns,
                                     first_tag=tag, body_bytes=body)
                    done += count
                    tag += count
                    sink.wait(done * per, 600)
                    d.wait_quiet(0.5, 300)
                    self._cg("-d", d.pid)
                    if sink.count() != done * per:
                        raise SystemExit("bench: %d webhooks, not %d" % (sink.count(), done * per))
                    dumps = sorted((f for f in os.listdir(wd) if f.startswith("callgrind.out.")),
                                   key=lambda f: int(f.rsplit(".", 1)[1]))
                    with open(os.path.join(wd, dumps[-1])) as fh:
                        total = next(int(line.split()[1]) for line in fh
                                     if line.startswith("summary:"))
                    self.fig[k] = total / count
                    self.info[k] = ("%d reports with %d bytes of details (%d connection(s)) "
                                    "after %d, %d deliveries each"
                                    % (count, body, self.a.cg_conns, done - count, per))
                    say("callgrind: %s %.0f instructions per report: %s"
                        % (k, self.fig[k], self.info[k]))
                    if self.a.keep_callgrind:
                        os.makedirs(self.a.keep_callgrind, exist_ok=True)
                        shutil.copy(os.path.join(wd, dumps[-1]),
                                    os.path.join(self.a.keep_callgrind, k + ".callgrind.out"))
            finally:
                d.stop(timeout=120)
                sink.close()

    @staticmethod
    def _cg(flag, pid):
        r = subprocess.run(["callgrind_control", flag, str(pid)], capture_output=True, text=True)
        if r.returncode != 0 or "OK" not in r.stdout:
            raise SystemExit("bench: callgrind_control %s failed: %s %s" % (flag, r.stdout, r.stderr))

    # -- syscalls ----------------------------------------------------------
    def syscalls(self):
        n, warm = self.a.strace_reports, 200
        sink, d, wd = self.dutyd("syscalls")
        out = os.path.join(wd, "strace.out")
        try:
            d.start()
            benchlib.loadgen(self.a.tools, d.port, warm, conns=32)
            sink.wait(warm * 2, 120)
            d.wait_quiet(0.5)
            def load():
                benchlib.loadgen(self.a.tools, d.port, n, conns=32, first_tag=warm)
                sink.wait((warm + n) * 2, 300)
                d.wait_quiet(0.5)
            benchlib.strace_over(d.pid, ["-c"], out, load)
        finally:
            d.stop()
            sink.close()
        rows = []
        with open(out) as f:
            for line in f:
                p = line.split()
                if len(p) >= 5 and p[0][0].isdigit() and p[-1] != "total":
                    rows.append((int(p[3]), p[-1]))
                elif p and p[-1] == "total":
                    total = int(p[3])
        rows.sort(reverse=True)
        self.fig["syscalls"] = total / n
        self.info["syscalls"] = ", ".join("%s %.1f" % (name, c / n) for c, name in rows[:8])
        say("syscalls: %.1f per report (%d reports, 32 connections): %s"
            % (total / n, n, self.info["syscalls"]))

    # -- rss ---------------------------------------------------------------
    def rss(self):
        n = self.a.rss_incidents
        sink, d, wd = self.dutyd("rss")
        try:
            d.start()
            d.wait_quiet(1.0)
            idle = benchlib.vmrss_bytes(d.pid)
            idle_split = benchlib.rss_split(d.pid)
            t0 = time.monotonic()
            benchlib.loadgen(self.a.tools, d.port, n, conns=32)
            sink.wait(2 * n, 600)
            d.wait_quiet(1.0, 300)
            full = benchlib.vmrss_bytes(d.pid)
            feed = time.monotonic() - t0
            assert d.healthz()["open_incidents"] == n
            self.info["rss"] = ("idle %.1f MiB; %d open incidents fed through HTTP in %.0f s "
                                "(%d deliveries done): %.1f MiB"
                                % (idle / 2**20, n, feed, 2 * n, full / 2**20))
            # What idle RSS is made of, and its floor: an empty program linked
            # with dutyd's libraries (bench/libfloor.c) costs this much before
            # dutyd runs a line.
            floor = os.path.join(self.a.tools, "libfloor")
            if os.path.exists(floor):
                out = subprocess.run([floor], capture_output=True, text=True, check=True).stdout
                fl = {l.split(":")[0]: int(l.split()[1]) * 1024 for l in out.splitlines()}
                self.info["rss"] += ("; idle is %.1f MiB private (RssAnon) + %.1f MiB of mapped "
                                     "library and program pages (RssFile); an empty program linked "
                                     "with the same libraries (bench/libfloor): %.1f MiB "
                                     "(%.1f + %.1f)"
                                     % (idle_split[0] / 2**20, idle_split[1] / 2**20,
                                        fl["VmRSS"] / 2**20, fl["RssAnon"] / 2**20,
                                        fl["RssFile"] / 2**20))
            if self.a.rss_restart:
                # The same state after a restart: what replay builds.
                d.stop()
                again = d.start(timeout=600)
                d.wait_quiet(1.0, 300)
                replayed = benchlib.vmrss_bytes(d.pid)
                self.info["rss"] += ("; after a restart (replay, %.1f s to READY): %.1f MiB, "
                                     "%.1f KB per incident" % (again, replayed / 2**20,
                                                               (replayed - idle) / n / 1e3))
        finally:
            d.stop()
            sink.close()
        self.fig["rss_idle"] = idle
        self.fig["rss_per_incident"] = (full - idle) / n
        say("rss: " + self.info["rss"])

    # -- replay ------------------------------------------------------------
    def templates(self):
        if not hasattr(self, "_tpl"):
            self._tpl = loggen.capture(self.a.bin, self.a.plugins, self.a.tools, self.work)
        return self._tpl

    def replay(self):
        closed, opened = self.templates()
        d = os.path.join(self.work, "replay")
        state = os.path.join(d, "state")
        os.makedirs(state, mode=0o700)
        t0 = time.monotonic()
        log = loggen.RawLog(state)
        nopen = 200
        i = 0
        while log.seq + len(opened) * nopen < self.a.replay_records:
            i += 1
            closed.emit(log, i)
        for _ in range(nopen):
            i += 1
            opened.emit(log, i)
        log.close()
        records = log.seq
        size = os.path.getsize(os.path.join(state, "audit.log"))
        gen = time.monotonic() - t0
        sink, dd, _ = self.dutyd("replay", state=state,
                                 extra="audit:\n  segment_size: 4GiB\n  reserve: 0\n")
        runs = []
        try:
            # Best of --replay-runs: the load of a shared machine only slows.
            for _ in range(self.a.replay_runs):
                runs.append(dd.start(timeout=600))
                assert dd.healthz()["open_incidents"] == nopen
                dd.stop()
        finally:
            dd.stop()
            sink.close()
        secs = min(runs)
        shutil.rmtree(d, ignore_errors=True)
        self.fig["replay_rate"] = records / secs
        self.info["replay"] = ("%d records (%d incidents, %d open, %d records each closed), "
                               "%.0f MiB, generated in %.1f s; exec to READY=1 %s s"
                               % (records, i, nopen, len(closed), size / 2**20, gen,
                                  ", ".join("%.2f" % r for r in runs)))
        say("replay: %.0f records/s: %s" % (records / secs, self.info["replay"]))

    # -- latency -----------------------------------------------------------
    def latency(self):
        rate, secs, warm = 1000, self.a.latency_seconds, 200
        n = rate * secs
        sink, d, wd = self.dutyd("latency", sink_log=True)
        out = os.path.join(wd, "loadgen.out")
        try:
            d.start()
            benchlib.loadgen(self.a.tools, d.port, warm, conns=16, first_tag=10**6)
            sink.wait(2 * warm, 60)
            d.wait_quiet(0.5)
            s = benchlib.loadgen(self.a.tools, d.port, n, conns=64, rate=rate, out=out)
            sink.wait(2 * (warm + n), 300)
            first = sink.arrivals()
        finally:
            d.stop()
            sink.close()
        lat, ans = [], []
        with open(out) as f:
            for line in f:
                tag, sched, sent, done, status = map(int, line.split())
                lat.append((first[tag] - sent) / 1e6)
                ans.append((done - sent) / 1e6)
        self.fig["webhook_p99_ms"] = pct(lat, 0.99)
        self.info["latency"] = ("%d reports at %d/s (achieved %.0f/s, %d sends waited for a "
                                "connection, worst %.1f ms behind schedule): first webhook p50 "
                                "%.2f ms, p99 %.2f ms, max %.1f ms; the 201 p50 %.2f ms, p99 "
                                "%.2f ms" % (n, rate, s["rate"], s["backlog"], s["max_lag_ms"],
                                             statistics.median(lat), pct(lat, 0.99), max(lat),
                                             statistics.median(ans), pct(ans, 0.99)))
        say("latency: " + self.info["latency"])

    # -- clocks ------------------------------------------------------------
    def clocks(self):
        n, window = self.a.clock_incidents, self.a.clock_window
        _, opened = self.templates()
        d = os.path.join(self.work, "clocks")
        state = os.path.join(d, "state")
        os.makedirs(state, mode=0o700)
        # Deadlines after dutyd is up: generating and replaying this log
        # takes an estimated (records / rate) each; the replay figure of
        # this run if there is one.
        rate = self.fig.get("replay_rate", 30000)
        lead = 8 + 1.5 * n * len(opened) / rate + n * len(opened) / 150000
        if self.a.clock_lead:
            lead = self.a.clock_lead
        t_first = int((time.time() + lead) * 1000)
        log = loggen.RawLog(state)
        for i in range(n):
            ack = t_first + i * window * 1000 // n
            opened.emit(log, i + 1, {"ACK": loggen.rfc3339_ms(ack),
                                     "RECV": loggen.rfc3339_ms(ack - 20 * 60000),
                                     "REPD": loggen.rfc3339_ms(ack + 3600000)})
        log.close()
        cg = self.a.clock_callgrind
        wrap = ()
        if cg:
            # Instructions, not lateness: callgrind runs dutyd ~50x slower.
            os.makedirs(cg, exist_ok=True)
            wrap = ["valgrind", "--tool=callgrind",
                    "--callgrind-out-file=" + os.path.join(cg, "clocks.callgrind.out")]
        sink, dd, _ = self.dutyd("clocks", state=state, wrap=wrap)
        posts = []
        try:
            dd.start(timeout=600)
            margin = t_first / 1000 - time.time()
            stop = threading.Event()

            def poster():
                c = http.client.HTTPConnection("127.0.0.1", dd.port, timeout=120)
                k = 0
                while not stop.is_set():
                    k += 1
                    body = json.dumps({"title": "时钟期间报告 %d" % k, "occurred_at":
                                       loggen.rfc3339_ms(int(time.time() * 1000) - 60000)})
                    t0 = time.monotonic()
                    try:
                        c.request("POST", "/api/v1/reports", body, {
                            "Authorization": "Bearer secret-a",
                            "Content-Type": "application/json"})
                        r = c.getresponse()
                        r.read()
                        status = r.status
                    except OSError:
                        c.close()
                        status = 0
                    posts.append(((time.monotonic() - t0) * 1000, status))
                    time.sleep(0.02)
            # From a second before the first deadline to the last firing.
            benchlib.wait_until(lambda: time.time() * 1000 >= t_first - 1000, lead + 60,
                                "the deadlines")
            th = threading.Thread(target=poster)
            if cg:
                self._cg("-z", dd.pid)
            else:
                th.start()
            try:
                benchlib.wait_until(
                    lambda: dd.metric("dutyd_escalations_total", 'kind="ack"', 120) >= n,
                    600, "%d escalations" % n, 0.25)
                if cg:
                    # The firings (and what they did in the same turns), then
                    # the notifications queued behind them.
                    self._cg("-d", dd.pid)
                    dd.wait_quiet(1.0, 900)
                    self._cg("-d", dd.pid)
                    say("clocks: callgrind dumps in %s (.1: until %d escalations were "
                        "recorded; .2: the notifications after them)" % (cg, n))
            finally:
                stop.set()
                if th.is_alive():
                    th.join()
        finally:
            # The escalations are in the log; their deliveries need not end.
            dd.stop(timeout=300)
            sink.close()
        late = []
        for name in sorted(os.listdir(state)):
            if name.startswith("audit"):
                with open(os.path.join(state, name), "rb") as f:
                    for line in f:
                        if b'"event":"incident.escalated"' in line:
                            r = json.loads(line)
                            if r["event"] == "incident.escalated":
                                late.append(r["data"]["late_ms"])
        shutil.rmtree(d, ignore_errors=True)
        lat = [p[0] for p in posts]
        # "Still answered": each report its 201, none kept waiting a second.
        ok = bool(posts) and all(p[1] == 201 and p[0] < 1000 for p in posts)
        self.fig["clock_p99_ms"] = pct(late, 0.99)
        self.fig["clock_intake_ok"] = ok
        self.info["clocks"] = ("%d acknowledgement deadlines in %d s (READY %.1f s before the "
                               "first): fired %d, late p50 %d ms, p99 %d ms, max %d ms; %d reports "
                               "posted meanwhile, %s: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
                               % (n, window, margin, len(late), pct(late, 0.5), pct(late, 0.99),
                                  max(late) if late else -1, len(posts),
                                  "all 201 within 1 s" if ok else "NOT all 201 within 1 s",
                                  pct(lat, 0.5),
                                  pct(lat, 0.99), max(lat) if lat else -1))
        self.fig["clock_intake_max_ms"] = max(lat) if lat else -1
        say("clocks: " + self.info["clocks"])


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 2**20
    return "%d cores (nproc), %s, %.1f GiB RAM, Linux %s" % (
        os.cpu_count(), cpu, mem, platform.release())


def passed(row, v):
    key, _, _, op, target, _ = row
    if v is None:
        return ""
    return "pass" if {"le": v <= target, "ge": v >= target, "lt": v < target,
                      "true": bool(v)}[op] else "FAIL"


def table(result, before):
    lines = ["| figure | target | before (%s) | measured (%s) | |" %
             (before["commit"] if before else "—", result["commit"]), "|---|---|---|---|---|"]
    for row in TABLE:
        key, what, ttext, _, _, fmt = row
        v = result["figures"].get(key)
        b = before["figures"].get(key) if before else None
        lines.append("| %s | %s | %s | %s | %s |" % (
            what, ttext, fmt(b) if b is not None else "—",
            fmt(v) if v is not None else "not measured", passed(row, v)))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/dutyd"))
    ap.add_argument("--plugins", default=os.path.join(ROOT, "build/plugins"))
    ap.add_argument("--tools", default=os.path.join(ROOT, "build/bench"),
                    help="where sink and loadgen are")
    ap.add_argument("--only", default="", help="comma-separated: " + ",".join(PIECES))
    ap.add_argument("--commit", default=None, help="what the build is (default: git HEAD)")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--before", help="figures of the baseline (a --json of an earlier run)")
    ap.add_argument("--results", help="write the markdown note here (bench/results.md)")
    ap.add_argument("--keep-callgrind", help="copy the callgrind dumps here")
    ap.add_argument("--wrk-seconds", type=int, default=5)
    ap.add_argument("--cg-reports", type=int, default=1000)
    ap.add_argument("--cg-small-reports", type=int, default=300,
                    help="then this many with 12 bytes of details (0: none)")
    ap.add_argument("--cg-conns", type=int, default=1,
                    help="connections for the callgrind reports: with more, the count "
                    "depends on how reports and deliveries happen to share loop turns")
    ap.add_argument("--body-bytes", type=int, default=864,
                    help="bytes of details in loadgen's reports")
    ap.add_argument("--strace-reports", type=int, default=2000)
    ap.add_argument("--rss-incidents", type=int, default=100000)
    ap.add_argument("--rss-restart", action="store_true",
                    help="also the RSS after a restart on that state (what replay builds)")
    ap.add_argument("--replay-records", type=int, default=1000000)
    ap.add_argument("--replay-runs", type=int, default=2)
    ap.add_argument("--latency-seconds", type=int, default=10)
    ap.add_argument("--clock-incidents", type=int, default=100000)
    ap.add_argument("--clock-window", type=int, default=3)
    ap.add_argument("--clock-lead", type=float, default=0,
                    help="clocks: seconds from generating the log to the first deadline "
                         "(default: estimated from the replay rate; a loaded machine "
                         "replays slower: READY must come before the first)")
    ap.add_argument("--clock-callgrind", metavar="DIR",
                    help="clocks: run dutyd under callgrind, dump into DIR "
                         "(instructions per firing; lateness is meaningless then)")
    a = ap.parse_args()
    benchlib.BODY_BYTES = a.body_bytes
    only = [p for p in a.only.replace(" ", "").split(",") if p] or list(PIECES)
    bad = [p for p in only if p not in PIECES]
    if bad:
        ap.error("unknown piece %s (pieces: %s)" % (",".join(bad), ",".join(PIECES)))
    if "libasan" in subprocess.run(["ldd", a.bin], capture_output=True, text=True).stdout:
        ap.error("%s is a sanitizer build: measure an -O2 build" % a.bin)
    if a.commit is None:
        a.commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                  capture_output=True, text=True).stdout.strip() or "?"
    work = tempfile.mkdtemp(prefix="dutyd-figures-", dir=os.path.join(ROOT, "build"))
    b = Bench(a, work)
    t0 = time.monotonic()
    try:
        for p in PIECES:        # this order: clocks uses replay's rate
            if p in only:
                t = time.monotonic()
                # Wall-clock figures follow the machine's load: keep it beside them.
                b.info["load_" + p] = round(os.getloadavg()[0], 1)
                try:
                    getattr(b, p)()
                except (Exception, SystemExit) as e:    # the other pieces still count
                    b.info[p] = "FAILED: %s: %s" % (type(e).__name__, e)
                    say("%s: %s" % (p, b.info[p]))
                b.info["seconds_" + p] = round(time.monotonic() - t, 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"commit": a.commit, "date": datetime.datetime.now(datetime.timezone.utc)
              .strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(), "bin": a.bin,
              "figures": b.fig, "info": b.info, "seconds": round(time.monotonic() - t0, 1)}
    before = None
    if a.before and os.path.exists(a.before):
        with open(a.before) as f:
            before = json.load(f)
    say("")
    say(table(result, before))
    say("\n%.0f s in all" % result["seconds"])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, ensure_ascii=False, indent=1)
    if a.results:
        with open(a.results, "w") as f:
            f.write(note(result, before))


def note(result, before):
    out = ["# Issue 16 figures (`make bench`)", "",
           "Measured %s on %s, build %s, in %.0f s." % (result["date"], result["machine"],
                                                       result["commit"], result["seconds"]), ""]
    if before:
        out += ["Before: %s, measured %s on %s." % (before["commit"], before["date"],
                                                    before["machine"]), ""]
    out += [table(result, before), "", "## Details", ""]
    for label, r in (("before", before), ("measured", result)):
        if r:
            out.append("%s (%s):" % (label, r["commit"]))
            out.append("")
            for k, v in r["info"].items():
                if not k.startswith(("seconds_", "am_webhooks_", "load_")):
                    out.append("- %s: %s" % (k, v))
            out.append("- seconds per piece: " + ", ".join(
                "%s %s" % (k[8:], v) for k, v in r["info"].items() if k.startswith("seconds_")))
            loads = ["%s %s" % (k[5:], v) for k, v in r["info"].items() if k.startswith("load_")]
            if loads:
                out.append("- load average (1 min) as each piece began: " + ", ".join(loads))
            out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
