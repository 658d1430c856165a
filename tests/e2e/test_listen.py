"""Where dutyd listens: the socket systemd passes (socket activation, as
every other test starts it) or the configured `listen` address.

systemd passes the socket blocking unless the unit says NonBlocking=yes
(contrib/systemd/dutyd.socket does not), so dutyd must make it non-blocking
itself: libevent's accept loop would otherwise block in accept() and the
daemon would log "ready" and then answer nothing, not even SIGTERM.
"""
import fcntl
import http.client
import os
import socket
import time

import pytest

O_CLOEXEC = 0o2000000       # as /proc/PID/fdinfo shows it in "flags:"


def fd_flags(pid, fd):
    with open("/proc/%d/fdinfo/%d" % (pid, fd)) as f:
        for line in f:
            if line.startswith("flags:"):
                return int(line.split()[1], 8)
    raise AssertionError("no flags in /proc/%d/fdinfo/%d" % (pid, fd))


def test_a_blocking_passed_socket_is_served_and_stops(make_dutyd, sink):
    d = make_dutyd()
    d.start()               # hands over the socket blocking, as systemd does
    # The passed socket is dutyd's fd 3, now non-blocking and close-on-exec
    # (O_NONBLOCK is the shared file's flag: the harness's copy shows it too).
    flags = fd_flags(d.proc.pid, 3)
    assert flags & os.O_NONBLOCK, "fd 3 flags %o: still blocking" % flags
    assert flags & O_CLOEXEC, "fd 3 flags %o: a plugin's child would inherit it" % flags
    assert fcntl.fcntl(d.listener.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK
    # More connections at once than one accept() takes: the loop must come
    # back from an empty backlog (EAGAIN), not block in accept().
    conns = []
    for _ in range(8):
        c = http.client.HTTPConnection(d.host, d.port, timeout=10)
        c.connect()
        conns.append(c)
    for c in conns:
        c.request("GET", "/healthz")
    for c in conns:
        assert c.getresponse().status == 200
        c.close()
    iid = d.report().json["id"]
    sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    t0 = time.monotonic()
    d.stop()                # asserts a clean exit
    assert time.monotonic() - t0 < 20, "SIGTERM took %.1fs" % (time.monotonic() - t0)


def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def unlistened_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s


@pytest.mark.parametrize("make", [udp_socket, unlistened_socket], ids=["udp", "not-listening"])
def test_a_passed_socket_that_cannot_accept_is_a_clear_error(make_dutyd, make):
    d = make_dutyd()
    d.listener.close()
    d.listener = make()     # closed with the Dutyd, as its own socket would be
    d.start(wait=False)
    rc = d.proc.wait(timeout=60)
    notes = d.poll_notes()
    d.notify.close()
    err = d.stderr()
    assert rc == 1, "exit %d:\n%s" % (rc, err)
    assert not any("READY=1" in n for n in notes), notes
    assert "not a listening stream socket" in err and "ListenStream=" in err, err
    assert "Sanitizer" not in err and "runtime error" not in err, err


def test_the_configured_listen_address(make_dutyd, sink):
    """Without a passed socket dutyd binds `listen` itself.  The port is the
    Dutyd's own, which the harness keeps listening on 127.0.0.1, so no other
    test can take it: on 127.0.0.1 it is in use (a clear error), and on
    127.0.0.2, another loopback address, it is dutyd's."""
    d = make_dutyd()
    busy = "127.0.0.1:%d" % d.port
    d.start(wait=False, activate=False)
    rc = d.proc.wait(timeout=60)
    d.notify.close()
    err = d.stderr()
    assert rc == 1, "exit %d:\n%s" % (rc, err)
    assert "cannot listen on %s" % busy in err and "Change `listen`" in err, err

    with open(d.config_path) as f:
        text = f.read()
    assert 'listen: "%s"' % busy in text
    with open(d.config_path, "w") as f:
        f.write(text.replace('listen: "%s"' % busy, 'listen: "127.0.0.2:%d"' % d.port))
    d.host = "127.0.0.2"
    d.start(activate=False)
    assert "listening on 127.0.0.2:%d" % d.port in d.stderr()
    iid = d.report().json["id"]
    sink.wait_delivered("incident.new", iid, {"zhang", "li"})
    d.stop()
    # Stopped, the port is free again: nothing listens on 127.0.0.2 now.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", d.port), timeout=10).close()

