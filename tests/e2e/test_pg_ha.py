"""Two duty-room servers, one truth (issue 18): two dutyd on one PostgreSQL
database.  Exactly one leads and serves; the other answers 503 so that a
health check sends the traffic to the leader; when the leader dies, hangs or
loses the database, the other takes over within lease + 1 s and nothing a
county was told 201 about is lost, doubled, or escalated twice.

Each test has its own database dutyd, made afresh on the pytest-xdist
worker's throwaway PostgreSQL (pgserver.fresh_database), and lease 1s.  The
time limits the issue promises are asserted as promised, in the sanitizer
build too: it takes over as fast (kill -9 to the first 201 about 0.1-0.2 s
plain, 0.2-0.9 s sanitized; a hung leader about 1.2-1.3 s in both).  Only waits that are not promises (start-up, a role seen) get the
sanitizer's margin."""
import http.client
import json
import os
import signal
import time

import pytest

import pgserver
from conftest import SANITIZED, audit_files, parse_time, run_dutyd, wait_until
from pgha import (TAKEOVER, WHEN, Load, check_every_201_once, healthz, last_status,
                  make_instance, metric_role, record_timing, role, table_lines,
                  table_records, terminate_sessions, verify_audit, verify_table,
                  wait_leader)


# A standby's answer to all but /healthz and /metrics.
GATED = (("POST", "/api/v1/reports", "secret-a",
          {"title": "某镇化工厂爆炸", "occurred_at": WHEN}),
         ("GET", "/api/v1/incidents", "secret-zhang", None),
         ("GET", "/api/v1/oncall", "secret-zhang", None),
         ("GET", "/", None, None))


@pytest.fixture
def pg():
    return pgserver.fresh_database()


def pair(pg, dutyd_from, sink, **kw):
    """duty-a and duty-b on PG's database, both started (READY=1 comes
    whatever the role, once the first read is done), and which of them leads."""
    a = make_instance(dutyd_from, pg, sink, "duty-a", **kw).start()
    b = make_instance(dutyd_from, pg, sink, "duty-b", init=False, **kw).start()
    leader, (standby,) = wait_leader([a, b])
    return leader, standby


def report_status(d, key):
    """The status of a report posted to D, None if the connection was cut
    (an image re-executing closes the connections it accepted)."""
    try:
        return d.report(key=key, occurred_at=WHEN).status
    except (OSError, http.client.HTTPException):
        return None


def escalations(records):
    """{(incident, level): [incident.escalated records]}."""
    out = {}
    for r in records:
        if r["event"] == "incident.escalated":
            out.setdefault((r["incident"], r["data"].get("level", 1)), []).append(r)
    return out


def wait_all_escalated(pg, leader):
    """Waits until every incident in the table has its level-1 escalation
    recorded (ack_timeout after it was received); returns the records."""
    def done():
        recs = table_records(pg)
        fired = escalations(recs)
        due = [r for r in recs if r["event"] == "report.received"]
        return recs if all((r["incident"], 1) in fired for r in due) else None
    recs = table_records(pg)
    last = max([parse_time(r["data"]["ack_deadline"]) for r in recs
                if r["event"] == "report.received"] or [time.time()])
    recs = wait_until(done, max(0.0, last - time.time()) + (30 if SANITIZED else 15),
                      interval=0.2, what="every incident's acknowledgement clock to fire")
    # One more request answered: the leader's loop turned after the last one.
    assert healthz(leader).status == 200
    return table_records(pg)


def check_clocks_fired_once(records):
    fired = escalations(records)
    received = [r for r in records if r["event"] == "report.received"]
    twice = {k: [r["seq"] for r in v] for k, v in fired.items() if len(v) != 1}
    assert not twice, "acknowledgement clocks that fired more than once: %s" % twice
    missing = [r["incident"] for r in received if (r["incident"], 1) not in fired]
    assert not missing, "clocks that never fired: %s" % missing[:10]
    return fired


def check_delivered_once(records):
    """No delivery recorded delivered was sent again: a resend after the
    takeover would be recorded as a second delivered attempt."""
    seen = {}
    for r in records:
        if r["event"] == "notify.attempt" and r["data"].get("outcome") == "delivered":
            k = (r["data"]["intent"], r["data"]["recipient"])
            seen.setdefault(k, []).append(r["seq"])
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert not twice, "deliveries recorded delivered more than once: %s" % twice
    return len(seen)


