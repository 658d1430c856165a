"""Local fakes of the vendors dutyd's channel plugins talk to.

Each fake listens on 127.0.0.1 on a free port, records every request, checks
it against what the vendor documents and answers as the vendor would.  A
request the real vendor would refuse (bad signature, wrong token, missing
field, over the vendor's rate limit) is answered with the vendor's error and
recorded in `violations`; tests assert that list stays empty.  Nothing here
raises into the server thread.

Faults are scripted per recipient (the mention, phone number or mail address):
`fake.script[to] = [HTTP500, retry_after(2), HANG, ...]` is consumed one entry
per request; an exhausted script answers OK.  The key "*" scripts requests
whose recipients have no script of their own.  Connection refused is a fake
that was closed, or a `Dead` port.

Every fake binds port 0 and keeps its socket until close(): the tests run in
parallel, and a port picked, closed and reused could be taken in between.
"""
import asyncio
import base64
import calendar
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import re
import socket
import threading
import time
import urllib.parse

from conftest import Server

# -- faults ------------------------------------------------------------------

OK = "ok"
HTTP500 = "http500"         # HTTP 500 with the vendor's error body (SMTP: 451)
HANG = "hang"               # hold the connection unanswered until the fake closes
DROP = "drop"               # close the connection without an answer
VENDOR_ERROR = "vendor"     # a transient vendor error code with HTTP 200 (SMTP: 452)
PERMANENT = "permanent"     # a vendor error that retrying cannot fix (SMTP: 550)


def retry_after(seconds):
    """HTTP 429 with `Retry-After: seconds` (SMTP: 450)."""
    return ("429", seconds)


def fault_name(fault):
    return "429" if isinstance(fault, tuple) else fault


