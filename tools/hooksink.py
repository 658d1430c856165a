#!/usr/bin/python3
"""The example configuration's webhook receiver, for `make run`: prints each
message dutyd sends (who it is for and its text) so a newcomer sees the
notifications at once, and answers 200 so nothing is retried.

    tools/hooksink.py [HOST:PORT] [SECRET]     (default 127.0.0.1:9000)

With SECRET, a body whose X-Dutyd-Signature does not match is refused (401)
and said so: the same check a real receiver makes (docs/plugins.md)."""
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY_MAX = 1 << 20


class Handler(BaseHTTPRequestHandler):
    secret = None

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > BODY_MAX:
            self.answer(413, "body over 1 MiB")
            return
        body = self.rfile.read(n)
        if self.secret is not None:
            want = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(self.headers.get("X-Dutyd-Signature", ""), want):
                print("hooksink: refused a body with a wrong X-Dutyd-Signature", flush=True)
                self.answer(401, "bad signature")
                return
        try:
            msg = json.loads(body)
            who = msg.get("recipient", {})
            print("→ %s (%s) [%s %s]\n  %s" % (who.get("name", "?"), who.get("to", "?"),
                                              msg.get("event", "?"), msg.get("delivery", "?"),
                                              msg.get("text", "").replace("\n", "\n  ")),
                  flush=True)
        except (ValueError, AttributeError):
            print("hooksink: a body that is not dutyd's JSON: %r" % body[:200], flush=True)
        self.answer(200, "ok")

    def answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


def main():
    where = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9000"
    host, _, port = where.rpartition(":")
    if len(sys.argv) > 2:
        Handler.secret = sys.argv[2].encode()
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    print("hooksink: printing the example webhook's messages, on http://%s:%d/hook"
          % server.server_address[:2], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
