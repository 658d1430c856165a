"""End-to-end harness: the real dutyd binary on 127.0.0.1, a local webhook
sink standing in for the duty room's receivers, and a sd_notify socket.

Nothing here sleeps for luck: every wait polls with a deadline, and every
process started is stopped by its PID.  The tests run in parallel
(pytest-xdist), so no port is ever picked, closed and then used: every server
binds port 0 and keeps its socket, and dutyd is handed its listening socket
the way systemd does it (socket activation, see Dutyd.start).
"""
import contextlib
import datetime
import gc
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import select
import selectors
import signal
import socket
import subprocess
import threading
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("DUTYD_BIN", os.path.join(ROOT, "build", "dutyd"))
PLUGIN_DIR = os.environ.get("DUTYD_PLUGIN_DIR", os.path.join(ROOT, "build", "plugins"))
SANITIZED = "/san/" in BIN


def listening_socket(host="127.0.0.1"):
    """A TCP socket listening on a port the kernel picked.  Its owner keeps
    it open as long as it needs the port, so no other test can take it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        s.listen(socket.SOMAXCONN)
    except OSError:
        s.close()
        raise
    return s


# Runs dutyd (or its wrapper: valgrind) with the listening socket as fd 3 and
# LISTEN_PID/LISTEN_FDS set, as systemd does: the shell's $$ is the PID that
# exec hands on to dutyd.  The harness gives the socket to the shell as its
# stdin, which the script moves to 3 (stdin becomes /dev/null, as under
# systemd): one-digit fd numbers, so /bin/sh (dash) does, which starts in
# a third of the CPU bash took (about 8 ms of a plain dutyd's 60 ms start).
SOCKET_ACTIVATION = 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" "$@" 3<&0 0</dev/null'


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)        # the poll interval of a wait with a deadline


class Server(http.server.ThreadingHTTPServer):
    """An HTTP server for fakes and sinks.  socketserver listens with a
    backlog of 5: when the tests run side by side and it is slow to accept,
    more connections than that have their SYN dropped, and the client's
    retransmission (1 s) runs into a channel's short connect_timeout."""
    request_queue_size = socket.SOMAXCONN
    daemon_threads = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wake_r, self.wake_w = os.pipe()
        self.stopped = threading.Event()

    def get_request(self):
        # A handler writes its headers and its body in two writes: with
        # Nagle's algorithm on, the body waited for the client's delayed ACK,
        # 40 ms on every webhook dutyd delivered to a sink.
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    def serve_forever(self, poll_interval=None):
        """Serves until shutdown(), which wakes it through a pipe: socketserver's
        own loop woke every poll interval to look for it, 50 times a second for
        every sink and fake of every test."""
        with selectors.DefaultSelector() as sel:
            sel.register(self, selectors.EVENT_READ)
            sel.register(self.wake_r, selectors.EVENT_READ)
            try:
                while True:
                    ready = [key.fileobj for key, _ in sel.select()]
                    if self.wake_r in ready:
                        return
                    self._handle_request_noblock()
            finally:
                self.stopped.set()

    def shutdown(self):
        os.write(self.wake_w, b"x")
        self.stopped.wait()

    def server_close(self):
        super().server_close()
        for fd in (self.wake_r, self.wake_w):
            os.close(fd)
        self.wake_r = self.wake_w = -1


