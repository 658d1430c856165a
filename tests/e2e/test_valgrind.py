"""Orderly shutdown frees everything: a whole lifecycle under valgrind
(memcheck) ends with no errors and nothing definitely or indirectly lost.

valgrind cannot run the ASan build, so this always checks the plain binary;
in the sanitizer pass LeakSanitizer also checks the ASan one at every stop.
make check runs it once, in the plain pass (plain_pass): the sanitizer pass
ran the same plain binary through the same steps again.
"""
import os
import signal

import pytest

from conftest import ROOT, wait_until

PLAIN = os.path.join(ROOT, "build", "dutyd")
PLAIN_PLUGINS = os.path.join(ROOT, "build", "plugins")


@pytest.mark.plain_pass
@pytest.mark.slow(5)
def test_valgrind_clean_lifecycle(make_dutyd, sink):
    sink.script["zhang"] = [500]          # one retry on the way
    d = make_dutyd(ack_timeout="3s", report_deadline="4s", plugin_dir=PLAIN_PLUGINS)
    log = str(d.tmp / "valgrind.log")
    # valgrind is the most CPU-hungry process of the suite: at a lower
    # priority it does not starve the timing-sensitive tests that run beside
    # it (pytest-xdist), and this test's own waits allow for it (90 s).
    d.start(binary=PLAIN, wrap=["nice", "-n", "10",
                                "valgrind", "--quiet", "--leak-check=full",
                                "--show-leak-kinds=definite,indirect",
                                "--errors-for-leak-kinds=definite,indirect",
                                "--error-exitcode=97", "--log-file=" + log])
    iid = d.report(key="vg-1", occurred_at="2026-11-28T14:05:00+08:00").json["id"]
    assert d.report(key="vg-1", occurred_at="2026-11-28T14:05:00+08:00").status == 200
    sink.wait_delivered("incident.new", iid, {"zhang", "li"}, timeout=90)
    sink.wait_delivered("incident.escalated", iid, {"li", "wang"}, timeout=90)
    assert d.call("POST", "/api/v1/incidents/%s/ack" % iid, "secret-zhang").status == 200
    d.proc.send_signal(signal.SIGHUP)     # a reload builds a whole new config
    wait_until(lambda: any(r["event"] == "config.reloaded" for r in d.audit()),
               timeout=90, what="the reload")
    assert d.call("POST", "/api/v1/incidents/%s/resolve" % iid, "secret-li").status == 200
    assert d.call("GET", "/api/v1/incidents/" + iid, "secret-li").status == 200
    assert d.call("POST", "/api/v1/reports", "secret-a", raw=b"{bad").status == 400
    d.stop()                              # asserts exit status 0
    assert open(log).read() == "", open(log).read()
