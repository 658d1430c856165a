"""A throwaway PostgreSQL for the tests: Debian's postgresql-15 binaries, a
cluster in a temporary directory (on tmpfs, /dev/shm, when it has room: see
scratch_dir), reachable only on a Unix socket in that directory, run as an
unprivileged user (the `postgres` system user when the tests run as root;
initdb refuses root).  Every server is stopped by the PID in its
postmaster.pid.

    pg = PgServer().start()
    pg.conninfo            # "host=/…/sock port=5432 dbname=dutyd user=dutyd"
    pg.sql("SELECT count(*) FROM dutyd_audit")   # -> [("3",)]
    pg.stop(); pg.start()  # the same cluster again (a database outage)
    pg.close()

    pg = fresh_database()  # this process's server, with the database dutyd made afresh

initdb runs once per test run; each server starts from a copy.  The tests
share one server per process (per pytest-xdist worker, one test at a time):
a fresh database is made in a tenth of a second, a fresh server took one to
nine seconds (copy, start, stop) on a loaded machine, in each test.

The harness's own statements go through psycopg2 on a connection kept per
database and user, not a psql per statement: a psql and the server process
it starts (fork, catalog caches, exit) cost about 0.1 CPU-s, and the tests
ran hundreds of them a pass, most in waits that poll the table every 20 ms.
"""
import atexit
import fcntl
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
PORT = 5432          # only names the socket file: each server has its own directory
_template = {}
_template_lock = threading.Lock()
_shared = {}


def _psycopg2():
    """psycopg2, imported on first use: conftest imports this module in every
    run, with PostgreSQL tests or without (make deps installs python3-psycopg2)."""
    import psycopg2.extensions
    return psycopg2


def available():
    return os.path.exists(os.path.join(PG_BIN, "postgres"))


def _as_owner():
    """argv prefix and uid the servers run as."""
    if os.geteuid() != 0:
        return [], os.geteuid(), os.getegid()
    pw = pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--"], pw.pw_uid, pw.pw_gid


def _chown_tree(path, uid, gid):
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for name in files:
            os.chown(os.path.join(root, name), uid, gid)


def template_key():
    """One template per test run: pytest-xdist's workers are children of the
    process that runs the session (which removes it: see cleanup())."""
    return os.getppid() if "PYTEST_XDIST_WORKER" in os.environ else os.getpid()


# The clusters live in memory (tmpfs) when there is room: nothing here
# outlives the run, and fsync is off.  On ext4 a worker's copy of the
# template (1,300 files) and its removal took 0.3 to 0.7 CPU-s, on tmpfs
# 0.15, and each test's fresh database creates and deletes some 300 files
# more.  A small /dev/shm (a container's 64 MB, a small machine's) is left
# alone: the servers of both passes of make check hold a gigabyte or two.
SCRATCH_MIN_FREE = 4 << 30


def scratch_dir():
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize >= SCRATCH_MIN_FREE and os.access("/dev/shm", os.W_OK):
            return "/dev/shm"
    except OSError:
        pass
    return tempfile.gettempdir()


def template_top(key=None, where=None):
    name = "dutyd-pgtmpl-%d" % (key or template_key())
    if where is None:
        # Where the run's first worker put it, though /dev/shm has filled since.
        where = "/dev/shm" if os.path.exists(os.path.join("/dev/shm", name + ".lock")) \
            else scratch_dir()
    return os.path.join(where, name)


def cleanup():
    """Removes this run's template (the session's own process calls it at
    the end), wherever it is: /dev/shm's free space, which chose, changes
    as the servers fill it."""
    for where in {"/dev/shm", tempfile.gettempdir()}:
        top = template_top(os.getpid(), where)
        shutil.rmtree(top, ignore_errors=True)
        try:
            os.unlink(top + ".lock")
        except OSError:
            pass