class Sink:
    """A webhook receiver.  Records every request; answers with the next
    status from `script` (per recipient) or 200, and checks signatures."""

    def __init__(self, secret=None):
        self.secret = secret
        self.lock = threading.Lock()
        self.requests = []          # every request, in arrival order
        self.arrived = []           # every request as it arrives, before any hold
        self.script = {}            # recipient id -> list of statuses to answer
        self.hold = threading.Event()
        self.hold.set()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The answer in one write, flushed by handle_one_request after
            # do_POST: unbuffered, its headers and its body went as two
            # packets, each waking dutyd (15-20 % of a sink request's CPU).
            wbufsize = 1 << 16

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                with sink.lock:
                    sink.arrived.append({"headers": dict(self.headers), "raw": raw,
                                         "at": time.time()})
                sink.hold.wait(30)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                rid = (body or {}).get("recipient", {}).get("id")
                with sink.lock:
                    queue = sink.script.get(rid) or []
                    status = queue.pop(0) if queue else 200
                    sink.requests.append({
                        "path": self.path, "headers": dict(self.headers), "raw": raw,
                        "body": body, "status": status, "at": time.time(),
                    })
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/hook" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.hold.set()
        self.server.shutdown()
        # shutdown() returns when serve_forever has set `stopped`, a moment
        # before its thread returns: joined, the sink has ended when close()
        # returns (the deadline bounds a hang, which test_harness reports).
        self.thread.join(10)
        self.server.server_close()

    def signature_ok(self, r):
        if self.secret is None:
            return "X-Dutyd-Signature" not in r["headers"]
        want = "sha256=" + hmac.new(self.secret.encode(), r["raw"], hashlib.sha256).hexdigest()
        return hmac.compare_digest(r["headers"].get("X-Dutyd-Signature", ""), want)

    def delivered(self, event=None, incident=None, recipient=None):
        """Requests answered 2xx matching the filters."""
        with self.lock:
            out = []
            for r in self.requests:
                b = r["body"] or {}
                if r["status"] >= 300:
                    continue
                if event and b.get("event") != event:
                    continue
                if incident and b.get("incident", {}).get("id") != incident:
                    continue
                if recipient and b.get("recipient", {}).get("id") != recipient:
                    continue
                out.append(r)
            return out

    def all(self, event=None, incident=None):
        with self.lock:
            return [r for r in self.requests
                    if (event is None or (r["body"] or {}).get("event") == event)
                    and (incident is None or (r["body"] or {}).get("incident", {}).get("id") == incident)]

    def wait_delivered(self, event, incident, recipients, timeout=10.0):
        def ready():
            got = {r["body"]["recipient"]["id"] for r in self.delivered(event, incident)}
            return set(recipients) <= got
        wait_until(ready, timeout, what="%s for %s to reach %s" % (event, incident, recipients))
        return self.delivered(event, incident)


CONFIG = """\
listen: "127.0.0.1:{port}"
state_dir: "{state_dir}"
plugin_dir: "{plugin_dir}"
public_url: "http://127.0.0.1:{port}"
offices:
  - id: county-a
    name: "A县应急管理局"
    token: "secret-a"
  - id: county-b
    name: "B县应急管理局"
    token: "secret-b"
people:
  - id: zhang
    name: "张伟"
    token: "secret-zhang"
    contacts:
      - {{ channel: hook, to: "zhang" }}
  - {{ id: li,   name: "李强", token: "secret-li",   contacts: [ {{ channel: hook, to: "li" }} ] }}
  - {{ id: wang, name: "王芳", token: "secret-wang", contacts: [ {{ channel: hook, to: "wang" }} ] }}
duty:
  officers: [zhang]
  leader: li
  escalation: [wang]
channels:
  hook:
    plugin: webhook
    url: "{sink_url}"
{secret_line}
policy:
  ack_timeout: {ack_timeout}
  report_deadline: {report_deadline}
  retry_initial: {retry_initial}
  retry_max: {retry_max}
"""


