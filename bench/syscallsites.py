#!/usr/bin/env python3
"""Which code makes each syscall of a report and its deliveries.

`figures.py --only syscalls` counts syscalls per report; this says where
they come from: dutyd under `strace -f -k` over N reports (one connection by
default, after 50 of warm-up) and their two webhook deliveries each, every
syscall grouped by its name and the first frames of dutyd or libevent on its
stack (a library's own frames shown as [curl], [crypto], [lib]).

    make B=build/x build/x/bench/sink build/x/bench/loadgen
    bench/syscallsites.py --build build/x [-n 20] [-c 1] [--keep FILE]

On h-deliver (2e560df), one connection, 10 reports (load average 26): per
report poll 6.0, sendto 2.0 and recvfrom 2.0, all curl's under
curlfetch_timer_cb (poll: the kept connection's liveness check before
reuse, then readability in the PERFORM state, which a timer-driven
socket_action cannot know); write 4.0 (one per record: the report, the
intent, two attempts); epoll_ctl 3.4, readv, ioctl and writev are the
intake connections' bufferevents, not curl's.  The counts follow the
timing (32 connections: poll 4.0 per report, figures.py --only syscalls).

On h-sys (775c68c), 32 connections, 400 reports: 14.6 each, of which curl's
poll 4.2, sendto 2.0 and recvfrom 2.0 (libcurl 7.88 polls a kept connection
before reusing it and again after sending, when socket_action came from its
timer: no option turns either off); readv 1.1 and ioctl 1.1 (libevent's
evbuffer_read asks FIONREAD before every read); writev 1.0 (the answer,
written in the commit itself, no longer by a write event added and removed
around it); write 2.0 (the report and its intent: the deliveries' outcomes
are held for one write a turn).
"""
import argparse
import collections
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

WARM = 50


def frames(path, depth):
    """Counter of (syscall, frames) from strace -k output."""
    out = collections.Counter()
    name, stack = None, []

    def flush():
        if name:
            out[(name, " < ".join(stack[:depth]))] += 1

    with open(path) as f:
        for line in f:
            if not line.startswith(" >"):
                m = re.match(r"^\d+ +([a-z_0-9]+)\(", line)
                flush()
                name, stack = (m.group(1) if m else None), []
                continue
            m = re.search(r"\(([A-Za-z_][A-Za-z0-9_]*)\+0x", line)
            where = line.split("(")[0]
            if "dutyd" in where or "libevent" in where:
                if m:
                    stack.append(m.group(1))
            elif "libc.so" not in where:
                lib = ("[curl]" if "libcurl" in where else
                       "[crypto]" if "libcrypto" in where or "libssl" in where else "[lib]")
                if not stack or stack[-1] != lib:
                    stack.append(lib)
        flush()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="the build dir (dutyd, plugins/, bench/)")
    ap.add_argument("-n", type=int, default=20, help="reports traced")
    ap.add_argument("-c", type=int, default=1, help="connections")
    ap.add_argument("--depth", type=int, default=5, help="frames shown")
    ap.add_argument("--keep", help="keep strace's output here")
    a = ap.parse_args()
    b = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="syscallsites-")
    sink = benchlib.Sink(os.path.join(b, "bench"), work)
    port = benchlib.free_port()
    state = os.path.join(work, "state")
    os.makedirs(state, mode=0o700)
    cfg = os.path.join(work, "dutyd.yaml")
    benchlib.dutyd_config(cfg, port, state, os.path.join(b, "plugins"), sink.port)
    d = benchlib.Dutyd(os.path.join(b, "dutyd"), cfg, port, work)
    trace = a.keep or os.path.join(work, "strace.out")
    try:
        d.start()
        benchlib.loadgen(os.path.join(b, "bench"), d.port, WARM, conns=a.c)
        sink.wait(WARM * 2, 120)
        d.wait_quiet(0.5)
        def load():
            benchlib.loadgen(os.path.join(b, "bench"), d.port, a.n, conns=a.c, first_tag=WARM)
            sink.wait((WARM + a.n) * 2, 120)
            d.wait_quiet(0.5)
        benchlib.strace_over(d.pid, ["-k"], trace, load)
    finally:
        d.stop()
        sink.close()
    counts = frames(trace, a.depth)
    total = sum(counts.values())
    print("%d syscalls over %d reports (%.1f each), %d connection(s)"
          % (total, a.n, total / a.n, a.c))
    for (name, where), n in sorted(counts.items(), key=lambda x: -x[1]):
        print("%6.2f  %-12s %s" % (n / a.n, name, where))


if __name__ == "__main__":
    main()