def test_one_leader_and_a_standby_that_sends_traffic_away(pg, dutyd_from, sink):
    leader, standby = pair(pg, dutyd_from, sink)

    h = healthz(leader)
    assert h.status == 200, h
    assert h.json["role"] == "leader" and h.json["instance"] == leader.instance, h.json
    h = healthz(standby)
    assert h.status == 503, h
    assert h.json["role"] == "standby", h.json
    assert h.json["leader"] == leader.instance, h.json

    # Everything else on the standby: 503 and come back in a second, naming
    # the leader, so a client or a balancer knows where to go.
    for method, path, token, body in GATED:
        r = standby.call(method, path, token, body)
        assert r.status == 503, (method, path, r)
        assert r.headers.get("Retry-After") == "1", (method, path, r.headers)
        assert r.json is not None, (method, path, r)
        assert r.json.get("role") == "standby" and r.json.get("leader") == leader.instance, r
        assert "error" in r.json and "error_zh" in r.json, r

    # The leader serves; the dutyd_leader row says who leads, for the standbys.
    r = leader.report(key="first")
    assert r.status == 201, r
    iid = r.json["id"]
    assert leader.call("GET", "/api/v1/incidents/" + iid, "secret-zhang").status == 200
    assert [r["incident"] for r in table_records(pg) if r["event"] == "report.received"] == [iid]
    assert pg.sql("SELECT instance, pid FROM dutyd_leader") == [
        (leader.instance, str(leader.proc.pid))]
    # It stays a standby, and follows the table as it grows (what makes a
    # takeover quick): /healthz says how far it has read.
    last = table_lines(pg)[-1][0]
    wait_until(lambda: (healthz(standby).json or {}).get("last_seq", 0) >= last, 5,
               what="the standby to read up to seq %d" % last)
    assert role(standby) == "standby"

    # What the supervisor and the monitoring see.
    wait_until(lambda: (last_status(leader) or "").startswith("leader: "),
               what="STATUS= of the leader to begin 'leader: '")
    wait_until(lambda: (last_status(standby) or "").startswith("standby: "),
               what="STATUS= of the standby to begin 'standby: '")
    assert metric_role(leader) == {"leader": 1, "standby": 0}
    assert metric_role(standby) == {"leader": 0, "standby": 1}
    sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    verify_table(pg)
    verify_audit(pg)


@pytest.mark.plain_pass
@pytest.mark.slow(12)
def test_sigkill_of_the_leader_under_load(pg, dutyd_from, sink):
    # ack_timeout 3s: the reports of the first seconds escalate on the old
    # leader, later ones during and after the takeover on the new one.
    leader, standby = pair(pg, dutyd_from, sink, ack_timeout="3s")
    with Load([leader, standby], "kill") as load:
        start = time.monotonic()
        wait_until(lambda: len(load.acked()) >= 20 and time.monotonic() >= start + 3.5,
                   what="3.5 s of reports acknowledged by the leader")
        assert not [a for a in load.acked() if a[0] == standby.instance], \
            "the standby answered 201 while the leader led"
        load.off.add(leader.instance)
        t_kill = time.monotonic()
        leader.kill()
        first = wait_until(lambda: load.first_201(standby.instance, t_kill), 30,
                           what="the first 201 from the new leader")
        took = first[4] - t_kill
        record_timing("kill->first 201", took)
        t_first = time.monotonic()
        wait_until(lambda: time.monotonic() >= t_first + 1.0, what="a second more of load")
    assert took <= TAKEOVER, "the standby took %.2f s to answer 201 after the kill " \
        "(the issue: lease 1s + 1 s)" % took
    assert healthz(standby).status == 200 and role(standby) == "leader"
    assert pg.sql("SELECT instance FROM dutyd_leader") == [(standby.instance,)]

    load.check_answers()
    acked = load.acked()
    check_every_201_once(pg, acked)
    # The keys acknowledged last by the old leader are known to the new one.
    old = [a for a in acked if a[0] == leader.instance][-5:]
    assert old
    for inst, key, title, sent, done, iid in old:
        r = standby.report(key=key, title=title, occurred_at=WHEN)
        assert r.status == 200 and r.json["id"] == iid, (key, iid, r)

    records = wait_all_escalated(pg, standby)
    check_clocks_fired_once(records)
    assert check_delivered_once(records) > 0
    verify_table(pg)
    verify_audit(pg)

    # The killed server, started again, joins as a standby of the new leader,
    # and takes the lead back when that one dies in turn.
    leader.start()
    assert wait_leader([leader, standby])[0] is standby
    standby.kill()
    wait_until(lambda: role(leader) == "leader", 30 if SANITIZED else 10,
               what="the lead back on the first server")
    r = leader.report(key="second-failover")
    assert r.status == 201, r
    r = leader.report(key=old[-1][1], title=old[-1][2], occurred_at=WHEN)
    assert r.status == 200 and r.json["id"] == old[-1][5], r
    verify_table(pg)
    verify_audit(pg)