class Dutyd:
    """One dutyd process with its own port, state_dir and notify socket.

    The port is a socket the harness listens on and keeps for the object's
    whole life (close() ends it): every start hands it to dutyd by socket
    activation, so a restart keeps the port, and requests made while dutyd
    is down wait in the backlog for the next one, as under systemd."""

    def __init__(self, tmp_path, sink, ack_timeout="20m", report_deadline="40m",
                 retry_initial="1s", retry_max="5m", secret="hmac-secret", extra="",
                 plugin_dir=PLUGIN_DIR):
        self.tmp = tmp_path
        os.makedirs(tmp_path, exist_ok=True)
        self.sink = sink
        self.listener = listening_socket()
        self.host, self.port = self.listener.getsockname()
        self.state_dir = str(tmp_path / "state")
        self.config_path = str(tmp_path / "dutyd.yaml")
        secret_line = '    secret: "%s"' % secret if secret else ""
        with open(self.config_path, "w") as f:
            f.write(CONFIG.format(port=self.port, state_dir=self.state_dir,
                                  plugin_dir=plugin_dir, sink_url=sink.url,
                                  secret_line=secret_line, ack_timeout=ack_timeout,
                                  report_deadline=report_deadline,
                                  retry_initial=retry_initial, retry_max=retry_max))
            f.write(extra)
        self.proc = None
        self.notify = None
        self.notes = []
        self.notes_lock = threading.Lock()
        self.runs = 0

    @property
    def audit_path(self):
        return os.path.join(self.state_dir, "audit.log")

    def start(self, args=(), wait=True, preexec_fn=None, wrap=(), binary=BIN,
              activate=True, stderr_pipe=False):
        """Starts dutyd; ACTIVATE=False lets it bind `listen` itself.
        STDERR_PIPE=True gives it a pipe the harness copies to the same
        file: a test that limits dutyd's file size (RLIMIT_FSIZE) limits
        its stderr file too, and the messages it waits for were cut off
        whenever the log had grown past the audit log's size."""
        path = str(self.tmp / ("notify-%d.sock" % self.runs))
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(path)
        self.notify.setblocking(False)
        self.notes = []
        # Read as systemd reads: all along.  A queue left full makes dutyd's
        # sd_notify() wait (it sends STATUS= whenever the open count moves),
        # and a test that floods reports for longer than the queue lasts
        # would stall dutyd instead of measuring it.
        threading.Thread(target=self.drain_notes, args=(self.notify,), daemon=True).start()
        env = dict(os.environ, NOTIFY_SOCKET=path)
        for k in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            env.pop(k, None)
        self.stderr_path = str(self.tmp / ("dutyd-%d.stderr" % self.runs))
        self.runs += 1
        argv = [*wrap, binary, "-v", "-c", self.config_path, *args]
        stdin = None
        if activate:
            # Blocking, as systemd passes it (NonBlocking= defaults to no):
            # dutyd must make it non-blocking itself or it hangs in accept().
            self.listener.setblocking(True)
            stdin = self.listener.fileno()
            argv = ["/bin/sh", "-c", SOCKET_ACTIVATION, *argv]
        self.stderr_pipe = None
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE if stderr_pipe else err,
                                         env=env, preexec_fn=preexec_fn)
        if stderr_pipe:
            self.stderr_pipe = self.proc.stderr
            os.set_blocking(self.stderr_pipe.fileno(), False)
            threading.Thread(target=self.copy_stderr, args=(self.stderr_pipe,),
                             daemon=True).start()
        if wait:
            # A wrapped dutyd (valgrind, at nice 10) starts in ~12 s alone and took
            # over 60 s beside both passes of make check on a loaded machine.
            self.wait_note("READY=1", timeout=180 if wrap else 30)
        return self

    def drain_notes(self, sock):
        while True:
            try:
                # The timeout only bounds how long this thread outlives the
                # socket's close (wait_note reads on its own): data wakes it.
                ready, _, _ = select.select([sock], [], [], 1.0)
            except (OSError, ValueError):       # closed: this run is over
                return
            if ready and not self.read_notes(sock):
                return

    def read_notes(self, sock):
        """Everything queued on SOCK, in order; False once it is closed."""
        with self.notes_lock:
            while True:
                try:
                    self.notes.append(sock.recv(4096).decode())
                except (socket.timeout, BlockingIOError):
                    return True
                except OSError:
                    return False

    def poll_notes(self):
        self.read_notes(self.notify)
        return self.notes

    def wait_note(self, text, timeout=10.0):
        def seen():
            if self.proc.poll() is not None and not any(text in n for n in self.notes):
                raise AssertionError("dutyd exited (%s) before %s:\n%s"
                                     % (self.proc.returncode, text, self.stderr()))
            return any(text in n for n in self.poll_notes())
        wait_until(seen, timeout, what=text)

    def copy_stderr(self, pipe):
        """Copies PIPE to the stderr file all along, so dutyd never waits
        on a full pipe; returns at its end."""
        while self.drain_stderr(pipe):
            try:
                select.select([pipe], [], [], 1.0)
            except (OSError, ValueError):   # closed by drain_stderr meanwhile
                return

    def drain_stderr(self, pipe):
        """Appends what PIPE holds now to the stderr file; False at its end."""
        with self.notes_lock:
            if pipe.closed:
                return False
            with open(self.stderr_path, "ab") as f:
                while True:
                    try:
                        data = os.read(pipe.fileno(), 65536)
                    except BlockingIOError:
                        return True
                    if not data:
                        pipe.close()
                        return False
                    f.write(data)

    def stderr(self):
        # What dutyd wrote to a pipe is in the file once this returns, as
        # it would be had dutyd written the file itself.
        if getattr(self, "stderr_pipe", None) is not None:
            self.drain_stderr(self.stderr_pipe)
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, expect_clean=True):
        """SIGTERM by PID, then require a clean exit and a clean sanitizer report."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("dutyd did not stop within 30s of SIGTERM")
        self.poll_notes()
        self.notify.close()
        if expect_clean:
            err = self.stderr()
            assert "Sanitizer" not in err and "runtime error" not in err, err
            assert rc == 0, "dutyd exited %d:\n%s" % (rc, err)

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.notify.close()

    def close(self):
        """Gives up the port; the dutyd must be stopped already."""
        self.listener.close()

    # -- HTTP --------------------------------------------------------------
    def call(self, method, path, token=None, body=None, headers=None, raw=None,
             content_type="application/json", timeout=30):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        data = raw
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
        if data is not None and content_type is not None:
            h.setdefault("Content-Type", content_type)
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        text = resp.read()
        conn.close()
        try:
            js = json.loads(text) if text else None
        except ValueError:
            js = None
        return Response(resp.status, dict(resp.getheaders()), js, text)

    def report(self, token="secret-a", key=None, **fields):
        body = {"title": "某镇化工厂爆炸", "occurred_at": now_rfc3339()}
        body.update(fields)
        headers = {"Idempotency-Key": key} if key else None
        return self.call("POST", "/api/v1/reports", token, body, headers)

    def audit(self):
        """The records of audit.log written so far (dutyd may be writing one)."""
        with open(self.audit_path, "rb") as f:
            return parse_records(whole_lines(f.read()))


class LoadThreads:
    """A context manager for a test's load: self.threads started on entry;
    on exit self.stop is set and every thread must end within 60 s."""

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)
            assert not t.is_alive(), "a load thread hung"


class Response:
    def __init__(self, status, headers, json_body, text):
        self.status = status
        self.headers = headers
        self.json = json_body
        self.text = text

    def __repr__(self):
        return "<%d %s>" % (self.status, self.text[:300])


def now_rfc3339(offset_seconds=0):
    t = time.time() + offset_seconds
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))


def verify_chain(path):
    """The documented check: prev is SHA-256 of the previous line's bytes."""
    prev = "0" * 64
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b"", "the log must end with a newline"
    for i, line in enumerate(lines[:-1], start=1):
        rec = json.loads(line)
        assert rec["seq"] == i, "seq %d at line %d" % (rec["seq"], i)
        assert rec["prev"] == prev, "chain broken at seq %d" % i
        prev = hashlib.sha256(line).hexdigest()
    return len(lines) - 1


