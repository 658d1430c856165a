"""Durable before acknowledged: a report that cannot be written gets 503,
never 201; dutyd keeps running and recovers by itself."""
import os
import resource

from conftest import verify_chain, wait_until


def test_disk_full_gives_503_and_recovers(make_dutyd, sink):
    d = make_dutyd()
    d.start()
    first = d.report().json["id"]
    sink.wait_delivered("incident.new", first, {"zhang", "li"})
    wait_until(lambda: len([r for r in d.audit() if r["event"] == "notify.attempt"]) == 2,
               what="both deliveries recorded")
    size = os.path.getsize(d.audit_path)
    # Not one more byte fits: as good as a full disk for this file.
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
    statuses = [d.report(title="磁盘满时的报告%d" % i).status for i in range(5)]
    assert statuses == [503] * 5, statuses
    refused = d.report(title="磁盘满")
    assert refused.status == 503
    assert "could not be saved" in refused.json["error"]
    # A client or load balancer retries a 503 only when told when.
    assert int(refused.headers["Retry-After"]) > 0, refused.headers
    h = d.call("GET", "/healthz")
    assert h.status == 503 and "audit" in h.json["error"]
    assert int(h.headers["Retry-After"]) > 0, h.headers
    assert d.proc.poll() is None, "dutyd must keep running"
    r = d.call("POST", "/api/v1/incidents/%s/ack" % first, "secret-zhang")
    assert r.status == 503
    # Space returns: dutyd recovers without a restart.
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    ok = d.report(title="恢复后")
    assert ok.status == 201, ok
    wait_until(lambda: d.call("GET", "/healthz").status == 200, what="healthy again")
    r = d.call("POST", "/api/v1/incidents/%s/ack" % first, "secret-zhang")
    assert r.status == 200
    d.stop()
    # Every 201 is in the log, and the log is one unbroken chain.
    verify_chain(d.audit_path)
    titles = [r["data"]["report"]["title"] for r in d.audit() if r["event"] == "report.received"]
    assert "恢复后" in titles and "磁盘满" not in titles
    stderr = d.stderr()
    assert stderr.count("the audit log cannot be written") == 1, "logged once, not per request"