@pytest.mark.plain_pass
@pytest.mark.slow(19)
def test_database_down_for_ten_seconds_under_load(pg, dutyd_from, sink):
    leader, standby = pair(pg, dutyd_from, sink, ack_timeout="3s")
    with Load([leader, standby], "outage") as load:
        wait_until(lambda: len(load.acked()) >= 10, what="reports acknowledged")
        pg.stop()
        t_down = time.monotonic()
        # No leader while nothing can be committed: the health check sends
        # no traffic to a server that would only answer 503.
        wait_until(lambda: role(leader) == "standby" and role(standby) == "standby",
                   8, interval=0.1, what="both to say standby while the database is down")
        t_both = time.monotonic() - t_down
        # The outage itself: a duration the test sets, not a wait for luck.
        wait_until(lambda: time.monotonic() >= t_down + 10, 15, interval=0.1,
                   what="10 s of outage")
        assert role(leader) == "standby" and role(standby) == "standby"
        t_up = time.monotonic()
        pg.start()
        t_back = time.monotonic()
        first = wait_until(lambda: load.first_201(leader.instance, t_back)
                           or load.first_201(standby.instance, t_back), 60,
                           what="a 201 after PostgreSQL came back")
        recovered = first[4] - t_back
        record_timing("db down->no leader", t_both)
        record_timing("db back->first 201", recovered)
        t_first = time.monotonic()
        wait_until(lambda: time.monotonic() >= t_first + 1.0, what="a second more of load")
    answers = load.snapshot()
    during = [a for a in answers if a[3] >= t_down and a[4] <= t_up]
    assert len(during) > 100, "too few requests during the outage to mean anything"
    ok = [a for a in during if a[5] is not None and 200 <= a[5] < 300]
    assert not ok, "2xx while PostgreSQL was down: %s" % ok[:5]
    other = [a for a in during if a[5] is not None and a[5] != 503]
    assert not other, "answers other than 503 while PostgreSQL was down: %s" % other[:5]
    load.check_answers()
    cut = [a for a in during if a[5] is None]
    # A request accepted by an image that re-executes is cut off; a request
    # that waits must still get its 503 (the standby's gate answers without
    # the database).
    assert len(cut) <= len(during) // 10, "requests cut off or unanswered during " \
        "the outage: %d of %d: %s" % (len(cut), len(during), cut[:5])
    # Reconnecting backs off 1 s at most; then the lock and the tail.
    assert recovered <= 5.0, "first 201 %.2f s after PostgreSQL came back" % recovered

    check_every_201_once(pg, load.acked())
    new_leader, _ = wait_leader([leader, standby])
    # Clocks due during the outage fire once the records can be written.
    records = wait_all_escalated(pg, new_leader)
    check_clocks_fired_once(records)
    assert check_delivered_once(records) > 0
    verify_table(pg)
    verify_audit(pg)


