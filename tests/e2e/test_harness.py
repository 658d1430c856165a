"""The harness itself: what the tests read from a running dutyd must be what
dutyd has written, never half of it."""
import http.client
import json
import os
import socket
import time

from conftest import Dutyd, Server, Sink, audit_records, whole_lines


def record(seq, event="dutyd.started"):
    return json.dumps({"seq": seq, "event": event}).encode()


def test_a_record_being_written_is_not_read(tmp_path):
    """dutyd appends each record with one write(2), but a reader can see the
    first bytes of it before the rest (seen as JSONDecodeError on '{"seq"')."""
    state = tmp_path / "state"
    os.makedirs(state)
    with open(state / "audit-000000000001-000000000002.log", "wb") as f:
        f.write(record(1) + b"\n" + record(2) + b"\n")
    with open(state / "audit.log", "wb") as f:
        f.write(record(3) + b"\n" + b'{"seq"')
    assert [r["seq"] for r in audit_records(str(state))] == [1, 2, 3]

    class Sink:
        url = "http://127.0.0.1:9/hook"
    d = Dutyd(tmp_path / "d", Sink())
    try:
        os.makedirs(d.state_dir)
        with open(d.audit_path, "wb") as f:
            f.write(record(1) + b"\n" + record(2)[:7])
        assert [r["seq"] for r in d.audit()] == [1]
    finally:
        d.close()


def test_whole_lines():
    assert whole_lines(b"") == []
    assert whole_lines(b'{"seq":1') == []
    assert whole_lines(b"a\n") == [b"a"]
    assert whole_lines(b"a\nb\nc") == [b"a", b"b"]


def test_a_sink_answers_in_one_go_and_stops_when_closed():
    """dutyd's transport keeps its connection to a sink and waits for each
    answer: with Nagle's algorithm on the sink's socket, an answer's body
    (written after its headers) waited for the client's delayed ACK, 40 ms
    a webhook.  Timing it would be luck on a loaded machine; the socket
    option is what makes the difference, so the test reads it."""
    sink = Sink(secret=None)
    nodelay = []
    handle = sink.server.finish_request

    def finish_request(request, client_address):
        nodelay.append(request.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        handle(request, client_address)
    sink.server.finish_request = finish_request
    try:
        conn = http.client.HTTPConnection("127.0.0.1", sink.port, timeout=30)
        for i in range(3):
            body = json.dumps({"event": "report.received", "recipient": {"id": "p%d" % i}})
            conn.request("POST", "/hook", body=body.encode(),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            assert (r.status, r.read()) == (200, b"ok")
        conn.close()
        assert [r["body"]["recipient"]["id"] for r in sink.requests] == ["p0", "p1", "p2"]
        assert nodelay and all(nodelay), nodelay
    finally:
        sink.close()
    # close() woke the server's loop (no poll interval) and it has ended.
    assert not sink.thread.is_alive()


def test_records_of_one_kind_are_those_of_every_record(tmp_path):
    """audit_records(state_dir, event) parses only the lines that name the
    kind: it must return exactly what filtering every record returns, a
    record whose data only mentions the kind left out."""
    state = tmp_path / "state"
    os.makedirs(state)
    lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() for r in (
        {"seq": 1, "event": "incident.escalated", "incident": "INC-1"},
        {"seq": 2, "event": "notify.intent", "data": {"why": "incident.escalated"}},
        {"seq": 3, "event": "incident.escalated", "incident": "INC-2"},
        {"seq": 4, "event": "incident.escalated_not", "incident": "INC-3"},
    )]
    with open(state / "audit-000000000001-000000000002.log", "wb") as f:
        f.write(b"\n".join(lines[:2]) + b"\n")
    with open(state / "audit.log", "wb") as f:
        f.write(b"\n".join(lines[2:]) + b"\n" + lines[0][:12])
    every = [r for r in audit_records(str(state)) if r["event"] == "incident.escalated"]
    assert [r["seq"] for r in every] == [1, 3]
    assert audit_records(str(state), "incident.escalated") == every


def test_a_sink_has_ended_when_close_returns(monkeypatch):
    """close() returned once serve_forever had said it stopped, before its
    thread had returned: a thread descheduled in between was still alive
    (test_a_sink_answers_in_one_go_and_stops_when_closed failed now and
    then).  The moment is widened here so that the check cannot miss it."""
    serve = Server.serve_forever

    def slow_to_return(self, poll_interval=None):
        try:
            serve(self, poll_interval)
        finally:
            time.sleep(0.2)
    monkeypatch.setattr(Server, "serve_forever", slow_to_return)
    sink = Sink(secret=None)
    sink.close()
    assert not sink.thread.is_alive()