def _template_dir():
    """A cluster made by initdb once per test run, with role and database
    dutyd; every worker copies it.  initdb takes a second and a half alone,
    half a minute when eight workers each run one on a loaded machine."""
    with _template_lock:
        if "dir" in _template:
            return _template["dir"]
        # Not a skip: make check installs postgresql-15, and a missing server is a set-up bug.
        assert available(), ("PostgreSQL 15's server is not in %s: run `make deps` "
                             "(it installs postgresql-15)" % PG_BIN)
        prefix, uid, gid = _as_owner()
        top = template_top()
        data = os.path.join(top, "data")
        with open(top + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(os.path.join(top, "ready")):
                shutil.rmtree(top, ignore_errors=True)
                os.mkdir(top, 0o755)
                os.chmod(top, 0o755)
                os.mkdir(data, 0o700)
                os.chown(data, uid, gid)
                subprocess.run(prefix + [os.path.join(PG_BIN, "initdb"), "-D", data, "-A",
                                         "trust", "-U", "postgres", "-E", "UTF8",
                                         "--locale=C.UTF-8", "--no-sync"],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                with open(os.path.join(data, "postgresql.conf"), "a") as f:
                    # Tests need no durability across a machine crash; the bench sets fsync on.
                    f.write("\nlisten_addresses = ''\nfsync = off\nfull_page_writes = off\n"
                            "max_connections = 40\nshared_buffers = 16MB\n"
                            "unix_socket_permissions = 0777\n")
                    # Fewer processes to start, wake and stop with each server
                    # (a worker's server lives for a few tests): no replication
                    # (dutyd's failover is one server's advisory lock, not a
                    # replica), no vacuum (no test's table lives long enough).
                    f.write("autovacuum = off\nwal_level = minimal\nmax_wal_senders = 0\n"
                            "max_logical_replication_workers = 0\n")
                    # A checkpoint every 64 MB keeps a server's WAL (in memory,
                    # above) under 100 MB, whatever a test writes.
                    f.write("min_wal_size = 32MB\nmax_wal_size = 64MB\n")
                srv = PgServer(None, data_dir=data)
                srv.start()
                srv.sql("CREATE ROLE dutyd LOGIN", db="postgres")
                srv.sql("CREATE DATABASE dutyd OWNER dutyd", db="postgres")
                srv.stop()
                open(os.path.join(top, "ready"), "w").close()
        if "PYTEST_XDIST_WORKER" not in os.environ:
            atexit.register(cleanup)
        _template["dir"] = data
        return data


class PgServer:
    def __init__(self, tmp_path=None, data_dir=None, fsync=False):
        self.prefix, self.uid, self.gid = _as_owner()
        self.top = None
        if data_dir is None:
            # Not under TMP_PATH: pytest makes those 0700, closed to the server's user.
            # The bench's durable server stays on disk: its figures are a disk's.
            top = self.top = tempfile.mkdtemp(
                prefix="dutyd-pg-", dir=tempfile.gettempdir() if fsync else scratch_dir())
            os.chmod(top, 0o755)
            data_dir = os.path.join(top, "data")
            try:
                shutil.copytree(_template_dir(), data_dir, symlinks=True)
            except BaseException:
                shutil.rmtree(top, ignore_errors=True)
                raise
            os.chmod(data_dir, 0o700)
            if fsync:
                with open(os.path.join(data_dir, "postgresql.conf"), "a") as f:
                    f.write("\nfsync = on\nfull_page_writes = on\n")
                    # And the rest as PostgreSQL ships it: the bench's figures
                    # compare with a real server's, not with the tests' one.
                    f.write("autovacuum = on\nwal_level = replica\nmax_wal_senders = 10\n"
                            "max_logical_replication_workers = 4\n"
                            "min_wal_size = 80MB\nmax_wal_size = 1GB\n")
            _chown_tree(data_dir, self.uid, self.gid)
        self.data = data_dir
        self.sock = os.path.join(os.path.dirname(data_dir), "sock")
        os.makedirs(self.sock, exist_ok=True)
        os.chmod(self.sock, 0o755)
        os.chown(self.sock, self.uid, self.gid)
        self.log = os.path.join(os.path.dirname(data_dir), "postgres.log")
        self.proc = None
        self._conns = {}        # (database, user) -> the kept psycopg2 connection

    @property
    def conninfo(self):
        return "host=%s port=%d dbname=dutyd user=dutyd" % (self.sock, PORT)

    def url(self, db="dutyd"):
        """The same as a postgresql:// URI (the socket directory as host)."""
        from urllib.parse import quote
        return "postgresql://dutyd@/%s?host=%s&port=%d" % (db, quote(self.sock, safe=""), PORT)

    def start(self, timeout=30):
        if self.proc is not None and self.proc.poll() is None:
            return self
        with open(self.log, "ab") as log:
            # The postmaster itself, not pg_ctl: its PID is ours to stop.
            self.proc = subprocess.Popen(
                self.prefix + [os.path.join(PG_BIN, "postgres"), "-D", self.data,
                               "-k", self.sock, "-p", str(PORT)],
                stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self._ready():
                return self
            if self.proc.poll() is not None:
                raise AssertionError("PostgreSQL exited %s:\n%s" % (self.proc.returncode,
                                                                    self.tail()))
            if time.monotonic() > deadline:
                raise AssertionError("PostgreSQL not ready in %ss:\n%s" % (timeout, self.tail()))
            time.sleep(0.05)

    def _ready(self):
        """What pg_ctl -w waits for, with no pg_isready process a poll: the
        postmaster.pid of this start (the file's PID is our child, or the
        runuser child's) says "ready", written once it accepts connections."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                lines = f.read().split("\n")
            pid = int(lines[0])
            if pid != self.proc.pid:
                with open("/proc/%d/stat" % pid) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                if ppid != self.proc.pid:
                    return False
            return len(lines) > 7 and lines[7].strip() == "ready"
        except (OSError, ValueError, IndexError):
            return False

    def tail(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""

    def _pids(self):
        """The postmaster's PID: the runuser child when run through runuser."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return [int(f.readline())]
        except (OSError, ValueError):
            return []

    def stop(self, mode=signal.SIGINT, timeout=30):
        """SIGINT: PostgreSQL's fast shutdown (clients cut off at once)."""
        self._disconnect()
        if self.proc is None:
            return
        for pid in self._pids() or [self.proc.pid]:
            try:
                os.kill(pid, mode)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in self._pids():
                os.kill(pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError("PostgreSQL did not stop in %ss" % timeout)
        self.proc = None

    def close(self):
        self.stop()
        if self.top is not None:
            shutil.rmtree(self.top, ignore_errors=True)

    def _disconnect(self, db=None):
        """Closes the kept connections (to DB only, if given)."""
        for key in [k for k in self._conns if db is None or k[0] == db]:
            self._conns.pop(key).close()

    def connect(self, db="dutyd", user=None):
        """A session of its own (the caller closes it), in autocommit as
        psql -c: it holds no transaction, so no lock, between statements.
        UTF-8 whatever the locale: lines are compared byte for byte."""
        psycopg2 = _psycopg2()
        conn = psycopg2.connect(host=self.sock, port=PORT, dbname=db,
                                user=user or ("postgres" if db == "postgres" else "dutyd"),
                                application_name="pgserver",
                                options="-c client_encoding=UTF8")
        conn.autocommit = True
        # psycopg2 turns numbers, booleans, bytea, json, arrays into Python
        # values; sql() answers what psql -At printed, the server's text of
        # each value, so every type psycopg2 would convert is read as text.
        psycopg2.extensions.register_type(psycopg2.extensions.new_type(
            tuple(psycopg2.extensions.string_types), "PGSERVER_AS_TEXT",
            lambda value, cur: value), conn)
        return conn

    def _conn(self, db, user):
        conn = self._conns.get((db, user))
        if conn is None or conn.closed:
            conn = self._conns[(db, user)] = self.connect(db, user)
        return conn

    def sql(self, text, db="dutyd", user=None):
        """Rows of a statement, each a tuple of text, NULL as "" (as psql
        -At prints them); [] for a statement that returns no rows."""
        user = user or ("postgres" if db == "postgres" else "dutyd")
        try:
            with self._conn(db, user).cursor() as cur:
                cur.execute(text)
                if cur.description is None:
                    return []
                return [tuple("" if v is None else v for v in row) for row in cur.fetchall()]
        except _psycopg2().Error as e:
            # A broken session is not kept: the next statement connects again.
            self._disconnect(db)
            raise AssertionError("SQL failed: %s\n%s" % (text, e)) from None


def fresh_database():
    """This process's server, started on first use (and again if a test
    stopped it), with the database dutyd dropped and made again, empty, owned
    by dutyd: what a test gets from a server of its own, as far as dutyd and
    its tools can tell (the schema, advisory locks, LISTEN channels and
    sessions are the database's).  Sessions a test left behind are ended
    (FORCE).  close_shared() stops the server."""
    srv = _shared.get("srv")
    if srv is None:
        srv = _shared["srv"] = PgServer()
        atexit.register(close_shared)
    srv.start()
    srv._disconnect("dutyd")
    srv.sql("DROP DATABASE IF EXISTS dutyd WITH (FORCE)", db="postgres")
    # FILE_COPY: the template's files copied as files, not written through
    # the WAL page by page (PostgreSQL 15's default): 0.018 CPU-s less a
    # database (30 in a row, twice), and 7.5 MB less WAL held in memory.
    srv.sql("CREATE DATABASE dutyd OWNER dutyd STRATEGY FILE_COPY", db="postgres")
    return srv


def close_shared():
    """Stops and removes this process's server (fresh_database), if any."""
    srv = _shared.pop("srv", None)
    if srv is not None:
        srv.close()
