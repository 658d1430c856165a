"""Helpers for the PostgreSQL store's failover tests (test_pg_ha.py): two
dutyd on one throwaway database, a steady load of reports posted to both,
and the table read back as audit records.

Every dutyd here is a conftest.ConfigDutyd, started by socket activation and
stopped by its PID (the dutyd_from fixture); every PostgreSQL a
pgserver.PgServer, stopped by the PID in its postmaster.pid."""
import hashlib
import http.client
import json
import os
import re
import threading
import time

from conftest import SANITIZED, LoadThreads, run_dutyd, wait_until

# The configuration of every instance: conftest's CONFIG with a `store:`
# block; only $instance differs between the two.
PG_CONFIG = """\
listen: "127.0.0.1:$port"
state_dir: "$state_dir"
plugin_dir: "$plugin_dir"
public_url: "http://127.0.0.1:$port"
store:
  postgresql:
    conninfo: "$conninfo"
    instance: "$instance"
    lease: $lease
offices:
  - { id: county-a, name: "A县应急管理局", token: "secret-a" }
  - { id: county-b, name: "B县应急管理局", token: "secret-b" }
people:
  - { id: zhang, name: "张伟", token: "secret-zhang", contacts: [ { channel: hook, to: "zhang" } ] }
  - { id: li,    name: "李强", token: "secret-li",    contacts: [ { channel: hook, to: "li" } ] }
  - { id: wang,  name: "王芳", token: "secret-wang",  contacts: [ { channel: hook, to: "wang" } ] }
duty:
  officers: [zhang]
  leader: li
  escalation: [wang]
channels:
  hook:
    plugin: webhook
    url: "$sink_url"
    secret: "hmac-secret"
policy:
  ack_timeout: $ack_timeout
  report_deadline: $report_deadline
  retry_initial: 1s
  retry_max: 5m
"""

WHEN = "2026-11-28T14:05:00+08:00"

# The promise: a standby takes over within lease + 1 s.
LEASE = 1.0
TAKEOVER = LEASE + 1.0


def make_instance(dutyd_from, pg, sink, instance, ack_timeout="20m",
                  report_deadline="1h", lease="1s", init=True):
    """A dutyd (not started) on PG's database as INSTANCE; with INIT, the
    schema made first by `dutyd --init-store -c FILE` (idempotent)."""
    d = dutyd_from(PG_CONFIG, conninfo=pg.conninfo, instance=instance, lease=lease,
                   sink_url=sink.url, ack_timeout=ack_timeout,
                   report_deadline=report_deadline)
    d.instance = instance
    if init:
        rc, out, err = run_dutyd("--init-store", "-c", d.config_path)
        assert rc == 0, "dutyd --init-store exited %d:\n%s%s" % (rc, out, err)
    return d


def healthz(d):
    try:
        r = d.call("GET", "/healthz")
    except (OSError, http.client.HTTPException):
        return None
    return r


def role(d):
    """"leader", "standby" or None (no answer, or no role in it)."""
    r = healthz(d)
    if r is None or r.json is None:
        return None
    return r.json.get("role")


def wait_leader(instances, timeout=None):
    """Waits until exactly one of INSTANCES answers /healthz 200 as leader
    and every other answers 503 as standby of it; returns (leader, standbys)."""
    if timeout is None:
        timeout = 30 if SANITIZED else 15

    def settled():
        answers = [healthz(d) for d in instances]
        js = [(r.json or {}) if r is not None else {} for r in answers]
        roles = [j.get("role") for j in js]
        if roles.count("leader") != 1 or roles.count("standby") != len(instances) - 1:
            return None
        # A standby learns who leads from the table (dutyd_leader), a read
        # or two after it connects: until then it says "" (unknown).
        name = instances[roles.index("leader")].instance
        if any(j.get("leader") != name for j in js if j.get("role") == "standby"):
            return None
        return roles
    roles = wait_until(settled, timeout, what="one leader and %d standby among %s"
                       % (len(instances) - 1, [d.instance for d in instances]))
    leader = instances[roles.index("leader")]
    return leader, [d for d in instances if d is not leader]


def table_lines(pg):
    """The audit table's lines in seq order, byte for byte (pg.sql reads
    UTF-8 whatever the harness's locale: the chain is over the bytes)."""
    return [(int(seq), line.encode("utf-8"))
            for seq, line in pg.sql("SELECT seq, line FROM dutyd_audit ORDER BY seq")]


def table_records(pg):
    return [json.loads(line) for _, line in table_lines(pg)]


def verify_table(pg):
    """The documented check, over the table: seq from 1 without a gap, each
    line's prev the SHA-256 of the line before.  Returns the number of rows."""
    prev = "0" * 64
    rows = table_lines(pg)
    for i, (seq, line) in enumerate(rows, start=1):
        assert seq == i, "seq %d where %d was due" % (seq, i)
        rec = json.loads(line)
        assert rec["seq"] == seq, "row %d holds a line with seq %d" % (seq, rec["seq"])
        assert rec["prev"] == prev, "chain broken at seq %d" % seq
        prev = hashlib.sha256(line).hexdigest()
    return len(rows)


def verify_audit(pg):
    """`dutyd --verify-audit <URI>` and `dutyd --verify-audit <conninfo>`: exit 0."""
    for target in (pg.url(), pg.conninfo):
        rc, out, err = run_dutyd("--verify-audit", target)
        assert rc == 0, "dutyd --verify-audit %s exited %d:\n%s%s" % (target, rc, out, err)


