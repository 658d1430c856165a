"""The PostgreSQL store's tools, on a throwaway PostgreSQL (pgserver.py):
`dutyd --init-store` makes the schema once and says so; `--import-audit`
moves a verified file log into an empty table byte for byte, with its
checkpoints and its one-tap link key, and refuses a damaged log, a table
that holds records, and a database a dutyd leads; `--verify-audit URI`
judges the table as the file check judges files."""
import hashlib
import os

import pytest

import pgserver
from conftest import audit_files, run_dutyd, wait_until, whole_lines


LOCK_KEY = 0x6475747964


def tool(*args):
    """A dutyd command run to its end, checked clean under the sanitizers too."""
    rc, out, err = run_dutyd(*args)
    assert "Sanitizer" not in err and "runtime error" not in err, err
    return rc, out, err


@pytest.fixture
def pg():
    """The worker's PostgreSQL with an empty database dutyd (a test may stop
    the server: the next test's fixture starts it again)."""
    return pgserver.fresh_database()


def down(pg):
    """PG's conninfo with no server there: a directory without the socket
    file, which is what a stopped server leaves (it removes its socket), so
    the client meets the same refusal; the worker's server keeps running
    (a stop and a start cost the next test 0.3 CPU-s)."""
    return pg.conninfo.replace("host=%s " % pg.sock, "host=%s " % os.path.dirname(pg.sock))


def store_config(d, conninfo, name="pg.yaml"):
    """D's configuration with a store: section for CONNINFO."""
    with open(d.config_path) as f:
        text = f.read()
    path = str(d.tmp / name)
    with open(path, "w") as f:
        f.write(text + '\nstore:\n  postgresql:\n    conninfo: "%s"\n'
                '    instance: "duty-a"\n' % conninfo)
    return path


def file_lines(state_dir):
    out = []
    for path in audit_files(state_dir):
        with open(path, "rb") as f:
            out.extend(whole_lines(f.read()))
    return out


def table_lines(pg):
    # Each line's bytes as hex: no client's decoding can blur a byte.
    rows = pg.sql("SELECT seq, encode(convert_to(line, 'UTF8'), 'hex') "
                  "FROM dutyd_audit ORDER BY seq")
    assert [int(s) for s, _ in rows] == list(range(1, len(rows) + 1))
    return [bytes.fromhex(h) for _, h in rows]


def filled(make_dutyd, extra="", reports=5):
    """A file-log dutyd that took REPORTS reports (some of them acknowledged), stopped."""
    d = make_dutyd(extra=extra).start()
    d.ids = []
    for i in range(reports):
        r = d.report(title="化工厂爆炸%d" % i, details="现场\t有\\烟\n请\"核实\"")
        assert r.status == 201, r
        d.ids.append(r.json["id"])
        if i % 2 == 0:
            assert d.call("POST", "/api/v1/incidents/%s/ack" % r.json["id"],
                          "secret-zhang").status == 200
    d.stop()
    return d


def incidents(d):
    r = d.call("GET", "/api/v1/incidents?limit=1000", "secret-zhang")
    assert r.status == 200, r
    return {i["id"]: i["state"] for i in r.json["incidents"]}


def lead_on(d, cfg):
    """D started on CFG (a PostgreSQL store): returns once it leads."""
    d.config_path = cfg
    d.start()
    wait_until(lambda: d.call("GET", "/healthz").status == 200, 30, what="the lead")


def test_init_store_creates_the_schema_once(pg, make_dutyd):
    d = make_dutyd()
    cfg = store_config(d, pg.conninfo)
    rc, out, err = tool("--init-store", "-c", cfg)
    assert rc == 0, err
    assert "created the dutyd schema (version 1) in database dutyd" in out, out
    assert pg.sql("SELECT value FROM dutyd_meta WHERE key = 'schema_version'") == [("1",)]
    for table in ("dutyd_audit", "dutyd_checkpoint", "dutyd_secret", "dutyd_leader"):
        assert pg.sql("SELECT to_regclass('%s') IS NOT NULL" % table) == [("t",)], table
    rc, out, err = tool("--init-store", "-c", cfg)
    assert rc == 0, err
    assert "the dutyd schema (version 1) is already there" in out, out