@pytest.mark.plain_pass
@pytest.mark.slow(6)
def test_clock_due_while_the_leader_hangs_fires_once_late(pg, dutyd_from, sink):
    """A leader that hangs (SIGSTOP: a frozen VM) keeps its database
    session, but stops renewing its lease: the standby ends that session and
    takes over within lease + 1 s, and fires the clock that fell due in the
    gap, once, saying how late.  The old leader, woken up, finds its session
    gone, writes nothing, sends nothing twice, and comes back as a standby
    with the same PID."""
    leader, standby = pair(pg, dutyd_from, sink, ack_timeout="1s")
    r = leader.report(key="gap")
    assert r.status == 201, r
    pid = leader.proc.pid
    os.kill(pid, signal.SIGSTOP)
    t_stop = time.time()
    inc = r.json
    iid = inc["id"]
    deadline = parse_time(inc["ack_deadline"])
    try:
        # The lease (1 s) outlasts the deadline: it falls due in the gap.
        assert t_stop < deadline, "froze the leader too late for the test to mean anything"
        wait_until(lambda: role(standby) == "leader", 30 if SANITIZED else 10,
                   what="the standby to take the lead from the hung leader")
        took = time.time() - t_stop
        record_timing("SIGSTOP->leader", took)
        assert took <= TAKEOVER, \
            "the standby took %.2f s to take the lead from a hung leader" % took
        wait_until(lambda: escalations(table_records(pg)), 10,
                   what="the clock due in the gap to fire")
        fired = escalations(table_records(pg))[(iid, 1)]
        assert len(fired) == 1, fired
        data = fired[0]["data"]
        assert data["deadline"] == inc["ack_deadline"], data
        assert data["late_ms"] > 0, data
        assert data["late_ms"] <= (time.time() - deadline) * 1000 + 500, data
        sink.wait_delivered("incident.escalated", iid, {"zhang", "li", "wang"})
    finally:
        os.kill(pid, signal.SIGCONT)

    # Woken up, the old leader must not answer 2xx: its session is gone.
    status = report_status(leader, "after-wake")
    assert status in (503, None), status
    wait_leader([leader, standby])
    assert role(standby) == "leader", "the old leader took the lead back"
    assert leader.proc.poll() is None and leader.proc.pid == pid
    assert healthz(standby).status == 200

    # Once, and nobody was called twice about it.
    r = standby.report(key="marker")
    assert r.status == 201, r
    sink.wait_delivered("incident.new", r.json["id"], {"zhang", "li"})
    records = table_records(pg)
    assert len(escalations(records)[(iid, 1)]) == 1
    assert not [x for x in records if x["event"] == "report.received"
                and x["data"].get("idempotency_key") == "after-wake"]
    for who in ("zhang", "li", "wang"):
        got = [x for x in sink.all("incident.escalated", iid)
               if x["body"]["recipient"]["id"] == who]
        assert len(got) == 1, (who, [x["headers"].get("X-Dutyd-Delivery") for x in got])
    verify_table(pg)
    verify_audit(pg)


def test_file_log_imported_then_served(pg, dutyd_from, make_dutyd, sink):
    f = make_dutyd().start()
    ids = {}
    for k in ("imp-1", "imp-2", "imp-3"):
        r = f.report(key=k, title="报告" + k, occurred_at=WHEN)
        assert r.status == 201, r
        ids[k] = r.json["id"]
    r = f.call("POST", "/api/v1/incidents/%s/ack" % ids["imp-1"], "secret-zhang", {})
    assert r.status == 200, r
    sink.wait_delivered("incident.new", ids["imp-3"], {"zhang", "li"})
    f.stop()
    lines = []
    for path in audit_files(f.state_dir):
        with open(path, "rb") as fh:
            lines += fh.read().split(b"\n")[:-1]

    d = make_instance(dutyd_from, pg, sink, "duty-a")
    rc, out, err = run_dutyd("--import-audit", f.state_dir, "-c", d.config_path)
    assert rc == 0, "dutyd --import-audit exited %d:\n%s%s" % (rc, out, err)
    assert [line for _, line in table_lines(pg)] == lines, "the table differs from the file log"
    verify_audit(pg)

    d.start()
    wait_until(lambda: role(d) == "leader", 30 if SANITIZED else 10, what="the lead")
    r = d.call("GET", "/api/v1/incidents?state=all", "secret-zhang")
    assert r.status == 200, r
    listed = {i["id"]: i for i in r.json["incidents"]}
    assert set(ids.values()) <= set(listed), (ids, list(listed))
    assert listed[ids["imp-1"]]["state"] == "acknowledged", listed[ids["imp-1"]]
    # Keys survive the move; new reports continue the chain.
    r = d.report(key="imp-2", title="报告imp-2", occurred_at=WHEN)
    assert r.status == 200 and r.json["id"] == ids["imp-2"], r
    r = d.report(key="imp-4", title="报告imp-4", occurred_at=WHEN)
    assert r.status == 201, r
    assert r.json["id"] not in ids.values()
    n = verify_table(pg)
    assert n > len(lines)
    verify_audit(pg)


