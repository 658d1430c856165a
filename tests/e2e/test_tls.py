"""TLS: the HTTPS listener (tls: {listen, certificate, key}, the pair
reloaded on SIGHUP) and channels that trust a private CA (ca_file:),
as government networks have them (issue 15)."""
import http.server
import json
import re
import signal
import socket
import ssl
import subprocess
import threading

import pytest

from conftest import Server, check_config, now_rfc3339, wait_until


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True,
                   timeout=60)


class PrivateCA:
    """A CA and certificates it signs for 127.0.0.1, made with openssl(1)."""

    def __init__(self, tmp):
        self.dir = tmp
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=dutyd test CA", cwd=tmp)
        self.ca = str(tmp / "ca.pem")
        self.serial = 1

    def issue(self, name, key=None):
        """name.pem signed by the CA for IP 127.0.0.1, with key name.key
        (or KEY's); returns (certificate path, key path)."""
        key = key or name
        if not (self.dir / (key + ".key")).exists():
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-out", key + ".key", cwd=self.dir)
        openssl("req", "-new", "-key", key + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + name, cwd=self.dir)
        (self.dir / (name + ".ext")).write_text("subjectAltName=IP:127.0.0.1\n")
        self.serial += 1
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-set_serial", str(self.serial), "-days", "2",
                "-extfile", name + ".ext", "-out", name + ".pem", cwd=self.dir)
        return str(self.dir / (name + ".pem")), str(self.dir / (key + ".key"))

    def client(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        return ctx


@pytest.fixture
def ca(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    return PrivateCA(d)


def https_port(d):
    m = wait_until(lambda: re.search(r"listening on 127\.0\.0\.1:(\d+) \(HTTPS", d.stderr()),
                   what="the HTTPS listener")
    return int(m.group(1))


def https(ctx, port, method, path, body=None, token=None):
    """One request over TLS; (status, json, peer certificate's CN)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method, path)
    if token:
        head += "Authorization: Bearer %s\r\n" % token
    if body is not None:
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
    s.sendall(head.encode() + b"\r\n" + data)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    cn = dict(x[0] for x in s.getpeercert()["subject"])["commonName"]
    s.close()
    status = int(out[9:12])
    text = out.partition(b"\r\n\r\n")[2]
    return status, json.loads(text) if text else None, cn


def tls_config(cert, key):
    return 'tls:\n  listen: "127.0.0.1:0"\n  certificate: "%s"\n  key: "%s"\n' % (cert, key)


def test_https_listener_and_its_pair_reloaded(make_dutyd, ca):
    cert, key = ca.issue("first")
    d = make_dutyd(extra=tls_config(cert, key)).start()
    port = https_port(d)
    ctx = ca.client()
    report = {"title": "加密通道报告", "occurred_at": now_rfc3339()}
    status, js, cn = https(ctx, port, "POST", "/api/v1/reports", report, "secret-a")
    assert (status, cn) == (201, "first"), js
    # The plain listener still serves, and the same incidents.
    r = d.call("GET", "/api/v1/incidents/" + js["id"], "secret-zhang")
    assert r.status == 200
    # Nothing older than TLS 1.2: a client that offers only TLS 1.1 (at
    # OpenSSL's lowest security level, so that it does offer it) is refused
    # by the server, and the same client at TLS 1.2 is served.
    def s_client(version):
        return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                               version, "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", ca.ca],
                              input=b"", capture_output=True, timeout=30)
    r = s_client("-tls1_1")
    assert r.returncode != 0 and b"protocol version" in r.stdout + r.stderr, r
    assert s_client("-tls1_2").returncode == 0
    # SIGHUP with a new pair: new connections get it.
    cert2, key2 = ca.issue("second")
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace(cert, cert2).replace(key, key2))
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: https(ctx, port, "GET", "/healthz")[2] == "second",
               what="the new certificate")
    # A key that does not belong to the certificate: the reload is refused
    # whole and the running pair stays.
    cert3, _ = ca.issue("third")
    with open(d.config_path, "w") as f:
        f.write(text.replace(cert, cert3).replace(key, key2))
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "does not belong to the certificate" in d.stderr(),
               what="the reload to be refused")
    assert https(ctx, port, "GET", "/healthz")[2] == "second"
    d.stop()


class HttpsSink:
    """A webhook receiver over TLS with a certificate of the private CA."""

    def __init__(self, cert, key):
        self.got = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                sink.got.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/hook" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


CHANNEL = """
  private:
    plugin: webhook
    url: "{url}"
{ca}
"""


def test_channel_trusts_a_private_ca(make_dutyd, ca, tmp_path):
    cert, key = ca.issue("receiver")
    sink = HttpsSink(cert, key)
    try:
        for with_ca in (False, True):
            d = make_dutyd()
            with open(d.config_path) as f:
                text = f.read()
            text = text.replace('contacts:\n      - { channel: hook, to: "zhang" }',
                                'contacts:\n      - { channel: private, to: "zhang" }')
            text = text.replace("channels:\n", "channels:\n" + CHANNEL.format(
                url=sink.url, ca='    ca_file: "%s"' % ca.ca if with_ca else "").rstrip("\n")
                + "\n", 1)
            with open(d.config_path, "w") as f:
                f.write(text)
            d.start()
            before = len(sink.got)
            iid = d.report().json["id"]
            if with_ca:
                wait_until(lambda: any(g["incident"]["id"] == iid for g in sink.got[before:]),
                           what="delivery over TLS with the private CA")
            else:
                # Not trusted without ca_file: the attempt fails on the certificate.
                wait_until(lambda: any(r["event"] == "notify.attempt" and
                                       r["data"].get("to") == "zhang" and
                                       r["data"].get("outcome") == "retry"
                                       for r in d.audit()), what="a refused attempt")
                assert not [g for g in sink.got[before:] if g["incident"]["id"] == iid]
            d.stop()
    finally:
        sink.close()
    # A ca_file that holds no certificate is a config error, at its line.
    bad = tmp_path / "empty.pem"
    bad.write_text("nothing\n")
    d = make_dutyd()
    with open(d.config_path) as f:
        text = f.read()
    with open(d.config_path, "w") as f:
        f.write(text.replace("channels:\n", "channels:\n" + CHANNEL.format(
            url=sink.url, ca='    ca_file: "%s"' % bad), 1))
    rc, out, err = check_config(d.config_path)
    assert rc == 1 and "holds no PEM certificate" in err, err
