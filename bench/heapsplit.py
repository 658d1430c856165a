#!/usr/bin/python3
"""Where the bytes of an open incident go: dutyd under valgrind's massif,
N reports through loadgen (two webhook deliveries each, to sink), a
detailed snapshot before and after (vgdb), and the difference by the first
dutyd frame that allocated (file:line), per incident.

    make B=build/x all build/x/bench/sink build/x/bench/loadgen
    bench/heapsplit.py --bin build/x/dutyd --plugins build/x/plugins \\
        --tools build/x/bench -n 2000

The heap (what malloc was asked for) and malloc's own overhead are printed
apart; RSS per incident (figures.py --only rss) is about their sum plus the
allocator's spacing.  2,000 reports take about 15 s under massif.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib   # noqa: E402
import figures    # noqa: E402

NODE = re.compile(r"^\s*n(\d+): (\d+) (.*)$")
FRAME = re.compile(r": (\w+) \(([\w./-]+\.c):(\d+)\)")


def split(path):
    """{site: bytes} of a massif detailed snapshot, by the first dutyd frame."""
    lines = open(path).read().splitlines()
    nodes = lines[next(i for i, l in enumerate(lines) if l.startswith("heap_tree=")) + 1:]
    heap = extra = 0
    for l in lines:
        if l.startswith("mem_heap_B="):
            heap = int(l.split("=")[1])
        elif l.startswith("mem_heap_extra_B="):
            extra = int(l.split("=")[1])
    pos, out = [0], collections.Counter()

    def walk(site):
        m = NODE.match(nodes[pos[0]])
        pos[0] += 1
        kids, size, desc = int(m.group(1)), int(m.group(2)), m.group(3)
        mine = None
        if site is None:
            f = FRAME.search(desc)
            if f and "jansson" not in desc:
                mine = "%s %s:%s" % (f.group(1), f.group(2), f.group(3))
                out[mine] += size
        for _ in range(kids):
            walk(site or mine)
        if kids == 0 and site is None and mine is None:
            out["(elsewhere) " + desc[:60]] += size
    walk(None)
    return out, heap, extra


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--plugins", required=True)
    ap.add_argument("--tools", required=True)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--min", type=float, default=5.0, help="bytes per incident to list")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dutyd-heapsplit-")
    b = figures.Bench(a, work)
    sink, d, _ = b.dutyd("heap", wrap=[
        "valgrind", "--tool=massif", "--vgdb=yes", "--threshold=0.1", "--depth=40",
        "--massif-out-file=" + os.path.join(work, "massif.out")])
    snaps = [os.path.join(work, "before.ms"), os.path.join(work, "after.ms")]
    try:
        d.start(timeout=300)
        d.wait_quiet(1.0, 300)
        subprocess.run(["vgdb", "--pid=%d" % d.pid, "detailed_snapshot", snaps[0]],
                       check=True, capture_output=True)
        benchlib.loadgen(a.tools, d.port, a.n, conns=4)
        sink.wait(2 * a.n, 900)
        d.wait_quiet(1.0, 300)
        subprocess.run(["vgdb", "--pid=%d" % d.pid, "detailed_snapshot", snaps[1]],
                       check=True, capture_output=True)
    finally:
        d.stop(timeout=120)
        sink.close()
    (s0, h0, x0), (s1, h1, x1) = split(snaps[0]), split(snaps[1])
    n = a.n
    print("%d open incidents, deliveries done: heap %.0f B and malloc overhead %.0f B "
          "per incident" % (n, (h1 - h0) / n, (x1 - x0) / n))
    diff = {k: s1[k] - s0[k] for k in set(s0) | set(s1)}
    for k, v in sorted(diff.items(), key=lambda kv: -kv[1]):
        if abs(v) / n >= a.min:
            print("%8.1f  %s" % (v / n, k))


if __name__ == "__main__":
    main()