def test_init_store_says_what_to_do(pg, make_dutyd):
    d = make_dutyd()
    cfg = store_config(d, down(pg))
    rc, out, err = tool("--init-store", "-c", cfg)
    assert rc != 0
    assert "cannot connect to PostgreSQL" in err, err
    assert "check store.postgresql.conninfo in %s and that PostgreSQL runs" % cfg in err, err
    rc, out, err = tool("--init-store", "-c", d.config_path)
    assert rc != 0
    assert "has no store.postgresql; the file log needs no --init-store" in err, err


def test_verify_an_unreachable_or_empty_database(pg, make_dutyd):
    rc, out, err = tool("--verify-audit", pg.url())
    assert rc == 2
    assert "holds no dutyd schema" in err and "--init-store" in err, err
    rc, out, err = tool("--verify-audit", down(pg))
    assert rc == 2
    assert "cannot connect to PostgreSQL" in err, err


@pytest.mark.plain_pass
@pytest.mark.slow(3)
def test_import_copies_the_log_byte_for_byte_and_verifies(pg, make_dutyd):
    d = filled(make_dutyd)
    cfg = store_config(d, pg.conninfo)
    assert tool("--init-store", "-c", cfg)[0] == 0
    lines = file_lines(d.state_dir)
    rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
    assert rc == 0, err
    assert "imported %d records (seq 1..%d) from %s; chain verified" \
        % (len(lines), len(lines), d.state_dir) in out, out
    assert table_lines(pg) == lines
    # Links sent before the move still open: the same key signs them.
    with open(os.path.join(d.state_dir, "links.key"), "rb") as f:
        key = f.read()
    assert pg.sql("SELECT encode(value, 'hex') FROM dutyd_secret WHERE name = 'links.key'") \
        == [(key.hex(),)]
    for target in (pg.url(), pg.url().replace("postgresql://", "postgres://"), pg.conninfo):
        rc, out, err = tool("--verify-audit", target)
        assert rc == 0, out + err
        assert "the chain is intact" in out, out
        assert "records: %d" % len(lines) in out, out
        assert "last line sha256: %s" % hashlib.sha256(lines[-1]).hexdigest() in out, out

    # A second import finds records there and touches nothing.
    rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
    assert rc == 1
    assert "already holds %d records; import only into an empty store" % len(lines) in err, err
    assert table_lines(pg) == lines

    # The site goes on where it was: the incidents, their states, the chain.
    before = {i: ("acknowledged" if n % 2 == 0 else "open") for n, i in enumerate(d.ids)}
    lead_on(d, cfg)
    assert incidents(d) == before
    r = d.report(title="迁移后的第一份报告")
    assert r.status == 201, r
    d.stop()
    assert table_lines(pg)[:len(lines)] == lines
    rc, out, err = tool("--verify-audit", pg.url())
    assert rc == 0 and "the chain is intact" in out, out + err


@pytest.mark.plain_pass
@pytest.mark.slow(3)
def test_verify_names_the_first_bad_seq(pg, make_dutyd):
    d = filled(make_dutyd)
    cfg = store_config(d, pg.conninfo)
    assert tool("--init-store", "-c", cfg)[0] == 0
    assert tool("--import-audit", d.state_dir, "-c", cfg)[0] == 0
    pg.sql("UPDATE dutyd_audit SET line = replace(line, '\"ts\":\"2', '\"ts\":\"1') "
           "WHERE seq = 3")
    rc, out, err = tool("--verify-audit", pg.url())
    assert rc == 1, out + err
    assert "the first bad record is seq 3" in out and "edited" in out, out
    assert "last good seq: 2" in out, out
    assert "the chain is BROKEN" in out, out

    pg.sql("UPDATE dutyd_audit SET line = (SELECT line FROM dutyd_audit WHERE seq = 4) "
           "WHERE seq = 3")
    pg.sql("DELETE FROM dutyd_audit WHERE seq = 4")
    rc, out, err = tool("--verify-audit", pg.conninfo)
    assert rc == 1, out + err
    assert "the first bad record is seq 3" in out, out


