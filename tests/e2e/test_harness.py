"""The harness itself: what the tests read from a running dutyd must be what
dutyd has written, never half of it."""
import json
import os

from conftest import Dutyd, audit_records, whole_lines


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
