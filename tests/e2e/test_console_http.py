"""Serving the console (docs/console.md): every page path answers the same
index.html, the files under /console/ with their types, and every answer
carries the security headers exactly; the HTML has no inline script or
style for the Content-Security-Policy to refuse."""
import html.parser
import http.client
import os

from conftest import ROOT

CONSOLE = os.path.join(ROOT, "console")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "media-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml",
         ".png": "image/png", ".wav": "audio/wav", ".mp3": "audio/mpeg",
         ".ogg": "audio/ogg", ".json": "application/json; charset=utf-8",
         ".ico": "image/x-icon", ".txt": "text/plain; charset=utf-8",
         ".woff2": "font/woff2"}
PAGES = ["/", "/incidents/INC-20261202-0001", "/report", "/oncall", "/wall",
         "/?from=sms", "/wall?x=1"]


def get(d, path, method="GET"):
    conn = http.client.HTTPConnection(d.host, d.port, timeout=30)
    conn.request(method, path)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, r.getheader, body


def files():
    return sorted(f for f in os.listdir(CONSOLE)
                  if not f.startswith(".") and not f.endswith("~"))


def test_every_page_is_index_html_with_the_headers(refused):
    d = refused
    with open(os.path.join(CONSOLE, "index.html"), "rb") as f:
        index = f.read()
    for path in PAGES:
        status, header, body = get(d, path)
        assert status == 200, path
        assert header("Content-Type") == "text/html; charset=utf-8", path
        assert body == index, path
        assert header("Content-Length") == str(len(index))
        assert header("Cache-Control") == "no-cache", path
        for k, v in HEADERS.items():
            assert header(k) == v, (path, k, header(k))
    # Not the API's: POST on a page is refused, and no page needs a token.
    status, _, _ = get(d, "/", "POST")
    assert status == 405


def test_each_file_is_served_as_it_is_with_its_type(refused):
    d = refused
    names = files()
    assert "index.html" in names and any(n.endswith(".js") for n in names)
    for name in names:
        status, header, body = get(d, "/console/" + name)
        assert status == 200, name
        with open(os.path.join(CONSOLE, name), "rb") as f:
            assert body == f.read(), name       # the bytes of the source tree
        assert header("Content-Type") == TYPES[os.path.splitext(name)[1]], name
        assert header("Cache-Control") == "no-cache"
        for k, v in HEADERS.items():
            assert header(k) == v, (name, k)


def test_unknown_file_is_a_json_404(refused):
    d = refused
    for path in ("/console/nope.js", "/console/..%2Fdutyd.yaml",
                 "/console/../dutyd.yaml", "/console/", "/console/app.js/x"):
        r = d.call("GET", path)
        assert r.status == 404, path
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
        assert r.json["error"] and "field" in r.json, path
    r = d.call("GET", "/console/nope.js")
    assert "nope.js" in r.json["error"]
    assert r.headers["X-Frame-Options"] == "DENY"


class Inline(html.parser.HTMLParser):
    """Everything in the HTML that the CSP forbids or that loads from
    elsewhere: inline scripts and styles, on* handlers, foreign URLs."""

    def __init__(self):
        super().__init__()
        self.problems, self.scripts, self.in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k, v in attrs:
            if k.startswith("on"):
                self.problems.append("%s has an %s= handler" % (tag, k))
            if k == "style":
                self.problems.append("%s has a style= attribute" % tag)
            if k in ("src", "href") and v and "//" in v:
                self.problems.append("%s loads %s from elsewhere" % (tag, v))
        if tag == "style":
            self.problems.append("an inline <style> element")
        if tag == "script":
            self.in_script = "src" not in a
            if a.get("src"):
                self.scripts.append(a["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append("an inline <script>: %r" % data.strip()[:60])


def test_index_html_has_no_inline_script_or_style(refused):
    d = refused
    _, _, body = get(d, "/")
    p = Inline()
    p.feed(body.decode())
    assert p.problems == []
    # What it loads is served from /console/.
    assert p.scripts
    for src in p.scripts:
        assert src.startswith("/console/"), src
        status, header, _ = get(d, src)
        assert status == 200 and header("Content-Type").startswith("text/javascript")