# -- audit log segments (restart, tamper, segment and disk-full tests) -------

SEGMENT_NAME = re.compile(r"^audit-(\d{12})-(\d{12})\.log$")


def audit_files(state_dir):
    """Closed segments in name order, then the active audit.log."""
    closed = sorted(n for n in os.listdir(state_dir) if SEGMENT_NAME.match(n))
    files = [os.path.join(state_dir, n) for n in closed]
    active = os.path.join(state_dir, "audit.log")
    if os.path.exists(active):
        files.append(active)
    return files


def whole_lines(data):
    """The complete lines of an audit file that a running dutyd may be
    appending to: bytes after the last newline are a record still being
    written (write(2) is not atomic for a reader), not a record."""
    end = data.rfind(b"\n")
    return data[:end].split(b"\n") if end >= 0 else []


def parse_records(lines):
    """json.loads of every line, with the cyclic garbage collector off: the
    records hold no cycles, and a log of thousands of records kept as
    dicts set it off again and again (a third of the CPU time of reading
    the crash test's 15,000 records)."""
    was = gc.isenabled()
    gc.disable()
    try:
        return [json.loads(line) for line in lines]
    finally:
        if was:
            gc.enable()


def audit_records(state_dir, event=None):
    """Every whole record of every segment, in order; with EVENT, only the
    records of that kind.  A running dutyd may close audit.log (rename it to
    a segment) while this reads: then the listing changed, and it reads
    again."""
    while True:
        files = audit_files(state_dir)
        out = []
        try:
            for path in files:
                with open(path, "rb") as f:
                    lines = whole_lines(f.read())
                if event is not None:
                    # Only lines naming the kind are parsed (a record's
                    # event is a JSON string: "kind" is in its line), then
                    # kept by their parsed event: the same records as
                    # filtering them all, without parsing thousands.
                    quoted = json.dumps(event).encode()
                    lines = [line for line in lines if quoted in line]
                out.extend(r for r in parse_records(lines)
                           if event is None or r["event"] == event)
        except FileNotFoundError:
            continue
        if audit_files(state_dir) == files:
            return out


