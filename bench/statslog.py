#!/usr/bin/python3
"""The figures (GET /api/v1/stats) over a year of a busy city.

Writes a synthetic audit log: N incidents spread evenly over DAYS days, each
with what a busy duty room's log holds around it (notification intents and
attempts, escalations, acknowledgement, follow-ups, the written report, the
resolution), a few merged or dismissed, and directives; cut into segments,
the last one beginning with a checkpoint, so that dutyd holds none of the
history in memory and must read the segments.  Then starts dutyd on it and
times GET /api/v1/stats over the whole period (best of 3), while another
thread times GET /healthz: the loop must stay responsive during the scan.

tests/e2e/test_stats.py writes a smaller log with the same generator.
"""
import argparse
import datetime
import hashlib
import heapq
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CST = datetime.timezone(datetime.timedelta(hours=8))
MIN = 60.0

OFFICES = [("county-a", "A县应急管理局"), ("county-b", "B县应急管理局"),
           ("county-c", "C县应急管理局"), ("county-d", "D区应急管理局")]
PEOPLE = [("zhang", "张伟"), ("li", "李强"), ("wang", "王芳")]


def ts(t):
    """Epoch seconds as dutyd writes times (milliseconds, +08:00)."""
    d = datetime.datetime.fromtimestamp(t, CST)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+08:00" % (d.microsecond // 1000)


def local_date(t):
    return datetime.datetime.fromtimestamp(t, CST).strftime("%Y%m%d")


class Log:
    """Audit log lines with the hash chain, cut into segments of SEGMENT bytes."""

    def __init__(self, state_dir, segment=64 << 20):
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        self.dir = state_dir
        self.seq = 0
        self.prev = "0" * 64
        self.first = 1
        self.segment = segment
        self.size = 0
        self.bytes = 0
        self.last_t = 0.0
        self.f = open(os.path.join(state_dir, "audit.log"), "wb")

    def add(self, t, event, data, incident=None, actor="dutyd"):
        self.seq += 1
        self.last_t = max(self.last_t, t)
        rec = {"seq": self.seq, "ts": ts(t), "event": event}
        if incident:
            rec["incident"] = incident
        rec.update({"actor": actor, "data": data, "prev": self.prev})
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()
        self.prev = hashlib.sha256(line).hexdigest()
        self.f.write(line + b"\n")
        self.size += len(line) + 1
        self.bytes += len(line) + 1
        if self.size >= self.segment:
            self.rotate()

    def rotate(self):
        if self.seq < self.first:
            return
        self.f.close()
        name = "audit-%012d-%012d.log" % (self.first, self.seq)
        os.rename(os.path.join(self.dir, "audit.log"), os.path.join(self.dir, name))
        self.f = open(os.path.join(self.dir, "audit.log"), "wb")
        self.first = self.seq + 1
        self.size = 0

    def checkpoint(self, t):
        """A new segment that opens with an empty checkpoint: replay starts there."""
        self.rotate()
        self.add(t, "checkpoint.begin", {"last_day": 19700101, "last_n": 0, "incidents": 0})
        self.add(t, "checkpoint.end", {})

    def close(self):
        self.f.close()


