#!/usr/bin/python3
"""Durable intake benchmark.

Every 201 from dutyd means the report is on disk (fdatasync).  One fdatasync
per report would cap intake at the disk's fdatasync rate; group commit shares
one fdatasync among the reports of a loop turn.  This measures, in one run on
the same disk:

  baseline  one ~600-byte write + fdatasync per record, in a loop: the cap
            dutyd would have without group commit;
  dutyd     reports/s through the real daemon under wrk (64 connections),
            each answered only after its record is durable;

and prints their ratio, the records per fdatasync, dutyd's CPU time per
report, and how late clocks that came due in the middle of the load fired
(they must fire within 1 s): 300 incidents are reported first with 4 s and
6 s deadlines, then a reload sets the policy back to 20m/40m (so the load's own
incidents do not escalate) and the load starts.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def baseline(dirpath, n=3000):
    path = os.path.join(dirpath, "baseline.log")
    line = (json.dumps({"seq": 1, "event": "report.received", "data": {"title": "x" * 400}}) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    t0 = time.perf_counter()
    for _ in range(n):
        os.write(fd, line)
        os.fdatasync(fd)
    dt = time.perf_counter() - t0
    os.close(fd)
    os.unlink(path)
    return n / dt


def get(url, token=None):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/dutyd"))
    ap.add_argument("--plugins", default=os.path.join(ROOT, "build/plugins"))
    ap.add_argument("--sink", default=os.path.join(ROOT, "build/bench/sink"))
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="dutyd-bench-", dir=os.path.join(ROOT, "build"))
    procs = []
    try:
        base = baseline(work)
        sink_port, port = free_port(), free_port()
        procs.append(subprocess.Popen([args.sink, str(sink_port)]))
        cfg = os.path.join(work, "dutyd.yaml")
        with open(os.path.join(ROOT, "etc/dutyd.yaml")) as f:
            text = f.read()
        text = (text.replace("127.0.0.1:8080", "127.0.0.1:%d" % port)
                    .replace("./var", os.path.join(work, "state"))
                    .replace("./build/plugins", args.plugins)
                    .replace("http://127.0.0.1:9000/hook", "http://127.0.0.1:%d/hook" % sink_port)
                    .replace("include: calendar-cn-2026.yaml",
                             "include: " + os.path.join(ROOT, "etc", "calendar-cn-2026.yaml"))
                    )
        with open(cfg, "w") as f:
            f.write(text.replace("ack_timeout: 20m", "ack_timeout: 4s")
                        .replace("report_deadline: 40m", "report_deadline: 6s"))
        dutyd = subprocess.Popen([args.bin, "-c", cfg], stderr=open(os.path.join(work, "stderr"), "wb"))
        procs.append(dutyd)
        url = "http://127.0.0.1:%d" % port
        deadline = time.time() + 20
        while True:
            try:
                get(url + "/healthz")
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("dutyd did not start: see %s/stderr" % work)
                time.sleep(0.05)

        # Incidents whose clocks will come due in the middle of the load.
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", port)
        for i in range(300):
            conn.request("POST", "/api/v1/reports",
                         json.dumps({"title": "时钟%d" % i, "occurred_at": "2026-11-28T14:05:00+08:00"}),
                         {"Authorization": "Bearer secret-a", "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            assert r.status == 201, r.status
        conn.close()
        with open(cfg, "w") as f:
            f.write(text)
        dutyd.send_signal(signal.SIGHUP)
        time.sleep(0.5)

        def cpu_seconds(pid):
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        cpu0 = cpu_seconds(dutyd.pid)
        h0 = get(url + "/healthz")["audit"]
        lua = os.path.join(work, "post.lua")
        with open(lua, "w") as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.body = \'{"title":"基准测试报告","occurred_at":"2026-11-28T14:05:00+08:00",'
                    '"level":"IV","location":"某县某镇","details":"%s"}\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    'wrk.headers["Authorization"] = "Bearer secret-a"\n' % ("情况说明" * 50))
        out = subprocess.run(["wrk", "-t2", "-c%d" % args.connections, "-d%ds" % args.duration,
                              "--latency", "-s", lua, url + "/api/v1/reports"],
                             capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        p99 = re.search(r"99%\s+(\S+)", out)
        h1 = get(url + "/healthz")["audit"]
        records = h1["records_written"] - h0["records_written"]
        syncs = h1["fdatasyncs"] - h0["fdatasyncs"]
        time.sleep(1)   # the last deliveries
        cpu = cpu_seconds(dutyd.pid) - cpu0
        dutyd.send_signal(signal.SIGTERM)
        dutyd.wait(timeout=60)
        fired = []
        # Every segment: a load this size closes audit.log more than once.
        state = os.path.join(work, "state")
        segments = sorted(n for n in os.listdir(state) if n.startswith("audit-"))
        for name in segments + ["audit.log"]:
            with open(os.path.join(state, name), "rb") as f:
                for line in f:
                    rec = json.loads(line)
                    if rec["event"] in ("incident.escalated", "incident.report_overdue"):
                        fired.append(rec["data"]["late_ms"])
        print("durable intake benchmark (%d connections, %d s, this machine, same disk)"
              % (args.connections, args.duration))
        print("  baseline: one write+fdatasync per record  %8.0f records/s" % base)
        print("  dutyd: durable reports (201)              %8.0f reports/s   ratio %.2f x baseline"
              % (rps, rps / base))
        print("  dutyd: durable records (%.1f per report)   %8.0f records/s   ratio %.2f x baseline"
              % (records / max(1, rps * args.duration), records / args.duration,
                 records / args.duration / base))
        print("  dutyd CPU per report (user+sys, with its 2 notifications) %6.0f us"
              % (cpu * 1e6 / max(1, rps * args.duration)))
        print("  non-2xx responses                         %8s" % (non2xx.group(1) if non2xx else 0))
        print("  p99 latency                               %8s" % (p99.group(1) if p99 else "?"))
        print("  records written / fdatasyncs              %8d / %d = %.1f records per fdatasync"
              % (records, syncs, records / max(1, syncs)))
        print("  clocks due during the load                %8d fired, latest %d ms after its deadline"
              % (len(fired), max(fired) if fired else 0))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