def verify_segments(state_dir, records=None):
    """The documented check run over the closed segments in name order, then
    audit.log: one chain, seq without gaps from 1, and every closed segment's
    name gives its first and last seq.  Returns the number of records; with
    RECORDS (a list), appends every record to it as well, parsed once for
    both (the crash test's log is tens of MB)."""
    was = gc.isenabled()
    if records is not None:
        gc.disable()            # see parse_records
    try:
        return _verify_segments(state_dir, records)
    finally:
        if was:
            gc.enable()


def _verify_segments(state_dir, records):
    prev = "0" * 64
    seq = 0
    for path in audit_files(state_dir):
        with open(path, "rb") as f:
            data = f.read()
        if not data:
            continue
        assert data.endswith(b"\n"), "%s must end with a newline" % path
        lines = data[:-1].split(b"\n")
        for line in lines:
            rec = json.loads(line)
            seq += 1
            assert rec["seq"] == seq, "seq %d where %d was due (%s)" % (rec["seq"], seq, path)
            assert rec["prev"] == prev, "chain broken at seq %d (%s)" % (seq, path)
            prev = hashlib.sha256(line).hexdigest()
            if records is not None:
                records.append(rec)
        m = SEGMENT_NAME.match(os.path.basename(path))
        if m:
            first = json.loads(lines[0])["seq"]
            assert (int(m.group(1)), int(m.group(2))) == (first, seq), \
                "%s holds seq %d-%d" % (path, first, seq)
    return seq


def run_dutyd(*args, timeout=60):
    """Runs the binary to completion (offline modes); returns (rc, stdout, stderr)."""
    p = subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def parse_time(s):
    return datetime.datetime.fromisoformat(s).timestamp()


# How long a message that falls due gets to reach its receiver (a request on
# loopback) before a test takes its absence as proof it was never sent.  Too
# short a time could only let a bug pass, never fail a good dutyd.
REACH = 0.25


def last_due(records):
    """The latest moment (epoch seconds) the records name: when each was
    written, and when the next attempt is due of every delivery still waiting
    for one (its last record is a retry with next_attempt_at)."""
    t = 0.0
    last = {}
    for r in records:
        t = max(t, parse_time(r["ts"]))
        if r["event"] in ("notify.attempt", "notify.fallback", "notify.abandoned"):
            data = r.get("data") or {}
            last[(data.get("intent"), data.get("recipient"))] = data
    for data in last.values():
        if data.get("outcome") == "retry" and data.get("next_attempt_at"):
            t = max(t, parse_time(data["next_attempt_at"]))
    return t


