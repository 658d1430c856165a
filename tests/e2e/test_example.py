"""What `make run` shows a newcomer: the example configuration as shipped
(etc/dutyd.yaml), its webhook's messages printed by tools/hooksink.py with
the signature checked, and the console answering at /."""
import os
import re
import subprocess
import sys

from conftest import PLUGIN_DIR, ROOT, listening_socket, wait_until

SINK = os.path.join(ROOT, "tools", "hooksink.py")


def example_for(d, sink_port):
    """etc/dutyd.yaml with only what a test must change: where it keeps its
    state, finds its plugins and reaches the sink (the port make run uses,
    9000, may be taken here)."""
    text = open(os.path.join(ROOT, "etc", "dutyd.yaml"), encoding="utf-8").read()
    assert 'url: "http://127.0.0.1:9000/hook"' in text and 'secret: "hmac-secret"' in text, \
        "the Makefile's run target starts the sink on 9000 with hmac-secret"
    text = text.replace("127.0.0.1:9000", "127.0.0.1:%d" % sink_port)
    text = re.sub(r'(?m)^state_dir: .*$', 'state_dir: "%s"' % d.state_dir, text)
    text = re.sub(r'(?m)^plugin_dir: .*$', 'plugin_dir: "%s"' % PLUGIN_DIR, text)
    # The calendar it includes stays in etc/: named relative to the copy's directory otherwise.
    text = text.replace("include: calendar-cn-2026.yaml",
                        "include: %s" % os.path.join(ROOT, "etc", "calendar-cn-2026.yaml"))
    return text


def test_make_run_shows_the_messages_and_the_console(make_dutyd, tmp_path):
    makefile = open(os.path.join(ROOT, "Makefile"), encoding="utf-8").read()
    assert "tools/hooksink.py 127.0.0.1:9000 hmac-secret" in makefile
    port_sock = listening_socket()
    port = port_sock.getsockname()[1]
    port_sock.close()
    out = open(tmp_path / "sink.out", "w+")
    sink = subprocess.Popen([sys.executable, SINK, "127.0.0.1:%d" % port, "hmac-secret"],
                            stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "printing" in open(out.name).read(), 10, what="the sink")
        d = make_dutyd()
        with open(d.config_path, "w") as f:
            f.write(example_for(d, port))
        d.start()
        assert "province.contacts is not configured" not in d.stderr()
        page = d.call("GET", "/")
        assert page.status == 200 and "text/html" in page.headers["Content-Type"]
        r = d.report(title="某镇化工厂爆炸", level="II", casualties={"dead": 1, "injured": 5})
        assert r.status == 201, r
        # Every person told, each line saying who and what, signed right.
        wait_until(lambda: open(out.name).read().count("→ ") >= 2, 15,
                   what="two messages printed: " + open(out.name).read())
        text = open(out.name).read()
        assert "→ 张伟 (zhang) [incident.new" in text and "某镇化工厂爆炸" in text, text
        assert "wrong X-Dutyd-Signature" not in text
        assert not [x for x in d.audit() if x["event"] == "notify.attempt"
                    and x["data"]["outcome"] != "delivered"]
        d.stop()
    finally:
        sink.terminate()
        sink.wait(10)
        out.close()


def test_the_sink_refuses_a_wrong_signature(tmp_path):
    import http.client
    port_sock = listening_socket()
    port = port_sock.getsockname()[1]
    port_sock.close()
    out = open(tmp_path / "sink.out", "w+")
    sink = subprocess.Popen([sys.executable, SINK, "127.0.0.1:%d" % port, "hmac-secret"],
                            stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "printing" in open(out.name).read(), 10, what="the sink")
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/hook", b'{"text": "x"}', {"X-Dutyd-Signature": "sha256=00"})
        assert c.getresponse().status == 401
        wait_until(lambda: "wrong X-Dutyd-Signature" in open(out.name).read(), 5,
                   what="the refusal said")
    finally:
        sink.terminate()
        sink.wait(10)
        out.close()