def test_leader_cut_from_the_database_becomes_a_standby(pg, dutyd_from, sink):
    leader, standby = pair(pg, dutyd_from, sink)
    pid = leader.proc.pid
    with Load([leader, standby], "cut") as load:
        wait_until(lambda: len(load.acked()) >= 10, what="reports acknowledged")
        terminate_sessions(pg, leader.instance)
        t_cut = time.monotonic()
        first = wait_until(lambda: load.first_201(standby.instance, t_cut), 30,
                           what="a 201 from the new leader")
        assert wait_leader([leader, standby])[0] is standby
    took = first[4] - t_cut
    record_timing("session cut->first 201", took)
    assert took <= TAKEOVER, "the standby took %.2f s to answer 201 after the " \
        "leader's session ended" % took
    after = [a for a in load.snapshot() if a[0] == leader.instance and a[3] >= t_cut]
    ok = [a for a in after if a[5] is not None and 200 <= a[5] < 300]
    assert not ok, "the leader answered 2xx after its session ended: %s" % ok[:5]
    # By itself, in place: the same process, re-executed.
    assert leader.proc.poll() is None and leader.proc.pid == pid
    load.check_answers()
    check_every_201_once(pg, load.acked())
    verify_table(pg)
    verify_audit(pg)


@pytest.mark.plain_pass
def test_lone_leader_cut_from_the_database_leads_again(pg, dutyd_from, sink):
    d = make_instance(dutyd_from, pg, sink, "duty-a").start()
    wait_until(lambda: role(d) == "leader", 30 if SANITIZED else 10, what="the lead")
    pid = d.proc.pid
    assert d.report(key="before").status == 201
    terminate_sessions(pg, d.instance)
    # Alone, it may lead again at once; a 201 then is a committed report.
    cut = report_status(d, "cut")
    assert cut in (201, 503, None), cut
    wait_until(lambda: role(d) == "leader", 30 if SANITIZED else 10,
               what="the lead taken again")
    assert d.proc.poll() is None and d.proc.pid == pid
    r = d.report(key="after")
    assert r.status == 201, r
    keys = [x["data"].get("idempotency_key") for x in table_records(pg)
            if x["event"] == "report.received"]
    assert keys == (["before", "cut", "after"] if cut == 201 else ["before", "after"]), keys
    verify_table(pg)
    verify_audit(pg)


def test_a_dutyd_started_before_the_schema_waits_for_it(pg, dutyd_from, sink):
    """Started on a database nobody ran --init-store on: it serves as a
    standby (503, so no traffic comes), says what to run, and leads by
    itself once the schema is there."""
    d = make_instance(dutyd_from, pg, sink, "duty-a", init=False).start()
    wait_until(lambda: "--init-store" in d.stderr(), 30 if SANITIZED else 10,
               what="the log to say to run dutyd --init-store")
    h = healthz(d)
    assert h.status == 503 and h.json["role"] == "standby", h
    r = d.report(key="early")
    assert r.status == 503 and r.headers.get("Retry-After") == "1", r
    rc, out, err = run_dutyd("--init-store", "-c", d.config_path)
    assert rc == 0, "dutyd --init-store exited %d:\n%s%s" % (rc, out, err)
    wait_until(lambda: role(d) == "leader", 30 if SANITIZED else 10,
               what="the lead once the schema is there")
    r = d.report(key="later")
    assert r.status == 201, r
    verify_table(pg)
    verify_audit(pg)


