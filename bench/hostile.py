#!/usr/bin/python3
"""Work that grows with the incident count must not block the loop (issue 15).

Starts dutyd on a synthetic state_dir holding --open open incidents (one
checkpoint, nothing left to notify, every clock fired), then measures:

  healthz    GET /healthz latency, one keep-alive client (p50, p99, max);
             it was O(n): ~32 requests/s at 65k open incidents
  list       GET /api/v1/incidents (one page of 100) latency; it built
             every incident: 8.6 s at 130k
  rotation   the longest /healthz answer while a segment rotation writes a
             checkpoint of every open incident; one turn wrote it all: a
             stall of 7.3 s at 130k, ~3 s at 30k

Run by `make bench-hostile`; it takes a minute or two.  The issue asks
/healthz under 5 ms with 100,000 open incidents.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from startup import Log, checkpoint, free_port  # noqa: E402


def wait_ready(path, proc):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(600)
    try:
        while b"READY=1" not in s.recv(4096):
            if proc.poll() is not None:
                raise SystemExit("dutyd exited")
    finally:
        s.close()


def timed(conn, method, path, token=None, body=None):
    h = {"Authorization": "Bearer " + token} if token else {}
    if body is not None:
        h["Content-Type"] = "application/json"
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    r.read()
    return (time.perf_counter() - t0) * 1000, r.status


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/dutyd"))
    ap.add_argument("--plugins", default=os.path.join(ROOT, "build/plugins"))
    ap.add_argument("--open", type=int, default=100000)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="dutyd-hostile-", dir=os.path.join(ROOT, "build"))
    proc = None
    try:
        state = os.path.join(work, "state")
        os.makedirs(state, mode=0o700)
        log = Log(state)
        log.add("dutyd.started", {"version": "bench"})
        log.rotate()
        checkpoint(log, args.open)
        log.close()
        port = free_port()
        cfg = os.path.join(work, "dutyd.yaml")
        with open(os.path.join(ROOT, "etc/dutyd.yaml")) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace("127.0.0.1:8080", "127.0.0.1:%d" % port)
                    .replace("./var", state).replace("./build/plugins", args.plugins)
                    .replace("include: calendar-cn-2026.yaml",
                             "include: " + os.path.join(ROOT, "etc", "calendar-cn-2026.yaml"))
                    + "audit:\n  segment_size: 64MiB\n  reserve: 0\n")
        os.chmod(cfg, 0o600)
        sock = os.path.join(work, "notify.sock")
        t0 = time.perf_counter()
        proc = subprocess.Popen([args.bin, "-c", cfg], stderr=subprocess.DEVNULL,
                                env=dict(os.environ, NOTIFY_SOCKET=sock))
        wait_ready(sock, proc)
        print("%d open incidents; ready in %.1f s" % (args.open, time.perf_counter() - t0))

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        lat = [timed(conn, "GET", "/healthz")[0] for _ in range(1000)]
        body = json.loads((conn.request("GET", "/healthz"), conn.getresponse().read())[1])
        assert body["open_incidents"] == args.open, body
        print("healthz     p50 %.2f ms  p99 %.2f ms  max %.2f ms  (1000 requests)" %
              (statistics.median(lat), pct(lat, 0.99), max(lat)))
        lat = [timed(conn, "GET", "/api/v1/incidents", "secret-zhang")[0] for _ in range(50)]
        print("list        p50 %.2f ms  max %.2f ms  (a page of 100, 50 requests)" %
              (statistics.median(lat), max(lat)))

        # A rotation: reload with a tiny segment_size; the next record closes
        # the segment and the checkpoint of every open incident follows.
        stop = threading.Event()
        worst = []

        def ping():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while not stop.is_set():
                worst.append(timed(c, "GET", "/healthz")[0])
                time.sleep(0.005)
        t = threading.Thread(target=ping)
        t.start()
        with open(cfg, "a") as f:
            f.write("")
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace("segment_size: 64MiB", "segment_size: 4KiB"))
        before = len(os.listdir(state))
        proc.send_signal(1)     # SIGHUP: segments of 4 KiB from now on
        # The checkpoint the segment opens with does not count against its
        # size: a few reports past it close the segment.
        rep = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        n = 0
        while len(os.listdir(state)) <= before and n < 100:
            n += 1
            body = json.dumps({"title": "轮转 %d" % n, "occurred_at": time.strftime(
                "%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "details": "x" * 500})
            rep.request("POST", "/api/v1/reports", body, {
                "Authorization": "Bearer secret-a", "Content-Type": "application/json"})
            rep.getresponse().read()
        deadline = time.time() + 600
        while time.time() < deadline:
            names = os.listdir(state)
            if len(names) > before:
                with open(os.path.join(state, "audit.log"), "rb") as f:
                    f.seek(max(0, os.path.getsize(os.path.join(state, "audit.log")) - 4096))
                    if b'"checkpoint.end"' in f.read():
                        break
            time.sleep(0.05)
        time.sleep(0.2)
        stop.set()
        t.join()
        with open(cfg, "w") as f:
            f.write(text)
        print("rotation    /healthz during a checkpoint of %d incidents: p99 %.1f ms, "
              "max %.1f ms (%d requests)" % (args.open, pct(worst, 0.99), max(worst),
                                             len(worst)))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
