#!/usr/bin/python3
"""How long a report takes to reach the event streams (GET /api/v1/stream):
STREAMS staff streams open (default 64, console.max_streams' default), REPORTS
reports posted one after another; for each, the time from sending the POST to
the `event: incident` about it arriving on the last of the streams.  Prints
the median, 99th percentile and maximum, and dutyd's CPU time per report.

    DUTYD_BIN=build/dutyd DUTYD_PLUGIN_DIR=build/plugins bench/stream.py [STREAMS] [REPORTS]

The readers are Python threads on the same 2 cores as dutyd: the figures are
an upper bound of what a browser on another machine sees.
"""
import os
import pathlib
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "tests", "e2e"))
import conftest  # noqa: E402
from test_stream import Stream  # noqa: E402


def main():
    nstreams = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    nreports = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    sink = conftest.Sink(secret="hmac-secret")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="dutyd-bench-stream-"))
    # Streams count against the connections one address may hold (64 by
    # default): all of them come from 127.0.0.1 here.
    d = conftest.Dutyd(tmp, sink, extra="console:\n  max_streams: %d\nlimits:\n"
                       "  connections_per_source: %d\n" % (max(nstreams, 1), nstreams + 64))
    d.start()
    try:
        streams = [Stream(d, token="secret-zhang") for _ in range(nstreams)]
        assert all(s.status == 200 for s in streams)
        seen = {}          # incident id -> [arrival times]
        lock = threading.Lock()

        def watch(s):
            done = 0
            while True:
                try:
                    s.wait(lambda x: len(x.events) > done, timeout=60)
                except AssertionError:
                    return
                now = time.monotonic()
                with lock:
                    for e in s.events[done:]:
                        if e["event"] == "incident":
                            seen.setdefault(e["data"]["id"], {}).setdefault(id(s), now)
                done = len(s.events)
        for s in streams:
            threading.Thread(target=watch, args=(s,), daemon=True).start()
        with open("/proc/%d/stat" % d.proc.pid) as f:
            f0 = f.read().split()
        lat = []
        for i in range(nreports):
            t0 = time.monotonic()
            inc = d.report(title="基准 %d" % i).json["id"]
            conftest.wait_until(lambda: len(seen.get(inc, {})) == nstreams, timeout=30,
                                interval=0.001, what="every stream")
            # No stream (the baseline): the report's answer.
            lat.append(max(seen[inc].values()) - t0 if nstreams else time.monotonic() - t0)
        with open("/proc/%d/stat" % d.proc.pid) as f:
            f1 = f.read().split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(f1[13]) + int(f1[14]) - int(f0[13]) - int(f0[14])) / ticks
        lat.sort()
        print("%d streams, %d reports: report -> event on every stream: median %.1f ms, "
              "p99 %.1f ms, max %.1f ms; dutyd CPU %.2f ms per report (notifications "
              "included)" % (nstreams, nreports, 1000 * lat[len(lat) // 2],
                             1000 * lat[int(len(lat) * 0.99) - 1], 1000 * lat[-1],
                             1000 * cpu / nreports))
        for s in streams:
            s.close()
    finally:
        d.stop()
        d.close()
        sink.close()


if __name__ == "__main__":
    main()