@pytest.mark.plain_pass
@pytest.mark.slow(4)
def test_delivery_in_flight_at_the_kill_is_resent_by_the_new_leader(pg, dutyd_from, sink):
    """The receiver hangs on the leader's messages; the leader dies with
    them in flight: the new leader sends them again, with the same
    X-Dutyd-Delivery (so a receiver that did get them drops the copy), and
    records them delivered once."""
    leader, standby = pair(pg, dutyd_from, sink)
    sink.hold.clear()
    r = leader.report(key="in-flight")
    assert r.status == 201, r
    iid = r.json["id"]

    def arrived():
        with sink.lock:
            return [a for a in sink.arrived if iid.encode() in a["raw"]]
    try:
        wait_until(lambda: len(arrived()) >= 2, what="both deliveries in flight")
        held = {a["headers"]["X-Dutyd-Delivery"] for a in arrived()}
        assert len(held) == 2, held
        # Arrivals from here on are the new leader's: the held two came
        # before.  Stamped before the kill, not after: the standby may take
        # over and resend before kill() returns (the dying process's
        # sessions end before its parent hears of it), or while a loaded
        # machine keeps this thread waiting, and a resend stamped earlier
        # than t_kill went unseen: "resent to []" after 60 s.
        t_kill = time.time()
        leader.kill()
    finally:
        sink.hold.set()

    def resent():
        return {json.loads(a["raw"])["recipient"]["id"]: a for a in arrived()
                if a["at"] > t_kill}
    # What is asserted here is the resending, not its speed (the takeover's
    # time is test_sigkill_of_the_leader_under_load's): beside both passes of
    # make check on a loaded machine it took over 10 s twice.
    try:
        wait_until(lambda: set(resent()) == {"zhang", "li"}, 60,
                   what="the new leader to send the deliveries in flight again")
    except AssertionError as e:
        # Seen once beside both passes of make check: what each dutyd said
        # is what tells a slow takeover from a lost resend.
        raise AssertionError("%s; resent to %s\n--- %s:\n%s\n--- %s:\n%s" % (
            e, sorted(resent()), leader.instance, leader.stderr()[-3000:],
            standby.instance, standby.stderr()[-3000:])) from None
    assert {a["headers"]["X-Dutyd-Delivery"] for a in resent().values()} == held
    assert role(standby) == "leader"

    def recorded():
        recs = table_records(pg)
        intents = {x["seq"] for x in recs if x["event"] == "notify.intent"
                   and x.get("incident") == iid and x["data"]["event"] == "incident.new"}
        return [x for x in recs if x["event"] == "notify.attempt"
                and x["data"]["intent"] in intents and x["data"]["outcome"] == "delivered"]
    wait_until(lambda: len(recorded()) == 2, what="both deliveries recorded delivered")
    check_delivered_once(table_records(pg))
    verify_table(pg)


def test_reload_keeps_the_store_it_started_with(pg, dutyd_from, sink):
    """SIGHUP with the store: section changed is refused as a whole (the old
    configuration stays, the refusal is recorded); with only the policy
    changed it reloads as with the file log."""
    d = make_instance(dutyd_from, pg, sink, "duty-a").start()
    wait_until(lambda: role(d) == "leader", 30 if SANITIZED else 10, what="the lead")

    def reload(text):
        with open(d.config_path, "w") as f:
            f.write(text)
        n = len(table_records(pg))
        d.proc.send_signal(signal.SIGHUP)
        return wait_until(lambda: [x for x in table_records(pg)[n:]
                                   if x["event"] in ("config.reloaded", "config.reload_failed")],
                          30 if SANITIZED else 10, what="the reload recorded")[0]
    rec = reload(d.config_text.replace('instance: "duty-a"', 'instance: "duty-z"'))
    assert rec["event"] == "config.reload_failed", rec
    assert "store" in rec["data"]["reason"], rec
    h = healthz(d)
    assert h.status == 200 and h.json["instance"] == "duty-a", h
    assert d.report(key="after-refused").status == 201

    rec = reload(d.config_text.replace("ack_timeout: 20m", "ack_timeout: 15m"))
    assert rec["event"] == "config.reloaded", rec
    r = d.report(key="after-reload")
    assert r.status == 201, r
    assert abs(parse_time(r.json["ack_deadline"]) - parse_time(r.json["received_at"])
               - 15 * 60) < 0.01, r.json
    assert role(d) == "leader"
    verify_table(pg)