def wait_quiet(d, since=None):
    """Instead of sleeping before asserting that nothing more is sent: returns
    once dutyd's loop has run REACH past SINCE (epoch seconds; by default the
    last moment its audit log names, see last_due), so whatever was due by
    then has gone out.  SINCE is usually past already, and then this takes
    one request: dutyd answering it shows its loop has turned since."""
    if since is None:
        since = last_due(audit_records(d.state_dir))
    wait_until(lambda: time.time() >= since + REACH, max(0.0, since - time.time()) + 10,
               what="the clock to pass %.3f" % (since + REACH))
    r = d.call("GET", "/healthz")
    assert r.status in (200, 503), r
    return since


# -- the order tests start in, under pytest-xdist -----------------------------

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow(seconds): takes about SECONDS in the plain pass; under "
        "pytest-xdist such tests start first, spread over the workers")
    config.addinivalue_line(
        "markers", "browser: drives the console in headless chromium; make check "
        "runs these once, in the sanitizer pass unless marked plain_pass (the pages are the same files in "
        "both builds, and chromium is most of the cost)")
    config.addinivalue_line(
        "markers", "plain_pass: make check runs it once, in the plain pass: the browser "
        "tests so marked, test_valgrind (it runs the plain binary in either pass), and "
        "the long PostgreSQL scenarios (failover under load, a 10 s outage, "
        "imports), whose code paths the sanitizer pass still runs through the shorter PostgreSQL "
        "tests (standby, takeover after a cut session, import then serve, verify)")


