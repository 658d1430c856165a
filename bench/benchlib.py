"""Processes for bench/figures.py: dutyd, the webhook sink, Alertmanager,
and the waits between them (deadlines, never a bare sleep on luck)."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The example includes the calendar beside it; the copies here live elsewhere.
CALENDAR = os.path.join(ROOT, "etc", "calendar-cn-2026.yaml")
# Bytes of Chinese details in loadgen's reports (whole characters).
BODY_BYTES = 864


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = pred()
        except OSError:     # a stalled or busy daemon: not yet
            v = False
        if v:
            return v
        if time.monotonic() > deadline:
            raise SystemExit("bench: timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def http_get(port, path, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def vmrss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("bench: no VmRSS for %d" % pid)


def strace_over(pid, opts, out, run):
    """strace -f OPTS -o OUT attached to PID while run() runs."""
    st = subprocess.Popen(["strace", "-f"] + list(opts) + ["-o", out, "-p", str(pid)],
                          stderr=subprocess.PIPE, text=True)
    st.stderr.readline()    # "Process N attached": it is in
    try:
        run()
    finally:
        st.send_signal(2)
        st.wait(timeout=60)


def rss_split(pid):
    """(RssAnon, RssFile) in bytes."""
    got = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                got[line.split(":")[0]] = int(line.split()[1]) * 1024
    return got["RssAnon"], got["RssFile"]


class Sink:
    """bench/sink.c: 200 to every POST; /count, and /dump of arrivals."""

    def __init__(self, tools, work, log=False):
        self.port = free_port()
        self.log = os.path.join(work, "sink-%d.log" % self.port) if log else None
        args = [os.path.join(tools, "sink"), str(self.port)] + ([self.log] if log else [])
        self.proc = subprocess.Popen(args)
        wait_until(self._up, 10, "the sink")

    def _up(self):
        try:
            return http_get(self.port, "/count", 1)[0] == 200
        except OSError:
            return False

    def count(self):
        return int(http_get(self.port, "/count")[1])

    def wait(self, n, timeout, what="webhooks at the sink"):
        return wait_until(lambda: self.count() >= n, timeout, "%d %s" % (n, what), 0.02)

    def arrivals(self):
        """{tag: first arrival ns}."""
        http_get(self.port, "/dump", 60)
        first = {}
        with open(self.log) as f:
            for line in f:
                ns, tag = line.split()
                tag = int(tag)
                if tag >= 0 and tag not in first:
                    first[tag] = int(ns)
        return first

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def dutyd_config(path, port, state, plugins, sink_port, extra="", edit=None):
    """etc/dutyd.yaml (two people on duty, one webhook each) on these ports."""
    with open(os.path.join(ROOT, "etc/dutyd.yaml")) as f:
        text = f.read()
    text = (text.replace("127.0.0.1:8080", "127.0.0.1:%d" % port)
            .replace("./var", state).replace("./build/plugins", plugins)
            .replace("http://127.0.0.1:9000/hook", "http://127.0.0.1:%d/hook" % sink_port)
            .replace("include: calendar-cn-2026.yaml", "include: " + CALENDAR))
    if edit:
        text = edit(text)
    with open(path, "w") as f:
        f.write(text + extra)
    os.chmod(path, 0o600)


class Dutyd:
    """dutyd on CONFIG; start() returns once READY=1 (sd_notify)."""

    def __init__(self, binary, cfg, port, work, wrap=()):
        self.binary, self.cfg, self.port, self.work, self.wrap = binary, cfg, port, work, list(wrap)
        self.proc = None
        self.stderr = os.path.join(work, "dutyd-%d.stderr" % port)

    def start(self, timeout=120):
        """Seconds from exec to READY=1."""
        path = os.path.join(self.work, "notify-%d.sock" % self.port)
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.settimeout(0.2)
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.wrap + [self.binary, "-c", self.cfg],
                                     env=dict(os.environ, NOTIFY_SOCKET=path),
                                     stderr=open(self.stderr, "ab"))
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    if b"READY=1" in s.recv(4096):
                        break
                except socket.timeout:
                    pass
                if self.proc.poll() is not None:
                    raise SystemExit("bench: dutyd exited (%d): see %s" %
                                     (self.proc.returncode, self.stderr))
                if time.monotonic() > deadline:
                    raise SystemExit("bench: dutyd not ready in %d s: see %s" %
                                     (timeout, self.stderr))
            return time.perf_counter() - t0
        finally:
            s.close()

    @property
    def pid(self):
        return self.proc.pid

    def healthz(self):
        return json.loads(http_get(self.port, "/healthz")[1])

    def metric(self, name, labels="", timeout=10):
        body = http_get(self.port, "/metrics", timeout)[1].decode()
        total = 0.0
        for line in body.splitlines():
            if line.startswith(name) and labels in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_quiet(self, quiet=0.5, timeout=120):
        """Until the audit log has taken no record for QUIET seconds."""
        last = [None, time.monotonic()]

        def still():
            n = json.loads(http_get(self.port, "/healthz", timeout)[1])["audit"]["records_written"]
            if n != last[0]:
                last[0], last[1] = n, time.monotonic()
                return False
            return time.monotonic() - last[1] >= quiet
        wait_until(still, timeout, "dutyd to go quiet", 0.1)

    def post(self, path, body, token):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request("POST", path, json.dumps(body), {
                "Authorization": "Bearer " + token, "Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            c.close()

    def stop(self, timeout=60):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Alertmanager:
    """Debian's prometheus-alertmanager, no cluster, webhooks to the sink."""

    def __init__(self, work, sink_port, group_by):
        self.port = free_port()
        d = os.path.join(work, "am-%d" % self.port)
        os.makedirs(d)
        cfg = os.path.join(d, "alertmanager.yml")
        with open(cfg, "w") as f:
            f.write("route:\n  receiver: sink\n  group_by: [%s]\n  group_wait: 0s\n"
                    "  group_interval: 5m\n  repeat_interval: 4h\n"
                    "receivers:\n  - name: sink\n    webhook_configs:\n"
                    "      - url: http://127.0.0.1:%d/am\n        send_resolved: false\n"
                    % (group_by, sink_port))
        self.proc = subprocess.Popen(
            ["prometheus-alertmanager", "--config.file=" + cfg, "--storage.path=" + d,
             "--web.listen-address=127.0.0.1:%d" % self.port, "--cluster.listen-address=",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "stderr"), "wb"))
        wait_until(self._ready, 30, "Alertmanager")

    def _ready(self):
        try:
            return http_get(self.port, "/-/ready", 1)[0] == 200
        except OSError:
            return False

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def wrk(url, lua, duration, threads=2, connections=32):
    """(2xx answers a second, the whole output)."""
    r = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % duration,
                        "-s", lua, url], capture_output=True, text=True, check=True)
    if r.stderr.strip():
        raise SystemExit("bench: wrk: " + r.stderr.strip())
    out = r.stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    n, secs = int(m.group(1)), float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if bad:
        raise SystemExit("bench: %s answered %s requests with no 2xx" % (url, bad.group(1)))
    good = n
    return good / secs, out, (sum(map(int, errs.groups())) if errs else 0)


def loadgen(tools, port, n, conns=32, rate=0, first_tag=0, out=None, token="secret-a",
            body_bytes=None):
    """Summary dict of bench/loadgen.c's run."""
    args = [os.path.join(tools, "loadgen"), "-p", str(port), "-n", str(n), "-c", str(conns),
            "-s", str(body_bytes or BODY_BYTES),
            "-k", str(first_tag), "-t", token]
    if rate:
        args += ["-r", str(rate)]
    if out:
        args += ["-o", out]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("bench: loadgen failed: %s %s" % (r.stdout, r.stderr))
    return {k: float(v) for k, v in (kv.split("=") for kv in r.stdout.split())}
