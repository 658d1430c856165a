"""Synthetic audit logs in the exact shape the dutyd under test writes.

capture() runs that dutyd once: one incident through its whole life (reported,
told to the two people on duty, acknowledged, written report filed, resolved,
each step told) and one left open; their records, as written, become
templates.  A clone changes only what must differ between incidents (the
incident id, one-tap link stubs, the intents' seq that attempts refer to,
and, on request, the deadlines), so a generated log replays as the real
thing would and the bench follows whatever record shapes the build writes.
"""
import base64
import datetime
import hashlib
import json
import os
import re
import shutil

import benchlib

TZ8 = datetime.timezone(datetime.timedelta(hours=8))
_PLACE = re.compile(r"@@(\w+)@@")


def rfc3339_ms(epoch_ms):
    d = datetime.datetime.fromtimestamp(epoch_ms / 1000, TZ8)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+08:00" % (epoch_ms % 1000)


class Template:
    """The records of one incident, with @@NAME@@ where a clone differs."""

    def __init__(self, lines, incident):
        recs = [json.loads(l) for l in lines]
        seqs = {r["seq"]: i for i, r in enumerate(recs)}
        first = recs[0]["data"]
        self.nlinks = 0
        self.parts = []
        for line in lines:
            mid = re.match(r'\{"seq":\d+,(.*),"prev":"[0-9a-f]{64}"\}$', line, re.S).group(1)
            mid = mid.replace('"%s"' % incident, '"@@INC@@"')
            for key, name in (("ack_deadline", "ACK"), ("report_deadline", "REPD"),
                              ("received_at", "RECV")):
                if key in first:
                    mid = mid.replace('"%s"' % first[key], '"@@%s@@"' % name)

            def link(m):
                self.links_exp = base64.urlsafe_b64decode(m.group(1) + "==")[6:10]
                self.nlinks += 1
                return '"link":"@@L%d@@"' % (self.nlinks - 1)
            mid = re.sub(r'"link":"([A-Za-z0-9_-]{14})"', link, mid)

            def intent(m):
                n = int(m.group(1))
                return '"intent":@@S%d@@' % seqs[n] if n in seqs else m.group(0)
            mid = re.sub(r'"intent":(\d+)', intent, mid)
            self.parts.append(_PLACE.split(mid))
        self.defaults = {"ACK": first.get("ack_deadline"), "REPD": first.get("report_deadline"),
                         "RECV": first.get("received_at")}
        self.day = incident.split("-")[1]

    def __len__(self):
        return len(self.parts)

    def emit(self, log, n, values=None):
        """Append incident number N's records to LOG (a RawLog)."""
        v = dict(self.defaults)
        if values:
            v.update(values)
        v["INC"] = "INC-%s-%04d" % (self.day, n)
        for k in range(self.nlinks):
            v["L%d" % k] = base64.urlsafe_b64encode(
                (n * 16 + k).to_bytes(6, "big") + self.links_exp).decode().rstrip("=")
        base = log.seq + 1
        for parts in self.parts:
            out = []
            for i, p in enumerate(parts):
                if i % 2 == 0:
                    out.append(p)
                elif p[0] == "S":
                    out.append(str(base + int(p[1:])))
                else:
                    out.append(v[p])
            log.add_mid("".join(out))


class RawLog:
    """audit.log lines from record bodies: seq and the chain added here."""

    def __init__(self, dirpath, buffering=1 << 20):
        self.seq = 0
        self.prev = "0" * 64
        self.f = open(os.path.join(dirpath, "audit.log"), "wb", buffering=buffering)

    def add_mid(self, mid):
        self.seq += 1
        line = ('{"seq":%d,%s,"prev":"%s"}' % (self.seq, mid, self.prev)).encode()
        self.prev = hashlib.sha256(line).hexdigest()
        self.f.write(line + b"\n")

    def close(self):
        self.f.close()


def capture(binary, plugins, tools, work):
    """(closed, open) Templates from one run of BINARY."""
    d = os.path.join(work, "capture")
    state = os.path.join(d, "state")
    os.makedirs(state)
    sink = benchlib.Sink(tools, d)
    port = benchlib.free_port()
    cfg = os.path.join(d, "dutyd.yaml")
    benchlib.dutyd_config(cfg, port, state, plugins, sink.port)
    dutyd = benchlib.Dutyd(binary, cfg, port, d)
    try:
        dutyd.start()
        body = {"title": "模板事件", "occurred_at": rfc3339_ms(
                int(datetime.datetime.now().timestamp() * 1000) - 60000),
                "level": "IV", "location": "某县某镇", "details": "情况说明" * 60}
        st, inc = dutyd.post("/api/v1/reports", body, "secret-a")
        assert st == 201, st
        closed = inc["id"]
        sink.wait(2, 30)
        told = 2
        for action in ("ack", "written-report", "resolve"):
            st, _ = dutyd.post("/api/v1/incidents/%s/%s" % (closed, action), {}, "secret-zhang")
            assert st == 200, (action, st)
            told += 2
            sink.wait(told, 30)
        dutyd.wait_quiet(0.3)
        st, inc = dutyd.post("/api/v1/reports", body, "secret-a")
        assert st == 201, st
        opened = inc["id"]
        sink.wait(told + 2, 30)
        dutyd.wait_quiet(0.3)
    finally:
        dutyd.stop()
        sink.close()
    by = {closed: [], opened: []}
    with open(os.path.join(state, "audit.log"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            r = json.loads(line)
            if r.get("incident") in by:
                by[r["incident"]].append(line)
    shutil.rmtree(d, ignore_errors=True)
    return Template(by[closed], closed), Template(by[opened], opened)