class Generator:
    """Incidents and directives as events on a heap, written in time order."""

    def __init__(self, log, seed=1, pad=True, t_end=float("inf")):
        self.log = log
        self.t_end = t_end
        self.rng = random.Random(seed)
        self.heap = []
        self.tie = 0
        self.pad = pad
        self.per_day = {}
        self.ndirectives = 0

    def at(self, t, event, data, incident=None, actor="dutyd"):
        if t >= self.t_end:
            return      # after the history ends (a directive still open)
        self.tie += 1
        heapq.heappush(self.heap, (t, self.tie, event, data, incident, actor))

    def flush(self, until=None):
        while self.heap and (until is None or self.heap[0][0] < until):
            t, _, event, data, incident, actor = heapq.heappop(self.heap)
            self.log.add(t, event, data, incident, actor)

    def text(self, what, n):
        return (what * (n // len(what) + 1))[:n] if self.pad else what

    def tell(self, t, incident, event, people=PEOPLE):
        """An intent to each of PEOPLE and one delivered attempt each."""
        intent = {"event": event, "late_ms": 0, "recipients": [
            {"person": p, "name": n, "channel": "hook", "to": p, "why": "on_duty"}
            for p, n in people], "message": self.text("【值班】%s " % event, 240)}
        self.at(t, "notify.intent", intent, incident)
        for i in range(len(people)):
            self.at(t + 0.2 + i * 0.05, "notify.attempt", {
                "attempt": 1, "outcome": "delivered", "status": 200, "detail": "HTTP 200",
                "duration_ms": 12, "intent": 0, "recipient": i}, incident)

    def incident(self, t, office, ids):
        """One incident received at T from OFFICE; IDS are earlier ones (for merges)."""
        rng = self.rng
        day = local_date(t)
        n = self.per_day[day] = self.per_day.get(day, 0) + 1
        iid = "INC-%s-%04d" % (day, n)
        oid, oname = office
        late = rng.random() < 0.12
        occurred = t - (rng.uniform(25, 240) if late else rng.uniform(1, 18)) * MIN
        report = {"title": "%s突发事件%d" % (oname[:1], n), "occurred_at": ts(occurred),
                  "location": "某镇某村", "details": self.text("现场情况说明。", 600)}
        late_by = int((t - occurred) / MIN) - 20 if late else 0
        self.at(t, "report.received", {
            "office": oid, "office_name": oname, "report": report, "received_at": ts(t),
            "ack_deadline": ts(t + 20 * MIN), "report_deadline": ts(t + 40 * MIN),
            "late_report": late, "late_by_minutes": max(late_by, 1) if late else 0,
            "source": "api", "body_sha256": "0" * 64}, iid, "office:" + oid)
        self.tell(t + 0.5, iid, "incident.new")
        fate = rng.random()
        if fate < 0.03:                                     # a false report
            self.at(t + rng.uniform(3, 30) * MIN, "incident.dismissed",
                    {"reason": "经核实为误报", "by_name": "张伟"}, iid, "person:zhang")
            return iid
        r = rng.random()
        ack = None if r < 0.03 else t + (rng.uniform(0.5, 15) if r < 0.85 else rng.uniform(21, 50)) * MIN
        if ack is None or ack > t + 20 * MIN:
            self.at(t + 20 * MIN, "incident.escalated", {
                "clock": "ack", "deadline": ts(t + 20 * MIN), "late_ms": 0, "level": 1,
                "next_level_at": ts(t + 35 * MIN)}, iid)
            self.tell(t + 20 * MIN + 0.5, iid, "incident.escalated")
            if ack is None or ack > t + 35 * MIN:
                self.at(t + 35 * MIN, "incident.escalated", {
                    "clock": "level", "deadline": ts(t + 35 * MIN), "late_ms": 0,
                    "level": 2, "notify": ["wang"]}, iid)
                self.tell(t + 35 * MIN + 0.5, iid, "incident.escalated")
        if ack is not None:
            self.at(ack, "incident.acknowledged", {"by_name": "张伟"}, iid, "person:zhang")
            self.tell(ack + 0.5, iid, "incident.acknowledged")
        for k in range(rng.choice((0, 0, 1, 1, 2, 3))):
            u = t + rng.uniform(5, 300) * MIN
            self.at(u, "incident.updated", {"fields": {"details": self.text("续报情况。", 200)},
                                            "update_n": k + 1}, iid, "office:" + oid)
            self.tell(u + 0.5, iid, "incident.updated")
        if ids and rng.random() < 0.03:                     # a duplicate of the last one
            into = ids[-1]
            m = t + rng.uniform(2, 10) * MIN
            self.at(m, "incident.merged", {"into": into, "note": "重复报告", "by_name": "张伟"},
                    iid, "person:zhang")
            # A follow-up sent to the duplicate goes to the one it went into.
            u = m + rng.uniform(1, 60) * MIN
            self.at(u, "incident.updated", {"fields": {"details": "续报"}, "via": iid},
                    into, "office:" + oid)
            return iid
        w = rng.random()
        if w < 0.80:
            sent = t + rng.uniform(8, 39) * MIN
        elif w < 0.95:
            sent = t + rng.uniform(41, 180) * MIN
        else:
            sent = None
        if sent is not None:
            body = self.text("书面报告正文。", 700)
            self.at(sent - 60, "report.draft_saved", {"version": 1, "body": body}, iid,
                    "person:li")
            if rng.random() < 0.1:
                self.at(sent, "incident.report_filed", {"via": "other", "by_name": "李强"},
                        iid, "person:li")
            else:
                self.at(sent, "report.submitted", {"number": 1, "version": 1, "body": body,
                                                   "body_sha256": "0" * 64, "contacts": 1},
                        iid, "person:li")
                self.tell(sent + 0.5, iid, "report.submitted", [("province", "省厅")])
        end = t + rng.uniform(6, 30) * 60 * MIN
        self.at(end, "incident.resolved", {"by_name": "李强"}, iid, "person:li")
        self.tell(end + 0.5, iid, "incident.resolved")
        return iid

    def directive(self, t):
        self.ndirectives += 1
        day = local_date(t)
        did = "DIR-%s-%d" % (day, self.ndirectives)
        due = datetime.datetime.fromtimestamp(t + 10 * 86400, CST).strftime("%Y-%m-%d")
        submit_by = datetime.datetime.fromtimestamp(t + 9 * 86400, CST).strftime("%Y-%m-%d")
        self.at(t, "directive.created", {
            "directive": did, "title": "关于加强防汛工作的批示", "text": self.text("批示内容。", 200),
            "issued_by": "市长", "issued_at": ts(t - 3600), "owner": "county-a",
            "owner_kind": "office", "due": due, "submit_by": submit_by, "default_due": False},
            None, "person:zhang")
        r = self.rng.random()
        if r < 0.7:
            self.at(t + self.rng.uniform(1, 8) * 86400, "directive.completed",
                    {"directive": did, "result": "已办结", "on_time": True}, None, "office:county-a")
        elif r < 0.9:
            self.at(t + self.rng.uniform(11, 20) * 86400, "directive.completed",
                    {"directive": did, "result": "已办结", "on_time": False}, None, "office:county-a")
        return did


def generate(state_dir, incidents, t_start, t_end, seed=1, directives=None, pad=True,
             segment=64 << 20):
    """Writes the history into STATE_DIR and a checkpoint segment after it.
    Events are placed before T_END (epoch seconds); returns the Log."""
    log = Log(state_dir, segment)
    g = Generator(log, seed, pad, t_end)
    if directives is None:
        directives = max(1, incidents // 100)
    span = t_end - t_start - 2 * 86400          # room for the last incidents' events
    ids = []
    every = max(1, incidents // directives)
    for i in range(incidents):
        t = t_start + span * i / incidents
        g.flush(t)
        ids.append(g.incident(t, OFFICES[g.rng.randrange(len(OFFICES))], ids[-5:]))
        if i % every == every // 2:
            g.directive(t + 1)
    g.flush()
    log.checkpoint(max(t_end, log.last_t))
    log.close()
    return log


CONFIG = """\
listen: "127.0.0.1:{port}"
public_url: "http://127.0.0.1:{port}"
state_dir: "{state}"
plugin_dir: "{plugins}"
timezone: "Asia/Shanghai"
offices:
{offices}
people:
  - {{ id: zhang, name: "张伟", token: "secret-zhang", contacts: [ {{ channel: hook, to: "zhang" }} ] }}
  - {{ id: li, name: "李强", token: "secret-li", contacts: [ {{ channel: hook, to: "li" }} ] }}
  - {{ id: wang, name: "王芳", token: "secret-wang", contacts: [ {{ channel: hook, to: "wang" }} ] }}
duty:
  officers: [zhang]
  leader: li
channels:
  hook:
    plugin: webhook
    url: "http://127.0.0.1:9/hook"
audit:
  reserve: 0
"""


def office_lines():
    return "\n".join('  - { id: %s, name: "%s", token: "secret-%s" }' % (o, n, o)
                     for o, n in OFFICES)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, token="secret-zhang", timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path, headers={"Authorization": "Bearer " + token} if token else {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/dutyd"))
    ap.add_argument("--plugins", default=os.path.join(ROOT, "build/plugins"))
    ap.add_argument("--incidents", type=int, default=20000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--keep", help="write the log here and keep it")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.plugins = os.path.abspath(args.plugins)

    work = args.keep or tempfile.mkdtemp(prefix="dutyd-stats-", dir=os.path.join(ROOT, "build"))
    state = os.path.join(work, "state")
    proc = None
    try:
        now = time.time()
        t0 = time.perf_counter()
        if not os.path.exists(os.path.join(state, "audit.log")):
            log = generate(state, args.incidents, now - args.days * 86400, now - 3600)
            print("generated %d records, %.1f MiB, in %.1f s"
                  % (log.seq, log.bytes / 2**20, time.perf_counter() - t0))
        port = free_port()
        cfg = os.path.join(work, "dutyd.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(port=port, state=state, plugins=args.plugins,
                                  offices=office_lines()))
        proc = subprocess.Popen([args.bin, "-c", cfg], stderr=open(os.path.join(work, "stderr"), "wb"))
        deadline = time.monotonic() + 120
        while True:
            try:
                if get(port, "/healthz")[0] in (200, 503):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("dutyd did not start; see %s/stderr" % work)
            time.sleep(0.05)
        first = datetime.datetime.fromtimestamp(now - args.days * 86400, CST).strftime("%Y-%m-%d")
        last = datetime.datetime.fromtimestamp(now, CST).strftime("%Y-%m-%d")
        path = "/api/v1/stats?from=%s&to=%s" % (first, last)
        times, worst_health = [], 0.0
        for _ in range(3):
            stop = threading.Event()
            health = []

            def probe():
                while not stop.is_set():
                    h0 = time.perf_counter()
                    get(port, "/healthz", token=None)
                    health.append(time.perf_counter() - h0)
                    time.sleep(0.01)
            th = threading.Thread(target=probe)
            th.start()
            s0 = time.perf_counter()
            status, body = get(port, path)
            times.append(time.perf_counter() - s0)
            stop.set()
            th.join()
            assert status == 200, body[:300]
            worst_health = max([worst_health] + health)
        city = json.loads(body)["city"]
        print("GET %s: best %.3f s, worst %.3f s (3 runs); %d reports counted"
              % (path, min(times), max(times), city["reports"]))
        print("GET /healthz during the scans: slowest answer %.1f ms" % (worst_health * 1000))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
