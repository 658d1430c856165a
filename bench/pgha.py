#!/usr/bin/env python3
"""Issue 18's figures: the PostgreSQL store beside the file log.

  intake     durable reports/s on PostgreSQL (fsync on, one throwaway server
             on a Unix socket) and on the file log, the same wrk load (as
             figures.py's throughput: -t2 -c32, ~1 KiB Chinese bodies, ids of
             their own), one after the other in the same run; the ratio
             (target: at least a third)
  failover   two dutyd on one database; kill -9 of the leader → the first 201
             from the other, over N rounds (the killed one comes back as the
             standby before the next): median and worst
  move       a generated file log (loggen.py: the records this build writes)
             moved by --import-audit, then --verify-audit of the table, then
             a dutyd taking the lead on it: records/s of each

Prints a small table; under 3 minutes on the 2-core machine.
    make bench-ha            (or: bench/pgha.py --bin … --plugins … --tools …)
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))

import benchlib                 # noqa: E402
import figures                  # noqa: E402  (its wrk script)
import loggen                   # noqa: E402
import pgserver                 # noqa: E402


def say(*a):
    print(*a, flush=True)


def store_yaml(conninfo, instance, lease):
    return ('\nstore:\n  postgresql:\n    conninfo: "%s"\n    instance: "%s"\n'
            '    lease: %s\n' % (conninfo, instance, lease))


def post_report(port, timeout=2.0):
    """The status of one report; 0 when the connection failed."""
    body = json.dumps({"title": "切换测试", "occurred_at": time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "IV"})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/api/v1/reports", body, {
            "Authorization": "Bearer secret-a", "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status
    except OSError:
        return 0
    finally:
        c.close()


def role(port):
    """"leader", "standby", or None (not answering)."""
    try:
        status, body = benchlib.http_get(port, "/healthz", 2)
        js = json.loads(body)
    except (OSError, ValueError):
        return None
    if status == 200:
        return "leader"
    return js.get("role")


class Run:
    def __init__(self, a, work):
        self.a, self.work = a, work
        self.pg = None

    def dutyd(self, name, sink, extra=""):
        d = os.path.join(self.work, name)
        os.makedirs(d, exist_ok=True)
        state = os.path.join(d, "state")
        os.makedirs(state, mode=0o700, exist_ok=True)
        port = benchlib.free_port()
        cfg = os.path.join(d, "dutyd.yaml")
        benchlib.dutyd_config(cfg, port, state, self.a.plugins, sink.port, extra)
        return benchlib.Dutyd(self.a.bin, cfg, port, d)

    def init_store(self, d):
        r = subprocess.run([self.a.bin, "--init-store", "-c", d.cfg], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise SystemExit("bench: dutyd --init-store failed: " + r.stderr.strip())

    def wrk(self, d, lua):
        d.start()
        try:
            # READY=1 comes as a standby on PostgreSQL: the load waits for the lead.
            benchlib.wait_until(lambda: role(d.port) == "leader", 30, "the lead")
            rps, _, errs = benchlib.wrk("http://127.0.0.1:%d/api/v1/reports" % d.port, lua,
                                        self.a.seconds)
        finally:
            d.stop()
        return rps, errs

    def intake(self):
        lua = os.path.join(self.work, "dutyd.lua")
        figures.wrk_lua(lua, False)
        sink = benchlib.Sink(self.a.tools, self.work)
        try:
            f = self.dutyd("file", sink)
            file_rps, file_errs = self.wrk(f, lua)
            say("intake: file log %.0f durable reports/s (socket errors %d)"
                % (file_rps, file_errs))
            p = self.dutyd("pg", sink, store_yaml(self.pg.conninfo, "bench-a", self.a.lease))
            self.init_store(p)
            pg_rps, pg_errs = self.wrk(p, lua)
            say("intake: PostgreSQL %.0f durable reports/s (socket errors %d)"
                % (pg_rps, pg_errs))
            rows = int(self.pg.sql("SELECT count(*) FROM dutyd_audit")[0][0])
            say("intake: %d rows in dutyd_audit after the run" % rows)
        finally:
            sink.close()
        return file_rps, pg_rps

    def failover(self):
        sink = benchlib.Sink(self.a.tools, self.work)
        self.pg.sql("DROP TABLE IF EXISTS dutyd_audit, dutyd_checkpoint, dutyd_secret, "
                    "dutyd_leader, dutyd_meta")
        pair = [self.dutyd("ha-%s" % n, sink, store_yaml(self.pg.conninfo, n, self.a.lease))
                for n in ("duty-a", "duty-b")]
        self.init_store(pair[0])
        times = []
        try:
            for d in pair:
                d.start()
            benchlib.wait_until(lambda: sorted(map(role, (d.port for d in pair))) ==
                                ["leader", "standby"], 30, "one leader and one standby")
            for n in range(self.a.rounds):
                leader = next(d for d in pair if role(d.port) == "leader")
                other = pair[1 - pair.index(leader)]
                # A few records the standby has to have read or read now.
                for _ in range(5):
                    if post_report(leader.port) != 201:
                        raise SystemExit("bench: the leader refused a report")
                t0 = time.monotonic()
                os.kill(leader.pid, signal.SIGKILL)
                leader.proc.wait()
                while post_report(other.port, 1.0) != 201:
                    if time.monotonic() - t0 > 60:
                        raise SystemExit("bench: no 201 from %s within 60 s of the kill"
                                         % other.cfg)
                    time.sleep(0.005)       # the poll interval: what the figure is read to
                times.append(time.monotonic() - t0)
                say("failover: round %d: %.3f s" % (n + 1, times[-1]))
                leader.start()              # back as the standby for the next round
                benchlib.wait_until(lambda: role(leader.port) == "standby", 30,
                                    "the killed leader back as the standby")
        finally:
            for d in pair:
                d.stop()
            sink.close()
        return times

    def timed(self, *args):
        t0 = time.monotonic()
        r = subprocess.run([self.a.bin, *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("bench: dutyd %s failed: %s" % (args[0], r.stderr.strip()))
        return time.monotonic() - t0

    def move(self):
        """Seconds to import, verify and lead on a generated log of --move-records."""
        closed, _ = loggen.capture(self.a.bin, self.a.plugins, self.a.tools, self.work)
        sink = benchlib.Sink(self.a.tools, self.work)
        self.pg.sql("DROP TABLE IF EXISTS dutyd_audit, dutyd_checkpoint, dutyd_secret, "
                    "dutyd_leader, dutyd_meta")
        d = self.dutyd("move", sink, store_yaml(self.pg.conninfo, "bench-m", self.a.lease))
        state = os.path.join(d.work, "state")
        log = loggen.RawLog(state)
        i = 0
        while log.seq < self.a.move_records:
            i += 1
            closed.emit(log, i)
        log.close()
        n = log.seq
        self.init_store(d)
        t_import = self.timed("--import-audit", state, "-c", d.cfg)
        t_verify = self.timed("--verify-audit", self.pg.url())
        try:
            t0 = time.monotonic()
            d.start(timeout=600)
            benchlib.wait_until(lambda: role(d.port) == "leader", 600, "the lead")
            t_lead = time.monotonic() - t0
        finally:
            d.stop()
            sink.close()
        say("move: %d records: import %.1f s, verify %.1f s, exec to the lead %.1f s"
            % (n, t_import, t_verify, t_lead))
        return n, t_import, t_verify, t_lead

    def main(self):
        t0 = time.monotonic()
        self.pg = pgserver.PgServer(fsync=True).start()
        try:
            file_rps, pg_rps = self.intake()
            times = self.failover()
            moved = self.move() if self.a.move_records > 0 else None
        finally:
            self.pg.close()
        say("")
        say("| figure | measured | target |")
        say("|---|---|---|")
        say("| durable intake, file log | %.0f reports/s | |" % file_rps)
        say("| durable intake, PostgreSQL (fsync on) | %.0f reports/s (%.2f of the file log) "
            "| ≥ 0.33 of the file log |" % (pg_rps, pg_rps / file_rps))
        say("| failover, kill -9 → first 201 (%d rounds, lease %s) | median %.3f s, worst "
            "%.3f s | ≤ lease + 1 s |" % (len(times), self.a.lease, statistics.median(times),
                                          max(times)))
        if moved:
            n, ti, tv, tl = moved
            say("| moving a site: %d records, no checkpoint | import %.0f records/s, verify "
                "%.0f records/s, a leader replays them in %.1f s | |" % (n, n / ti, n / tv, tl))
        say("")
        say("(%.0f s; load average %s)" % (time.monotonic() - t0,
                                            " ".join(open("/proc/loadavg").read().split()[:3])))
        return 0 if pg_rps * 3 >= file_rps else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the dutyd binary")
    ap.add_argument("--plugins", required=True, help="its plugin_dir")
    ap.add_argument("--tools", required=True, help="the directory of sink and loadgen")
    ap.add_argument("--seconds", type=int, default=5, help="wrk's run for each store")
    ap.add_argument("--rounds", type=int, default=10, help="failover rounds")
    ap.add_argument("--lease", default="5s", help="store.postgresql.lease of the pair")
    ap.add_argument("--move-records", type=int, default=100000,
                    help="records of the log moved (0: skip)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if not pgserver.available():
        raise SystemExit("bench: needs Debian's postgresql-15 (make deps)")
    if shutil.which("wrk") is None:
        raise SystemExit("bench: needs wrk (make bench-deps)")
    work = tempfile.mkdtemp(prefix="dutyd-bench-ha-")
    try:
        return Run(a, work).main()
    finally:
        if a.keep:
            say("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