def bound_socket(listen):
    """A TCP socket on a port of 127.0.0.1 the kernel picked, listening or not."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        if listen:
            s.listen(socket.SOMAXCONN)
    except OSError:
        s.close()
        raise
    return s


class Dead:
    """A port nobody listens on: connecting to it is refused.  A socket is
    bound to it and never listens (the kernel answers a SYN with a reset),
    and it is held until close(), so no other test can take the port."""

    def __init__(self):
        self.sock = bound_socket(listen=False)
        self.port = self.sock.getsockname()[1]

    def url(self, scheme="http", path="/"):
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)

    def close(self):
        self.sock.close()


MAX_BODY = 1 << 20


# -- signatures, as the vendors document them --------------------------------

def dingtalk_sign(secret, timestamp_ms):
    """base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret)), before URL-encoding."""
    msg = ("%s\n%s" % (timestamp_ms, secret)).encode()
    return base64.b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()


def feishu_sign(secret, timestamp_s):
    """base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg=b""))."""
    key = ("%s\n%s" % (timestamp_s, secret)).encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def aliyun_percent(s):
    """RFC 3986 percent-encoding of UTF-8: only A-Z a-z 0-9 - _ . ~ stay."""
    return urllib.parse.quote(s, safe="-_.~")


def aliyun_signature(params, secret, method="POST"):
    """Aliyun RPC signature v1 over every parameter but Signature."""
    canon = "&".join("%s=%s" % (aliyun_percent(k), aliyun_percent(v))
                     for k, v in sorted(params.items()) if k != "Signature")
    to_sign = "%s&%s&%s" % (method, aliyun_percent("/"), aliyun_percent(canon))
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


# -- SMS length, as carriers count it -----------------------------------------

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXT = set("^{}\\[~]|€\f")


def sms_units(text):
    """(units, ucs2): GSM 7-bit septets, or UTF-16 code units when any
    character is outside the GSM 03.38 alphabet."""
    if all(c in GSM_BASIC or c in GSM_EXT for c in text):
        return sum(2 if c in GSM_EXT else 1 for c in text), False
    return len(text.encode("utf-16-le")) // 2, True


def sms_segments(text):
    units, ucs2 = sms_units(text)
    single, part = (70, 67) if ucs2 else (160, 153)
    if units <= single:
        return 1
    return -(-units // part)


# -- HTTP fakes ---------------------------------------------------------------

class HttpFake:
    """The common part: a threaded HTTP server, recording and scripting."""

    vendor = "http"
    rate = None             # (requests, seconds) the vendor allows per destination

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []      # every request, answered or not, in arrival order
        self.violations = []    # (what, request) the vendor would have refused
        self.script = {}        # recipient -> list of faults
        self.release = threading.Event()
        self.closed = False
        self._window = []       # arrival times for the vendor's rate limit
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                fake._serve(self)

            def do_GET(self):
                fake._serve(self)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        """Stops listening (later connections are refused) and lets hung requests go."""
        if self.closed:
            return
        self.closed = True
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    # -- queries for tests --------------------------------------------------
    def all(self, recipient=None):
        with self.lock:
            return [r for r in self.requests
                    if recipient is None or recipient in r["recipients"]]

    def delivered(self, recipient=None):
        """Requests the vendor accepted (what a person would see)."""
        return [r for r in self.all(recipient) if r["accepted"]]

    def wait_delivered(self, recipients, timeout=10.0, what=None):
        from conftest import wait_until
        wait_until(lambda: all(self.delivered(r) for r in recipients), timeout,
                   what=what or "%s to deliver to %s" % (self.vendor, sorted(recipients)))

    # -- the request path ---------------------------------------------------
    def _serve(self, h):
        t = time.time()
        n = h.headers.get("Content-Length")
        if n is None or not n.isdigit() or int(n) > MAX_BODY:
            raw = b""
            bad = "Content-Length missing or over %d" % MAX_BODY
        else:
            raw = h.rfile.read(int(n))
            bad = None
        split = urllib.parse.urlsplit(h.path)
        req = {
            "at": t, "answered_at": None, "method": h.command, "path": split.path,
            "query": urllib.parse.parse_qs(split.query, keep_blank_values=True),
            "headers": dict(h.headers), "raw": raw, "body": None, "recipients": [],
            "title": None, "text": None, "fault": None, "status": None, "reply": None,
            "accepted": False,
        }
        with self.lock:
            self.requests.append(req)
        try:
            problem = bad or self.check(req)
        except Exception as e:      # a fake must never take the server thread down
            problem = "the fake could not read the request: %r" % (e,)
        if problem:
            with self.lock:
                self.violations.append((problem, req))
            status, headers, body = self.refuse(problem, req)
            return self._answer(h, req, status, headers, body)
        if self._over_rate(t):
            with self.lock:
                self.violations.append(("over the vendor's rate limit %d/%ds"
                                        % self.rate, req))
            status, headers, body = self.limited(req)
            return self._answer(h, req, status, headers, body)
        fault = self._next_fault(req["recipients"])
        req["fault"] = fault_name(fault)
        if fault == HANG:
            self.release.wait()
            h.close_connection = True
            return
        if fault == DROP:
            h.close_connection = True
            return
        if isinstance(fault, tuple):
            status, headers, body = self.limited(req)
            headers = dict(headers, **{"Retry-After": str(fault[1])})
        elif fault == HTTP500:
            status, headers, body = self.server_error(req)
        elif fault == VENDOR_ERROR:
            status, headers, body = self.vendor_error(req)
        elif fault == PERMANENT:
            status, headers, body = self.permanent_error(req)
        else:
            status, headers, body = self.success(req)
            req["accepted"] = True
        self._answer(h, req, status, headers, body)

    def _answer(self, h, req, status, headers, body):
        if isinstance(body, str):       # a gateway's page, not the vendor's JSON
            data, ctype = body.encode(), "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(body, ensure_ascii=False).encode(), \
                "application/json; charset=utf-8"
        req["status"] = status
        req["reply"] = body
        # Taken before the write: dutyd cannot have the answer earlier, so a
        # gap measured from here is a bound a scheduler's delay cannot break
        # (taken after the flush, this thread ran 23 ms after dutyd had the
        # answer on a loaded machine, and a 1 s Retry-After looked ignored).
        began = time.time()
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            h.wfile.flush()
        except OSError:
            req["accepted"] = False     # the client had gone: nobody saw it
        req["answered_at"] = began

    def _next_fault(self, recipients):
        with self.lock:
            for r in list(recipients) + ["*"]:
                queue = self.script.get(r)
                if queue:
                    return queue.pop(0)
            return OK

    def _over_rate(self, t):
        if self.rate is None:
            return False
        n, window = self.rate
        with self.lock:
            self._window = [x for x in self._window if x > t - window]
            self._window.append(t)
            return len(self._window) > n

    # -- shared checks ------------------------------------------------------
    @staticmethod
    def json_body(req):
        ctype = req["headers"].get("Content-Type", "")
        if not ctype.lower().startswith("application/json"):
            return None, "Content-Type is %r, not application/json" % ctype
        try:
            body = json.loads(req["raw"].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            return None, "body is not UTF-8 JSON: %s" % e
        if not isinstance(body, dict):
            return None, "body is not a JSON object"
        req["body"] = body
        return body, None

    @staticmethod
    def form_body(req):
        ctype = req["headers"].get("Content-Type", "")
        if not ctype.lower().startswith("application/x-www-form-urlencoded"):
            return None, "Content-Type is %r, not application/x-www-form-urlencoded" % ctype
        try:
            pairs = urllib.parse.parse_qsl(req["raw"].decode("ascii"), keep_blank_values=True,
                                           strict_parsing=bool(req["raw"]),
                                           encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError) as e:
            return None, "form body is not percent-encoded UTF-8: %s" % e
        form = {}
        for k, v in pairs:
            if k in form:
                return None, "parameter %s sent twice" % k
            form[k] = v
        req["body"] = form
        return form, None

    # -- per vendor ---------------------------------------------------------
    def check(self, req):
        """Fill req body/recipients/title/text; return a problem or None."""
        raise NotImplementedError

    def refuse(self, problem, req):
        raise NotImplementedError

    def success(self, req):
        raise NotImplementedError

    def server_error(self, req):
        return 500, {}, {"errcode": -1, "errmsg": "internal error"}

    def vendor_error(self, req):
        raise NotImplementedError

    def permanent_error(self, req):
        raise NotImplementedError

    def limited(self, req):
        raise NotImplementedError


class DingTalk(HttpFake):
    """DingTalk custom group robot (自定义机器人)."""

    vendor = "dingtalk"
    rate = (20, 60)

    def __init__(self, token="ding-token", secret=None):
        self.token = token
        self.secret = secret
        super().__init__()
        self.url = "%s/robot/send?access_token=%s" % (self.base, token)

    def check(self, req):
        q = req["query"]
        if req["method"] != "POST" or req["path"] != "/robot/send":
            return "not POST /robot/send"
        if q.get("access_token") != [self.token]:
            return "access_token %r is not the robot's" % q.get("access_token")
        if self.secret is not None:
            ts, sign = q.get("timestamp", [""])[0], q.get("sign", [""])[0]
            if not ts.isdigit():
                return "timestamp missing or not milliseconds: %r" % ts
            if abs(int(ts) - time.time() * 1000) >= 3600 * 1000:
                return "timestamp %s is more than 1 h from now" % ts
            if not hmac.compare_digest(sign, dingtalk_sign(self.secret, ts)):
                return "sign does not match (got %r)" % sign
        elif "sign" in q:
            return "signed although the robot has no secret"
        body, problem = self.json_body(req)
        if problem:
            return problem
        if body.get("msgtype") != "markdown":
            return "msgtype %r, expected markdown" % body.get("msgtype")
        md = body.get("markdown")
        if not isinstance(md, dict) or not isinstance(md.get("title"), str) \
                or not isinstance(md.get("text"), str) or not md["title"] or not md["text"]:
            return "markdown.title and markdown.text must be non-empty strings"
        at = body.get("at", {})
        mobiles = at.get("atMobiles", []) if isinstance(at, dict) else None
        if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
            return "at.atMobiles must be a list of strings"
        if len(set(mobiles)) != len(mobiles):
            return "at.atMobiles mentions someone twice: %r" % mobiles
        for m in mobiles:
            # DingTalk only renders a mention whose @mobile is in the text.
            if "@" + m not in md["text"]:
                return "@%s is in atMobiles but not in markdown.text" % m
        req["recipients"] = mobiles
        req["title"] = md["title"]
        req["text"] = md["text"]
        return None

    def refuse(self, problem, req):
        if "access_token" in problem:
            return 200, {}, {"errcode": 300001, "errmsg": "token is not exist"}
        if "sign" in problem or "timestamp" in problem:
            return 200, {}, {"errcode": 310000, "errmsg": "sign not match"}
        return 200, {}, {"errcode": 40035, "errmsg": "缺少参数 json: " + problem}

    def success(self, req):
        return 200, {}, {"errcode": 0, "errmsg": "ok"}

    def vendor_error(self, req):
        return 200, {}, {"errcode": -1, "errmsg": "系统繁忙"}

    def permanent_error(self, req):
        return 200, {}, {"errcode": 310000, "errmsg": "keywords not in content"}

    def limited(self, req):
        return 429, {}, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}


class WeCom(HttpFake):
    """WeCom group robot (企业微信群机器人)."""

    vendor = "wecom"
    rate = (20, 60)

    def __init__(self, key="wecom-key"):
        self.key = key
        super().__init__()
        self.url = "%s/cgi-bin/webhook/send?key=%s" % (self.base, key)

    def check(self, req):
        if req["method"] != "POST" or req["path"] != "/cgi-bin/webhook/send":
            return "not POST /cgi-bin/webhook/send"
        if req["query"].get("key") != [self.key]:
            return "key %r is not the robot's" % req["query"].get("key")
        body, problem = self.json_body(req)
        if problem:
            return problem
        kind = body.get("msgtype")
        part = body.get(kind) if kind in ("text", "markdown") else None
        if not isinstance(part, dict) or not isinstance(part.get("content"), str) \
                or not part["content"]:
            return "msgtype %r without a non-empty %r.content" % (kind, kind)
        limit = 2048 if kind == "text" else 4096
        if len(part["content"].encode()) > limit:
            return "%s.content is %d bytes, over %d" % (kind, len(part["content"].encode()), limit)
        mobiles = part.get("mentioned_mobile_list", [])
        if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
            return "mentioned_mobile_list must be a list of strings"
        if kind == "markdown" and mobiles:
            return "markdown messages do not support mentioned_mobile_list"
        req["recipients"] = mobiles
        req["text"] = part["content"]
        return None

    def refuse(self, problem, req):
        if "key" in problem:
            return 200, {}, {"errcode": 93000, "errmsg": "invalid webhook url"}
        return 200, {}, {"errcode": 40008, "errmsg": "invalid message type: " + problem}

    def success(self, req):
        return 200, {}, {"errcode": 0, "errmsg": "ok"}

    def vendor_error(self, req):
        return 200, {}, {"errcode": -1, "errmsg": "system busy"}

    def permanent_error(self, req):
        return 200, {}, {"errcode": 93000, "errmsg": "invalid webhook url"}

    def limited(self, req):
        return 429, {}, {"errcode": 45009, "errmsg": "api freq out of limit"}


class Feishu(HttpFake):
    """Feishu custom bot (飞书自定义机器人)."""

    vendor = "feishu"
    rate = (100, 60)
    AT = re.compile(r'<at user_id="([^"]*)">')

    def __init__(self, hook="feishu-hook", secret=None):
        self.hook = hook
        self.secret = secret
        super().__init__()
        self.url = "%s/open-apis/bot/v2/hook/%s" % (self.base, hook)

    def check(self, req):
        if req["method"] != "POST" or req["path"] != "/open-apis/bot/v2/hook/" + self.hook:
            return "not POST /open-apis/bot/v2/hook/%s" % self.hook
        body, problem = self.json_body(req)
        if problem:
            return problem
        if self.secret is not None:
            ts, sign = body.get("timestamp"), body.get("sign")
            if not isinstance(ts, str) or not ts.isdigit():
                return "timestamp must be a string of seconds, got %r" % (ts,)
            if abs(int(ts) - time.time()) >= 3600:
                return "timestamp %s is more than 1 h from now" % ts
            if not isinstance(sign, str) or not hmac.compare_digest(sign, feishu_sign(self.secret, ts)):
                return "sign does not match (got %r)" % (sign,)
        if body.get("msg_type") != "text":
            return "msg_type %r, expected text" % body.get("msg_type")
        content = body.get("content")
        if not isinstance(content, dict) or not isinstance(content.get("text"), str) \
                or not content["text"]:
            return "content.text must be a non-empty string"
        req["recipients"] = self.AT.findall(content["text"])
        req["text"] = content["text"]
        return None

    def refuse(self, problem, req):
        if "sign" in problem or "timestamp" in problem:
            return 200, {}, {"code": 19021, "msg": "sign match fail or timestamp is not "
                             "within one hour from current time"}
        if "not POST" in problem:
            return 404, {}, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
        return 400, {}, {"code": 9499, "msg": "Bad Request: " + problem}

    def success(self, req):
        return 200, {}, {"code": 0, "data": {}, "msg": "success"}

    def server_error(self, req):
        return 500, {}, "Internal Server Error"

    def vendor_error(self, req):
        return 200, {}, {"code": 9499, "msg": "too many request"}

    def permanent_error(self, req):
        return 200, {}, {"code": 19024, "msg": "Key Words Not Found"}

    def limited(self, req):
        return 429, {}, {"code": 9499, "msg": "too many request"}


class Twilio(HttpFake):
    """Twilio Programmable Messaging: create a Message."""

    vendor = "twilio"
    E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")

    def __init__(self, sid="AC0123456789abcdef0123456789abcdef", token="twilio-token",
                 sender="+15005550006"):
        self.sid = sid
        self.token = token
        self.sender = sender
        self._n = 0
        super().__init__()
        self.url = self.base

    def check(self, req):
        if req["method"] != "POST" or req["path"] != "/2010-04-01/Accounts/%s/Messages.json" % self.sid:
            return "not POST /2010-04-01/Accounts/%s/Messages.json" % self.sid
        want = "Basic " + base64.b64encode(("%s:%s" % (self.sid, self.token)).encode()).decode()
        if not hmac.compare_digest(req["headers"].get("Authorization", ""), want):
            return "authenticate: Basic auth is not account_sid:auth_token"
        form, problem = self.form_body(req)
        if problem:
            return problem
        for k in ("To", "From", "Body"):
            if not form.get(k):
                return "missing %s" % k
        if not self.E164.match(form["To"]):
            return "To %r is not an E.164 number" % form["To"]
        if form["From"] != self.sender:
            return "From %r is not the account's number %s" % (form["From"], self.sender)
        if len(form["Body"]) > 1600:
            return "Body is %d characters, over 1600" % len(form["Body"])
        req["recipients"] = [form["To"]]
        req["text"] = form["Body"]
        return None

    @staticmethod
    def error(status, code, message):
        return status, {}, {"code": code, "message": message, "status": status,
                            "more_info": "https://www.twilio.com/docs/errors/%d" % code}

    def refuse(self, problem, req):
        if problem.startswith("authenticate"):
            return self.error(401, 20003, "Authenticate")
        if problem.startswith("not POST"):
            return self.error(404, 20404, "The requested resource was not found")
        if problem.startswith("To "):
            return self.error(400, 21211, "Invalid 'To' Phone Number")
        return self.error(400, 21602, "Message body is required: " + problem)

    def success(self, req):
        with self.lock:
            self._n += 1
            sid = "SM%032x" % self._n
        form = req["body"]
        return 201, {}, {"sid": sid, "account_sid": self.sid, "to": form["To"],
                         "from": form["From"], "body": form["Body"], "status": "queued",
                         "num_segments": str(sms_segments(form["Body"]))}

    def server_error(self, req):
        return self.error(500, 20500, "Internal Server Error")

    def vendor_error(self, req):
        return self.error(500, 20500, "Internal Server Error")

    def permanent_error(self, req):
        return self.error(400, 21211, "Invalid 'To' Phone Number")

    def limited(self, req):
        return self.error(429, 20429, "Too Many Requests")


class Aliyun(HttpFake):
    """Aliyun Dysmsapi SendSms, RPC style, signature v1."""

    vendor = "aliyun"
    REQUIRED = ("AccessKeyId", "Action", "PhoneNumbers", "SignName", "TemplateCode",
                "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp",
                "Version", "Signature")

    def __init__(self, key_id="LTAI-test-key", secret="aliyun-secret", sign_name="应急值守",
                 template_code="SMS_1"):
        self.key_id = key_id
        self.secret = secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.nonces = set()
        self._n = 0
        super().__init__()
        self.url = self.base + "/"

    def check(self, req):
        if req["method"] != "POST" or req["path"] != "/":
            return "not POST /"
        form, problem = self.form_body(req)
        if problem:
            return problem
        for k in self.REQUIRED:
            if not form.get(k):
                return "MissingParameter: %s" % k
        if form["AccessKeyId"] != self.key_id:
            return "InvalidAccessKeyId.NotFound: %s" % form["AccessKeyId"]
        fixed = {"Action": "SendSms", "SignatureMethod": "HMAC-SHA1",
                 "SignatureVersion": "1.0", "Version": "2017-05-25"}
        for k, v in fixed.items():
            if form[k] != v:
                return "InvalidParameter: %s is %r, not %r" % (k, form[k], v)
        if form.get("Format", "XML") != "JSON":
            return "InvalidParameter: Format is %r; this client parses JSON" % form.get("Format")
        try:
            ts = calendar.timegm(time.strptime(form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            return "InvalidTimeStamp.Format: %r" % form["Timestamp"]
        if abs(ts - time.time()) > 15 * 60:
            return "InvalidTimeStamp.Expired: %s" % form["Timestamp"]
        if not hmac.compare_digest(form["Signature"], aliyun_signature(form, self.secret)):
            return "SignatureDoesNotMatch"
        with self.lock:
            if form["SignatureNonce"] in self.nonces:
                return "SignatureNonceUsed: %s" % form["SignatureNonce"]
            self.nonces.add(form["SignatureNonce"])
        if form["SignName"] != self.sign_name:
            return "isv.SMS_SIGNATURE_ILLEGAL: %r" % form["SignName"]
        if form["TemplateCode"] != self.template_code:
            return "isv.SMS_TEMPLATE_ILLEGAL: %r" % form["TemplateCode"]
        try:
            params = json.loads(form.get("TemplateParam", "{}"))
        except ValueError:
            return "isv.INVALID_JSON_PARAM: TemplateParam is not JSON"
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return "isv.INVALID_JSON_PARAM: TemplateParam must be an object of strings"
        req["template_param"] = params
        req["recipients"] = form["PhoneNumbers"].split(",")
        req["text"] = " ".join(params.values())
        return None

    def refuse(self, problem, req):
        code, _, message = problem.partition(": ")
        if code.startswith("not POST"):
            return 404, {}, {"Code": "InvalidAction.NotFound", "Message": problem}
        if not re.match(r"^[A-Za-z.]+$", code):
            code, message = "InvalidParameter", problem
        status = 200 if code.startswith("isv.") else (404 if "NotFound" in code else 400)
        return status, {}, {"Code": code, "Message": message or code,
                            "RequestId": "fake-%d" % len(self.requests)}

    def success(self, req):
        with self.lock:
            self._n += 1
            n = self._n
        return 200, {}, {"Code": "OK", "Message": "OK", "BizId": "%d^0" % (900000 + n),
                         "RequestId": "fake-%d" % n}

    def server_error(self, req):
        return 500, {}, {"Code": "InternalError", "Message": "The request processing has failed "
                         "due to some unknown error."}

    def vendor_error(self, req):
        return 200, {}, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"}

    def permanent_error(self, req):
        return 200, {}, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}

    def limited(self, req):
        return 429, {}, {"Code": "Throttling.User", "Message": "Request was denied due to user flow control."}


# -- SMTP -----------------------------------------------------------------------

class Smtp:
    """A plain SMTP server (no STARTTLS: there is no certificate) on aiosmtpd.
    `messages` holds accepted messages; `transactions` every DATA, and `mails`
    every MAIL FROM, so a test can tell that nothing was even attempted."""

    vendor = "smtp"

    def __init__(self):
        from aiosmtpd.controller import Controller
        self.lock = threading.Lock()
        self.script = {}
        self.violations = []
        self.transactions = []
        self.messages = []
        self.mails = []
        self.release = threading.Event()
        self.closed = False
        sock = bound_socket(listen=True)
        self.port = sock.getsockname()[1]
        self.url = "smtp://127.0.0.1:%d" % self.port

        class BoundController(Controller):
            """aiosmtpd's Controller serving the socket bound above, not a
            port it binds itself."""

            def _create_server(self):
                return self.loop.create_server(self._factory_invoker, sock=sock,
                                               ssl=self.ssl_context)
        self.controller = BoundController(_SmtpHandler(self), hostname="127.0.0.1",
                                          port=self.port, ready_timeout=10)
        try:
            self.controller.start()
        except BaseException:
            sock.close()
            raise

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.release.set()
        self.controller.stop()

    def delivered(self, recipient=None):
        with self.lock:
            return [m for m in self.messages if recipient is None or recipient in m["recipients"]]

    def wait_delivered(self, recipients, timeout=10.0, what=None):
        from conftest import wait_until
        wait_until(lambda: all(self.delivered(r) for r in recipients), timeout,
                   what=what or "mail to %s" % sorted(recipients))

    def all(self, recipient=None):
        with self.lock:
            return [t for t in self.transactions if recipient is None or recipient in t["recipients"]]

    def _next_fault(self, recipients):
        with self.lock:
            for r in list(recipients) + ["*"]:
                queue = self.script.get(r)
                if queue:
                    return queue.pop(0)
            return OK

    def check(self, content):
        """What a strict MTA or reader would object to, or None."""
        if re.search(rb"(?<!\r)\n", content):
            return "bare LF in the message (SMTP needs CRLF)"
        head = content.split(b"\r\n\r\n", 1)[0]
        if any(b > 0x7f for b in head):
            return "8-bit bytes in the header (no SMTPUTF8): use RFC 2047 encoded-words"
        if any(len(line) > 998 for line in content.split(b"\r\n")):
            return "a line over 998 characters"
        for word in re.findall(rb"=\?[^?]+\?[BbQq]\?[^?]*\?=", head):
            if len(word) > 75:
                return "encoded-word over 75 characters: %r" % word[:40]
        msg = email.message_from_bytes(content, policy=email.policy.default)
        for name in ("Date", "From"):
            if msg[name] is None:
                return "no %s header (RFC 5322 requires it)" % name
        return None


class _SmtpHandler:
    def __init__(self, fake):
        self.fake = fake

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.fake.lock:
            self.fake.mails.append({"at": time.time(), "from": address})
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        fake = self.fake
        rcpts = [a.strip("<>").lower() for a in envelope.rcpt_tos]
        content = envelope.original_content or envelope.content
        t = {"at": time.time(), "answered_at": None, "mail_from": envelope.mail_from,
             "recipients": rcpts, "raw": content, "fault": None, "reply": None,
             "accepted": False}
        with fake.lock:
            fake.transactions.append(t)
        problem = fake.check(content)
        if problem:
            with fake.lock:
                fake.violations.append((problem, t))
            t["reply"] = "554 5.6.0 " + problem.replace("\r", " ").replace("\n", " ")
            return t["reply"]
        fault = fake._next_fault(rcpts)
        t["fault"] = fault_name(fault)
        if fault == DROP:
            server.transport.close()
            t["reply"] = "(connection closed)"
        elif fault == HANG:
            while not fake.release.is_set():
                await asyncio.sleep(0.05)       # polls for close(): a threading.Event cannot be awaited
            t["reply"] = "421 4.3.2 shutting down"
        elif isinstance(fault, tuple):
            t["reply"] = "450 4.7.1 rate limited, try again in %d s" % fault[1]
        elif fault == HTTP500:
            t["reply"] = "451 4.3.0 temporary local problem, try again later"
        elif fault == VENDOR_ERROR:
            t["reply"] = "452 4.3.1 insufficient system storage"
        elif fault == PERMANENT:
            t["reply"] = "550 5.1.1 no such mailbox"
        else:
            msg = email.message_from_bytes(content, policy=email.policy.default)
            t["message"] = msg
            t["accepted"] = True
            t["reply"] = "250 2.0.0 OK queued as %d" % len(fake.transactions)
            with fake.lock:
                fake.messages.append(t)
        t["answered_at"] = time.time()
        return t["reply"]


def close_all(*fakes):
    for f in fakes:
        if f is not None:
            f.close()
