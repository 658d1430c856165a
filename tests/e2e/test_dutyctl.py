"""dutyctl against the real dutyd: every command, its tables and --json,
and every exit status (0 done, 1 refused, 64 usage, 69 unreachable or 5xx)."""
import json
import os
import re
import resource
import shutil
import subprocess
import unicodedata

from conftest import BIN, wait_until

DUTYCTL = os.path.join(os.path.dirname(BIN), "dutyctl")


def ctl(d, *args, token="secret-zhang", env=None, server=True):
    e = dict(os.environ)
    for k in ("DUTYD_SERVER", "DUTYD_TOKEN"):
        e.pop(k, None)
    e.update(env or {})
    argv = [DUTYCTL]
    if server:
        argv += ["--server", "http://%s:%d" % (d.host, d.port)]
    if token is not None:
        argv += ["--token", token]
    p = subprocess.run(argv + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=e, timeout=60)
    err = p.stderr.decode()
    assert "Sanitizer" not in err and "runtime error" not in err, err
    return p.returncode, p.stdout.decode(), err


def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def test_the_desk_works_a_phoned_in_report_through(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    rc, out, _ = ctl(d, "list")
    assert (rc, out) == (0, "no open incidents\n")

    # A report phoned in: taken in zhang's name, the office's report.
    rc, out, err = ctl(d, "report", "--office", "county-a", "--title", "某镇化工厂爆炸",
                       "--level", "II", token="secret-zhang")
    assert rc == 0, err
    iid = out.split()[0]
    assert iid.startswith("INC-") and "A县应急管理局" in out
    sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    [rec] = [r for r in d.audit() if r["event"] == "report.received"]
    assert rec["actor"] == "person:zhang" and rec["data"]["source"] == "phone", rec
    assert rec["incident"] == iid and rec["data"]["office"] == "county-a", rec
    rc, out, err = ctl(d, "report", "--office", "county-a", "--title", "短", "--json",
                       "--occurred-at", "2026-11-28T14:05:00+08:00", token="secret-zhang")
    assert rc == 0, err
    second = json.loads(out)
    assert second["title"] == "短" and second["occurred_at"] == "2026-11-28T14:05:00+08:00"

    # The table lines up by display width, Chinese two columns wide.
    rc, out, _ = ctl(d, "list")
    assert rc == 0
    lines = out.splitlines()
    assert len(lines) == 3 and iid in out
    starts = [[width(line[:m.start()]) for m in re.finditer(r"(?:^|(?<=  ))\S", line)]
              for line in lines]
    assert lines[0].split()[:4] == ["ID", "STATE", "OFFICE", "TITLE"]
    assert len(starts[0]) == 8 and all(st == starts[0] for st in starts), out

    rc, out, _ = ctl(d, "show", iid)
    assert rc == 0 and "某镇化工厂爆炸" in out and "report.received" in out
    rc, out, _ = ctl(d, "--json", "show", iid)
    assert rc == 0 and json.loads(out)["id"] == iid

    rc, out, err = ctl(d, "ack", iid, "--note", "已电话核实")
    assert rc == 0, err
    assert out == "%s acknowledged; state: acknowledged\n" % iid
    rc, out, _ = ctl(d, "file", iid, "--reference", "A应急〔2026〕12号")
    assert rc == 0 and "written report recorded as filed" in out
    rc, out, _ = ctl(d, "resolve", iid, "--note", "处置完毕", "--json")
    assert rc == 0 and json.loads(out)["state"] == "resolved"
    rc, out, _ = ctl(d, "list")
    assert rc == 0 and iid not in out and second["id"] in out
    rc, out, _ = ctl(d, "list", "--all")
    assert rc == 0 and iid in out and "resolved" in out
    rc, out, _ = ctl(d, "list", "--all", "--json")
    assert rc == 0 and json.loads(out)["count"] == 2

    rc, out, _ = ctl(d, "oncall")
    assert rc == 0 and "李强 (li)" in out and "张伟 (zhang)" in out
    rc, out, _ = ctl(d, "oncall", "--at", "2026-11-30T10:00:00+08:00", "--json")
    assert rc == 0 and json.loads(out)["leader"]["person"] == "li"

    # The server refuses: exit 1 with its message.
    rc, _, err = ctl(d, "ack", iid)
    assert rc == 1 and "dutyd answered 409" in err
    rc, _, err = ctl(d, "show", "INC-20990101-0001")
    assert rc == 1 and "dutyd answered 404" in err
    rc, _, err = ctl(d, "oncall", "--at", "tomorrow")
    assert rc == 1 and "(field: at)" in err
    rc, _, err = ctl(d, "list", token="wrong-token")
    assert rc == 1 and "dutyd answered 401" in err
    # An office's own token is for its API, not for the desk's phone log.
    rc, _, err = ctl(d, "report", "--office", "county-b", "--title", "x", token="secret-a")
    assert rc == 1 and "office" in err, err
    rc, _, err = ctl(d, "report", "--office", "nowhere", "--title", "x", token="secret-zhang")
    assert rc == 1 and "office" in err, err

    # Token from the environment and from a file; server from the environment.
    path = d.tmp / "token"
    path.write_text("secret-li\n")
    rc, out, _ = ctl(d, "--token-file", str(path), "list", token=None)
    assert rc == 0 and second["id"] in out
    rc, out, _ = ctl(d, "list", token=None, server=False,
                     env={"DUTYD_TOKEN": "secret-li",
                          "DUTYD_SERVER": "http://%s:%d" % (d.host, d.port)})
    assert rc == 0 and second["id"] in out
    d.stop()

    # Offline: the audit log checked without the server.
    rc, out, _ = ctl(d, "verify-audit", d.state_dir, token=None, server=False)
    assert rc == 0 and "the chain is intact" in out
    broken = d.tmp / "broken"
    shutil.copytree(d.state_dir, broken)
    log = broken / "audit.log"
    log.write_bytes(log.read_bytes().replace("某镇化工厂爆炸".encode(), "某镇化工厂起火".encode(), 1))
    rc, out, _ = ctl(d, "--json", "verify-audit", str(broken), token=None, server=False)
    assert rc == 1 and json.loads(out)["intact"] is False


def test_usage_and_unreachable(make_dutyd):
    d = make_dutyd()
    for args in (["frobnicate"], ["show"], ["list", "--note", "x"], ["file", "INC-1"],
                 ["report", "--title", "x"], ["list", "extra"], ["list", "--server"], []):
        rc, _, err = ctl(d, *args)
        assert rc == 64, (args, err)
        assert "usage: dutyctl" in err
    rc, _, err = ctl(d, "list", token=None)
    assert rc == 64 and "no token" in err
    # Nobody listens on 127.0.0.2 at the port the harness holds on
    # 127.0.0.1 (see test_listen.py): a stopped server.
    rc, _, err = ctl(d, "list", "--server", "http://127.0.0.2:%d" % d.port, server=False)
    assert rc == 69 and "cannot reach dutyd" in err


def test_a_failing_server_is_69(make_dutyd, sink):
    """A 5xx (the audit log cannot be written) is the server's trouble, not
    the request's: 69, as for a server that cannot be reached."""
    d = make_dutyd()
    d.start()
    size = os.path.getsize(d.audit_path)
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
    try:
        rc, _, err = ctl(d, "report", "--office", "county-a", "--title", "写不进去",
                         token="secret-zhang")
        assert rc == 69 and "dutyd answered 503" in err, err
    finally:
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    wait_until(lambda: ctl(d, "report", "--office", "county-a", "--title", "又能写了",
                           token="secret-zhang")[0] == 0, 10, what="reports accepted again")
    d.stop()