def pytest_sessionfinish(session):
    """Each process's PostgreSQL, and the run's template (pgserver.py), go
    with the run."""
    import pgserver
    pgserver.close_shared()
    if not hasattr(session.config, "workerinput"):
        pgserver.cleanup()


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, deals the tests marked slow out first, longest
    first, one per worker in turn, so that none starts last and holds up the
    end of the run.  xdist 3.1's load scheduler first sends each worker a
    chunk of max(tests // workers // 4, 2) consecutive tests, then refills
    from the front: the slow tests are placed so that each worker's first
    chunk gets its share.  Were xdist to change, only the run's length
    would suffer.  Every worker computes the same order (xdist checks)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers < 2:
        return

    def seconds(item):
        m = item.get_closest_marker("slow")
        return m.args[0] if m is not None and m.args else (1.0 if m is not None else 0.0)
    slow = sorted((it for it in items if seconds(it) > 0), key=seconds, reverse=True)
    rest = [it for it in items if seconds(it) == 0]
    if len(items) < 2 * workers:            # xdist deals these round robin
        items[:] = slow + rest
        return
    chunk = max(len(items) // workers // 4, 2)
    head = [None] * (workers * chunk)
    overflow = []
    for i, it in enumerate(slow):
        slot, worker = divmod(i, workers)
        if slot < chunk:
            head[worker * chunk + slot] = it
        else:
            overflow.append(it)
    fill = iter(overflow + rest)
    order = [it if it is not None else next(fill, None) for it in head]
    items[:] = [it for it in order if it is not None] + list(fill)


@pytest.fixture
def sink():
    s = Sink(secret="hmac-secret")
    yield s
    s.close()


@pytest.fixture
def make_dutyd(tmp_path, sink):
    started = []

    def make(**kw):
        d = Dutyd(tmp_path / ("d%d" % len(started)), kw.pop("sink", sink), **kw)
        started.append(d)
        return d
    yield make
    try:
        for d in started:
            if d.proc is not None and d.proc.poll() is None:
                d.stop()
    finally:
        for d in started:
            d.close()


# -- one dutyd shared by a module's tests that must change nothing ----------

@contextlib.contextmanager
def unchanged(d):
    """For a test run against a dutyd other tests share: afterwards dutyd is
    still running and its audit log holds exactly the bytes it held before,
    so the test recorded nothing (every request it made was refused) and the
    next test meets the dutyd this one met.  A test that did record
    something fails here, itself, rather than a neighbour."""
    before = [(p, os.path.getsize(p)) for p in audit_files(d.state_dir)]
    yield d
    assert d.proc.poll() is None, "dutyd exited (%s):\n%s" % (d.proc.returncode, d.stderr())
    after = [(p, os.path.getsize(p)) for p in audit_files(d.state_dir)]
    assert after == before, "a test sharing this dutyd changed its audit log: %s" % (
        [r["event"] for r in audit_records(d.state_dir)][-5:],)


def only_started_and_stopped(d):
    """What a shared dutyd's log must hold once it has stopped: what dutyd
    records only later (an auth.refused when a minute of failed
    authentications ends, or at stop) is caught here, if not by unchanged."""
    events = [r["event"] for r in audit_records(d.state_dir)]
    assert events == ["dutyd.started", "dutyd.stopped"], events


@pytest.fixture(scope="module")
def shared_sink():
    s = Sink(secret="hmac-secret")
    yield s
    s.close()


@pytest.fixture(scope="module")
def shared_dutyd(tmp_path_factory, shared_sink):
    """A dutyd with the default configuration (CONFIG) and its sink, started
    once for a module (once per pytest-xdist worker that runs any of the
    module's tests that ask for it) and stopped, with the same clean-exit
    check, after its last test.  Only through `unchanged`: a dutyd start and
    stop is most of what a test that sends one refused request costs (a
    fifth of a CPU-second under ASan)."""
    d = Dutyd(tmp_path_factory.mktemp("shared"), shared_sink)
    try:
        d.start()
        yield d
        d.stop()
        only_started_and_stopped(d)
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.kill()
        d.close()


@pytest.fixture
def refused(shared_dutyd):
    """The module's shared dutyd, for a test whose every request must be
    refused or only reads, with a valid token or none needed: afterwards
    its log must be as it was (unchanged).  Not for a wrong token: a failed
    authentication is an auth.refused record once its minute ends, in the
    middle of whichever test runs then."""
    with unchanged(shared_dutyd):
        yield shared_dutyd


# -- a dutyd from a whole configuration text (channel tests) ----------------

class ConfigDutyd(Dutyd):
    """A dutyd run from a whole configuration text instead of CONFIG.

    The text is a string.Template: $port, $state_dir and $plugin_dir are
    filled in, and so is every keyword given (`$ding_url`).  Braces are left
    alone, so YAML flow mappings and message templates need no escaping."""

    def __init__(self, tmp_path, text, **values):
        import string
        os.makedirs(tmp_path, exist_ok=True)
        self.tmp = tmp_path
        self.sink = None
        self.listener = listening_socket()
        self.host, self.port = self.listener.getsockname()
        self.state_dir = str(tmp_path / "state")
        self.config_path = str(tmp_path / "dutyd.yaml")
        values = dict({"port": self.port, "state_dir": self.state_dir,
                       "plugin_dir": PLUGIN_DIR}, **values)
        self.config_text = string.Template(text).safe_substitute(values)
        with open(self.config_path, "w") as f:
            f.write(self.config_text)
        self.proc = None
        self.notify = None
        self.notes = []
        self.notes_lock = threading.Lock()
        self.runs = 0

    def records(self):
        """Every audit record of every segment, in order."""
        return audit_records(self.state_dir)

    def stop(self, expect_clean=True, within=60 if SANITIZED else 20):
        """As Dutyd.stop, but a dutyd still running WITHIN seconds after
        SIGTERM is killed and reported: a shutdown that blocks is a bug."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("dutyd did not stop within %ds of SIGTERM:\n%s"
                                 % (within, self.stderr()[-3000:]))
        self.poll_notes()
        self.notify.close()
        if expect_clean:
            err = self.stderr()
            assert "Sanitizer" not in err and "runtime error" not in err, err
            assert rc == 0, "dutyd exited %d:\n%s" % (rc, err)


def check_config(path):
    """`dutyd -t -c path`: (exit status, stdout, stderr)."""
    return run_dutyd("-t", "-c", str(path))


@pytest.fixture
def dutyd_from(tmp_path):
    """dutyd_from(text, **values) -> a ConfigDutyd, not started; every one
    started is stopped by PID at the end of the test."""
    made = []

    def make(text, **values):
        d = ConfigDutyd(tmp_path / ("c%d" % len(made)), text, **values)
        made.append(d)
        return d
    yield make
    errors = []
    for d in made:
        if d.proc is not None and d.proc.poll() is None:
            try:
                d.stop()
            except AssertionError as e:
                errors.append(str(e))
        d.close()
    assert not errors, "\n".join(errors)
