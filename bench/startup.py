#!/usr/bin/python3
"""Start-up time as the log grows: replay from a checkpoint vs from the start.

Writes the same synthetic history twice (N incidents reported and resolved
long ago, plus OPEN incidents still open), once as one big audit.log and once
cut into segments whose last one begins with a checkpoint of the open
incidents, then times dutyd from exec to READY=1 on each (best of 3), in one
run on the same disk.  Replay work should scale with the last segment only;
what remains is verifying the chain, which hashes every byte.
"""
import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TS = "2025-01-01T08:00:00.000+08:00"


class Log:
    def __init__(self, dirpath):
        self.dir = dirpath
        self.seq = 0
        self.prev = "0" * 64
        self.f = open(os.path.join(dirpath, "audit.log"), "wb")
        self.first = 1

    def add(self, event, data, incident=None, actor="dutyd"):
        self.seq += 1
        rec = {"seq": self.seq, "ts": TS, "event": event}
        if incident:
            rec["incident"] = incident
        rec.update({"actor": actor, "data": data, "prev": self.prev})
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()
        self.prev = hashlib.sha256(line).hexdigest()
        self.f.write(line + b"\n")

    def rotate(self):
        self.f.close()
        name = "audit-%012d-%012d.log" % (self.first, self.seq)
        os.rename(os.path.join(self.dir, "audit.log"), os.path.join(self.dir, name))
        self.f = open(os.path.join(self.dir, "audit.log"), "wb")
        self.first = self.seq + 1

    def close(self):
        self.f.close()


def origin(i):
    return {"office": "county-a", "office_name": "A县应急管理局",
            "report": {"title": "历史事件%d" % i, "occurred_at": TS, "details": "情况说明" * 40},
            "received_at": TS, "ack_deadline": "2025-01-01T08:20:00.000+08:00",
            "report_deadline": "2025-01-01T08:40:00.000+08:00", "late_report": False,
            "idempotency_key": "k-%d" % i, "body_sha256": "0" * 64}


def history(log, n, nopen, segment_every):
    """n incidents: each reported, notified, acknowledged, filed, resolved."""
    for i in range(n):
        iid = "INC-20250101-%06d" % i
        log.add("report.received", origin(i), iid, "office:county-a")
        log.add("notify.intent", {"event": "incident.new", "late_ms": 0, "recipients": [
            {"person": "zhang", "name": "张伟", "channel": "hook", "to": "zhang"}]}, iid)
        log.add("notify.attempt", {"attempt": 1, "outcome": "delivered", "status": 200,
                                   "detail": "HTTP 200", "duration_ms": 3,
                                   "intent": log.seq, "recipient": 0}, iid)
        if i >= nopen:
            log.add("incident.acknowledged", {"by_name": "张伟"}, iid, "person:zhang")
            log.add("incident.report_filed", {"by_name": "李强", "reference": "R%d" % i}, iid, "person:li")
            log.add("incident.resolved", {"by_name": "李强"}, iid, "person:li")
        if segment_every and (i + 1) % segment_every == 0 and i + 1 < n:
            log.rotate()


def checkpoint(log, nopen):
    log.add("checkpoint.begin", {"last_day": 20250101, "last_n": 999999, "incidents": nopen})
    for i in range(nopen):
        log.add("checkpoint.incident", {
            "origin": origin(i), "state": "open", "ack": None, "filed": None, "resolved": None,
            "clocks": {"ack": {"fired_at": TS, "late_ms": 0}, "report": {"fired_at": TS, "late_ms": 0}},
            "notify_due": 7, "notify_done": 7, "timeline": [], "deliveries": []},
            "INC-20250101-%06d" % i)
    log.add("checkpoint.end", {})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_to_ready(binary, cfg, workdir):
    path = os.path.join(workdir, "notify.sock")
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(300)
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "-c", cfg], env=dict(os.environ, NOTIFY_SOCKET=path),
                         stderr=subprocess.DEVNULL)
    try:
        while b"READY=1" not in s.recv(4096):
            pass
        dt = time.perf_counter() - t0
    finally:
        p.terminate()
        p.wait()
        s.close()
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/dutyd"))
    ap.add_argument("--plugins", default=os.path.join(ROOT, "build/plugins"))
    ap.add_argument("--incidents", type=int, default=100000)
    ap.add_argument("--open", type=int, default=200)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="dutyd-startup-", dir=os.path.join(ROOT, "build"))
    try:
        results = {}
        for layout in ("one log, replay from the start", "segments, replay from checkpoint"):
            d = os.path.join(work, "s%d" % len(results))
            state = os.path.join(d, "state")
            os.makedirs(state)
            log = Log(state)
            seg = layout.startswith("segments")
            history(log, args.incidents, args.open, args.incidents // 10 if seg else 0)
            if seg:
                log.rotate()
                checkpoint(log, args.open)
            log.close()
            size = sum(os.path.getsize(os.path.join(state, f)) for f in os.listdir(state))
            cfg = os.path.join(d, "dutyd.yaml")
            with open(os.path.join(ROOT, "etc/dutyd.yaml")) as f:
                text = f.read()
            with open(cfg, "w") as f:
                f.write(text.replace("127.0.0.1:8080", "127.0.0.1:%d" % free_port())
                        .replace("./var", state).replace("./build/plugins", args.plugins)
                    .replace("include: calendar-cn-2026.yaml",
                             "include: " + os.path.join(ROOT, "etc", "calendar-cn-2026.yaml"))
                        + "audit:\n  segment_size: 1GiB\n  reserve: 0\n")
            # Each start appends a few records; three runs differ by a handful.
            best = min(time_to_ready(args.bin, cfg, d) for _ in range(3))
            results[layout] = (best, size, log.seq)
        base = results["one log, replay from the start"][0]
        print("start-up time to READY=1 (%d incidents, %d open; best of 3; same disk)"
              % (args.incidents, args.open))
        for layout, (t, size, n) in results.items():
            print("  %-36s %7.3f s   %6.1f MiB, %d records   ratio %.2f" %
                  (layout, t, size / 2**20, n, t / base))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