def metric_role(d):
    """{role: value} of the dutyd_role gauge in GET /metrics."""
    r = d.call("GET", "/metrics")
    assert r.status == 200, (d.instance, r)
    out = {}
    for m in re.finditer(rb'^dutyd_role\{role="(\w+)"\} (\d+)$', r.text, re.M):
        out[m.group(1).decode()] = int(m.group(2))
    return out


def last_status(d):
    """The last STATUS= dutyd sent (without STATUS=), or None."""
    last = None
    for note in d.poll_notes():
        for line in note.split("\n"):
            if line.startswith("STATUS="):
                last = line[len("STATUS="):]
    return last


def terminate_sessions(pg, instance):
    """Cuts INSTANCE's database sessions from the server's side (what a
    network cut or the server's tcp_user_timeout does), and returns once
    they are gone (pg_terminate_backend's timeout waits for the exit): the
    sessions' PIDs."""
    rows = pg.sql("SELECT pid, pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                  "WHERE application_name LIKE 'dutyd:%s%%'" % instance, db="postgres")
    assert rows, "no session of %s on the database" % instance
    assert all(ok == "t" for _, ok in rows), rows
    return [int(pid) for pid, _ in rows]


class Load(LoadThreads):
    """One thread per dutyd, each posting a report every ~20 ms with a key of
    its own, and keeping every answer: (instance, key, title, sent, done,
    status, incident id or None, error or None); times from time.monotonic()."""

    def __init__(self, instances, tag="load", pace=0.02):
        self.instances = instances
        self.tag = tag
        self.pace = pace
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers = []
        # Instances not to post to: one killed while the harness keeps its
        # port would leave requests waiting in the backlog until a timeout.
        self.off = set()
        self.threads = [threading.Thread(target=self.run, args=(d,), daemon=True)
                        for d in instances]

    def run(self, d):
        i = 0
        while not self.stop.is_set():
            if d.instance in self.off:
                self.stop.wait(self.pace)
                continue
            key = "%s-%s-%d" % (self.tag, d.instance, i)
            title = "压测报告 %s %d" % (d.instance, i)
            i += 1
            sent = time.monotonic()
            status, iid, error = None, None, None
            try:
                r = d.report(key=key, title=title, occurred_at=WHEN)
                status = r.status
                if r.status in (200, 201) and r.json:
                    iid = r.json.get("id")
                elif r.status == 503:
                    if r.headers.get("Retry-After") is None:
                        error = "503 without Retry-After"
                else:
                    error = r.text[:200]
            except (OSError, http.client.HTTPException) as e:
                # Cut off (a kill, a re-exec): never acknowledged, nothing owed.
                error = "%s: %s" % (type(e).__name__, e)
            with self.lock:
                self.answers.append((d.instance, key, title, sent, time.monotonic(),
                                     status, iid, error))
            self.stop.wait(self.pace)

    def snapshot(self):
        with self.lock:
            return list(self.answers)

    def acked(self):
        """(instance, key, title, sent, done, id) of every 201."""
        return [(a[0], a[1], a[2], a[3], a[4], a[6]) for a in self.snapshot() if a[5] == 201]

    def check_answers(self):
        """Every answer a 201, or a 503 with Retry-After (the standby's gate,
        or a commit that failed), or a connection cut; nothing else."""
        odd = [a for a in self.snapshot()
               if a[5] not in (None, 201, 503) or a[7] == "503 without Retry-After"]
        assert not odd, "answers other than 201 or 503 with Retry-After: %s" % odd[:5]

    def first_201(self, instance, after):
        """The first 201 from INSTANCE that answered after AFTER (monotonic)."""
        got = [a for a in self.snapshot() if a[0] == instance and a[5] == 201 and a[4] > after]
        return min(got, key=lambda a: a[4]) if got else None


def check_every_201_once(pg, acked):
    """Every report answered 201 is in the table exactly once, as the
    incident it was answered with, under its Idempotency-Key."""
    received = [r for r in table_records(pg) if r["event"] == "report.received"]
    by_key = {}
    for r in received:
        k = (r["data"].get("office"), r["data"].get("idempotency_key"))
        by_key.setdefault(k, []).append(r)
    by_incident = {}
    for r in received:
        by_incident.setdefault(r["incident"], []).append(r)
    missing, twice = [], []
    for inst, key, title, sent, done, iid in acked:
        recs = by_key.get(("county-a", key), [])
        if not recs:
            missing.append((inst, key, iid))
            continue
        if len(recs) != 1 or len(by_incident.get(iid, [])) != 1:
            twice.append((key, iid, [x["seq"] for x in recs]))
            continue
        assert recs[0]["incident"] == iid, (key, iid, recs[0]["incident"])
        assert recs[0]["data"]["report"]["title"] == title, (key, recs[0]["data"]["report"])
    assert not missing, "%d reports answered 201 are not in the table: %s" % (
        len(missing), missing[:10])
    assert not twice, "reports in the table more than once: %s" % twice[:10]
    return received


def record_timing(name, seconds):
    """Appends a measured time to $DUTYD_PGHA_TIMINGS (for the report), if set."""
    path = os.environ.get("DUTYD_PGHA_TIMINGS")
    if path:
        with open(path, "a") as f:
            f.write("%s %.3f%s\n" % (name, seconds, " san" if SANITIZED else ""))