@pytest.mark.plain_pass
@pytest.mark.slow(3)
def test_import_refuses_a_damaged_file_log(pg, make_dutyd):
    d = filled(make_dutyd)
    cfg = store_config(d, pg.conninfo)
    assert tool("--init-store", "-c", cfg)[0] == 0
    with open(d.audit_path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    lines[3] = lines[3].replace(b'"ts":"2', b'"ts":"1')
    with open(d.audit_path, "wb") as f:
        f.write(b"\n".join(lines))
    rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
    assert rc == 1
    assert "the first bad record is seq 4" in err and "nothing was imported" in err, err
    assert pg.sql("SELECT count(*) FROM dutyd_audit") == [("0",)]


@pytest.mark.plain_pass
@pytest.mark.slow(4)
def test_import_refuses_while_a_dutyd_runs(pg, make_dutyd):
    d = filled(make_dutyd, reports=1)
    cfg = store_config(d, pg.conninfo)
    assert tool("--init-store", "-c", cfg)[0] == 0

    # A dutyd on the file log: its log would grow under the copy.
    d.start()
    rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
    assert rc == 1
    assert "a dutyd (pid %d) is running with state_dir" % d.proc.pid in err, err
    d.stop()

    # A dutyd leading on the database: a session holds the leader's lock.
    pg.sql("INSERT INTO dutyd_leader VALUES (1, 'duty-b', 4242, now())")
    holder = pg.connect()
    try:
        holder.cursor().execute("SELECT pg_advisory_lock(%d)" % LOCK_KEY)
        wait_until(lambda: pg.sql("SELECT count(*) FROM pg_locks WHERE locktype = "
                                  "'advisory' AND granted") == [("1",)],
                   what="the lock to be held")
        rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
        assert rc == 1
        assert "a dutyd is running on this database (instance duty-b); stop it first" \
            in err, err
    finally:
        # Released before the session ends, so that the import below does
        # not race the server's clean-up of a closed session.
        holder.cursor().execute("SELECT pg_advisory_unlock_all()")
        holder.close()
    assert pg.sql("SELECT count(*) FROM dutyd_audit") == [("0",)]
    rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
    assert rc == 0, err


@pytest.mark.plain_pass
@pytest.mark.slow(5)
def test_import_of_segments_writes_their_checkpoints(pg, make_dutyd):
    d = make_dutyd(extra="audit:\n  segment_size: 4KiB\n  reserve: 0\n").start()
    keep = d.report(title="长期未结事件").json["id"]
    for i in range(300):
        closed = [p for p in audit_files(d.state_dir) if not p.endswith("/audit.log")]
        if len(closed) >= 3:
            break
        r = d.report(title="填充%d" % i, details="现场情况说明。" * 150)
        assert r.status == 201, r
        assert d.call("POST", "/api/v1/incidents/%s/resolve" % r.json["id"],
                      "secret-li").status == 200
    d.stop()
    cfg = store_config(d, pg.conninfo)
    assert tool("--init-store", "-c", cfg)[0] == 0
    rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
    assert rc == 0, err
    assert table_lines(pg) == file_lines(d.state_dir)
    rows = pg.sql("SELECT c.begin_seq, c.end_seq, b.line::json->>'event', "
                  "e.line::json->>'event' FROM dutyd_checkpoint c "
                  "JOIN dutyd_audit b ON b.seq = c.begin_seq "
                  "JOIN dutyd_audit e ON e.seq = c.end_seq ORDER BY 1")
    assert len(rows) >= 3, rows
    for b, e, bev, eev in rows:
        assert (bev, eev) == ("checkpoint.begin", "checkpoint.end"), rows
        assert int(b) < int(e)
    rc, out, err = tool("--verify-audit", pg.url())
    assert rc == 0, out + err
    # A new leader replays from the newest checkpoint row and has every open incident.
    lead_on(d, cfg)
    assert incidents(d) == {keep: "open"}
    d.stop()

    # A checkpoint row that points elsewhere would make a new leader skip records.
    pg.sql("UPDATE dutyd_checkpoint SET begin_seq = begin_seq + 1 WHERE begin_seq = "
           "(SELECT max(begin_seq) FROM dutyd_checkpoint)")
    rc, out, err = tool("--verify-audit", pg.url())
    assert rc == 1, out + err
    assert "does not point at a checkpoint.begin" in out, out
    assert out.endswith("the checkpoint rows are BROKEN\n"), out


@pytest.mark.plain_pass
@pytest.mark.slow(3)
def test_links_sent_before_the_move_still_open(pg, make_dutyd):
    d = make_dutyd(extra="links:\n  ttl: 2h\n").start()
    iid = d.report(title="某镇化工厂爆炸").json["id"]
    d.sink.wait_delivered("incident.new", iid, ["zhang"])
    url = d.sink.delivered("incident.new", iid, "zhang")[0]["body"]["url"]
    token = url.rsplit("/a/", 1)[1]
    d.stop()
    cfg = store_config(d, pg.conninfo)
    assert tool("--init-store", "-c", cfg)[0] == 0
    rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
    assert rc == 0, err
    lead_on(d, cfg)
    r = d.call("POST", "/a/" + token, raw=("token=" + token).encode(),
               content_type="application/x-www-form-urlencoded")
    assert r.status == 200, r
    inc = d.call("GET", "/api/v1/incidents/" + iid, "secret-zhang").json
    assert inc["acknowledged_by"]["id"] == "zhang", inc
    d.stop()


def test_init_store_refuses_another_schema_version(pg, make_dutyd):
    d = make_dutyd()
    cfg = store_config(d, pg.conninfo)
    assert tool("--init-store", "-c", cfg)[0] == 0
    pg.sql("UPDATE dutyd_meta SET value = '2' WHERE key = 'schema_version'")
    rc, out, err = tool("--init-store", "-c", cfg)
    assert rc == 1
    assert "holds dutyd schema version 2; this dutyd knows version 1 only" in err, err
    rc, out, err = tool("--verify-audit", pg.url())
    assert rc == 2 and "version 2" in err, err


@pytest.mark.plain_pass
@pytest.mark.slow(4)
def test_import_leaves_out_a_torn_tail_and_refuses_accepted_damage(pg, make_dutyd):
    d = filled(make_dutyd, reports=2)
    cfg = store_config(d, pg.conninfo)
    assert tool("--init-store", "-c", cfg)[0] == 0
    lines = file_lines(d.state_dir)
    with open(d.audit_path, "ab") as f:
        f.write(b'{"seq":%d,"ts":"2026-' % (len(lines) + 1))
    rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
    assert rc == 0, err
    assert "note: left out the torn last record" in out, out
    assert table_lines(pg) == lines

    # Damage accepted by --accept-broken-chain still holds a break: refused.
    pg.sql("TRUNCATE dutyd_audit, dutyd_checkpoint, dutyd_secret")
    data = open(d.audit_path, "rb").read()
    data = data[:data.rfind(b"\n") + 1]
    recs = data.split(b"\n")
    recs[2] = recs[2].replace(b'"ts":"2', b'"ts":"1')
    with open(d.audit_path, "wb") as f:
        f.write(b"\n".join(recs))
    d.start(args=["--accept-broken-chain"])
    d.stop()
    rc, out, err = tool("--import-audit", d.state_dir, "-c", cfg)
    assert rc == 1
    assert "the first bad record is seq 3" in err, err
    assert "accepted by --accept-broken-chain, but a PostgreSQL store takes only an " \
        "intact chain" in err, err
    assert pg.sql("SELECT count(*) FROM dutyd_audit") == [("0",)]
