"""Black-box fixtures: the real provgate binary, real TLS, real clients (curl, openssl
s_client, Python's ssl). Every test gets its own demo directory and port.

The store is SQLite unless PROVGATE_BLACKBOX_STORE=postgres: then every demo gets a fresh
database on the PostgreSQL server of PROVGATE_TEST_PG_URL (scripts/pg-test-server.sh starts
one) and keeps its data there ([store] url). Tests read the data through Server.sql and
Server.stored_bytes, which work on either."""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("PROVGATE_BIN", ROOT / "build" / "provgate"))

STORE = os.environ.get("PROVGATE_BLACKBOX_STORE", "sqlite")
PG_URL = os.environ.get("PROVGATE_TEST_PG_URL", "")
if STORE not in ("sqlite", "postgres"):
    raise RuntimeError(f"PROVGATE_BLACKBOX_STORE={STORE}: expected sqlite or postgres")
if STORE == "postgres" and not PG_URL:
    raise RuntimeError("PROVGATE_BLACKBOX_STORE=postgres needs PROVGATE_TEST_PG_URL "
                       "(scripts/pg-test-server.sh run ...)")

YEALINK = "001565a1b2c3"   # demo devices (src/app/demo.cpp)
YEALINK2 = "805ec0d4e5f6"
POLYCOM = "0004f2a1b2c3"


def free_ports(n):
    """n distinct free loopback ports: the probe sockets stay bound until all are chosen."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def psql(url, query):
    """Runs one query with psql; its rows, unaligned, one per line."""
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", query],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"psql {query!r} failed: {p.stderr}")
    return p.stdout


def fresh_pg_database():
    """A new, empty database on the test server, and its URL."""
    name = "bb_" + uuid.uuid4().hex[:16]
    psql(PG_URL, f"CREATE DATABASE {name}")
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(path="/" + name))


def sanitizer_build():
    """Whether BINARY is built with a sanitizer (GCC links their runtimes dynamically)."""
    p = subprocess.run(["ldd", str(BINARY)], capture_output=True, text=True)
    return any(lib in p.stdout for lib in ("libasan", "libtsan", "libubsan"))


SANITIZER_REPORTS = ("WARNING: ThreadSanitizer", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:")


def assert_no_sanitizer_report(log):
    """A sanitizer build's server reports a race, a memory error or undefined behaviour in its
    log and may go on serving: the test that ran it fails on the report, not on luck."""
    text = log.read_text(errors="replace")
    for marker in SANITIZER_REPORTS:
        at = text.find(marker)
        if at != -1:
            raise AssertionError(f"sanitizer report in {log}:\n{text[max(0, at - 200):at + 4000]}")


def run(*args, check=True, env=None, timeout=120):
    """Runs the provgate CLI and returns the CompletedProcess."""
    p = subprocess.run([str(BINARY), *map(str, args)], capture_output=True, text=True, env=env,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"provgate {' '.join(map(str, args))} failed: {p.stderr}")
    return p


class Server:
    """A demo installation and, once started, the provgate process serving it."""

    def __init__(self, root: Path, extra_config: str = ""):
        self.dir = root / "demo"
        self.port, self.mixed_port, self.plain_port, self.admin_port = free_ports(4)
        self.store_url = fresh_pg_database() if STORE == "postgres" else ""
        run("demo", "init", "--dir", self.dir, "--port", self.port, "--admin-port", self.admin_port,
            *(["--store-url", self.store_url] if self.store_url else []))
        self.config = self.dir / "provgate.toml"
        if extra_config:
            with open(self.config, "a") as f:
                f.write("\n" + extra_config.format(mixed_port=self.mixed_port, plain_port=self.plain_port))
        self.ca = self.dir / "tls" / "ca.crt"
        self.proc = None
        self.log = root / "server.log"

    def sql(self, query):
        """The rows of one SQL query (in the SQL both backends read) on this demo's store,
        columns separated by "|", rows by newlines, without the last newline."""
        if self.store_url:
            return psql(self.store_url, query).strip()
        # Waits for the server's own writes (the audit copy) instead of failing on a lock.
        p = subprocess.run(["sqlite3", "-cmd", ".timeout 5000", str(self.dir / "provgate.db"), query],
                           capture_output=True, text=True, check=True)
        return p.stdout.strip()

    def stored_bytes(self):
        """Everything the store holds on disk or in its tables, to search for a secret."""
        if not self.store_url:
            return b"".join(p.read_bytes() for p in self.dir.glob("provgate.db*"))
        tables = psql(self.store_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").split()
        return "".join(psql(self.store_url, f"SELECT * FROM {t}") for t in tables).encode()

    def cli(self, *args, check=True, timeout=120):
        return run("-c", self.config, *args, check=check, timeout=timeout)

    def cert(self, mac):
        return self.dir / "devices" / f"{mac}.crt", self.dir / "devices" / f"{mac}.key"

    def start(self, env=None):
        """Starts the server, with these variables added to its environment."""
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([str(BINARY), "-c", str(self.config), "serve"],
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("provgate exited: " + self.log.read_text())
            # Listeners are bound and logged one after another: wait for all of them.
            listeners = self.config.read_text().count("[[listener]]")
            admins = self.config.read_text().count("[[admin]]")
            log = self.log.read_text()
            if (len(re.findall(r" info listener \S+ on ", log)) >= listeners
                    and len(re.findall(r" info admin listener \S+ on ", log)) >= admins):
                return self
            time.sleep(0.05)
        raise AssertionError("provgate did not start: " + self.log.read_text())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()
            assert_no_sanitizer_report(self.log)

    def url(self, path):
        return f"https://localhost:{self.port}{path}"

    def audit_bytes(self):
        """The audit file once it has stopped growing for a while: a response that releases
        no secret and changed nothing leaves before its record is written and synced
        (audit.max_unsynced_ms, 20 ms by default)."""
        path = self.dir / "audit.log"
        time.sleep(0.1)
        size = path.stat().st_size
        while True:
            time.sleep(0.05)
            if path.stat().st_size == size:
                return path.read_bytes()
            size = path.stat().st_size

    def audit(self, checkpoints=False):
        """All audit records so far, parsed (audit_bytes); the server's signed checkpoints
        (kind "checkpoint", written on a timer and at a clean stop) only when asked for."""
        # Only whole lines, cut as bytes (a record may be in the middle of being appended,
        # even mid-character), split on "\n" alone (JSON strings may hold U+2028 raw).
        data = self.audit_bytes()
        text = data[:data.rfind(b"\n") + 1].decode()
        records = [json.loads(l) for l in text.split("\n") if l.strip()]
        return [r for r in records if checkpoints or r.get("kind") != "checkpoint"]

    def last_audit(self, **match):
        """The newest audit record with these fields. A refused TLS handshake is audited just
        after the client sees it fail, so records are awaited for a few seconds."""
        deadline = time.time() + 5
        while True:
            for r in reversed(self.audit()):
                if all(r.get(k) == v for k, v in match.items()):
                    return r
            if time.time() > deadline:
                raise AssertionError(f"no audit record matching {match}: {self.audit()[-5:]}")
            time.sleep(0.05)

    def curl(self, path, mac=None, cert=None, key=None, extra=()):
        """GET with curl; returns (exit code, status, body bytes)."""
        args = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--cacert", str(self.ca)]
        if mac:
            cert, key = self.cert(mac)
        if cert:
            args += ["--cert", str(cert), "--key", str(key)]
        args += list(extra) + [self.url(path)]
        p = subprocess.run(args, capture_output=True, timeout=30)
        body, _, code = p.stdout.rpartition(b"\n")
        return p.returncode, int(code or 0), body

    def raw(self, request: bytes, mac=None, cert=None, key=None, port=None, source="127.0.0.1",
            tls=True):
        """Sends raw bytes on a new connection from `source` (over TLS unless tls=False) and
        returns the raw response bytes."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if mac:
            cert, key = self.cert(mac)
        if cert:
            ctx.load_cert_chain(str(cert), str(key))
        with socket.create_connection(("127.0.0.1", port or self.port), timeout=10,
                                      source_address=(source, 0)) as sock:
            conn = ctx.wrap_socket(sock, server_hostname="localhost") if tls else sock
            conn.sendall(request)
            return read_all(conn)


def read_all(conn):
    """Everything the peer sends until it closes (or resets) the connection."""
    chunks = []
    while True:
        try:
            data = conn.recv(65536)
        except (ssl.SSLError, ConnectionResetError):
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: too slow for every CI run; runs only with "
                            "PROVGATE_SLOW_TESTS=1 (scripts/test-slow.sh)")
    config.addinivalue_line("markers", "once: checks what neither the store backend nor the "
                            "build's sanitizers change (a listener's TLS); skipped in the passes "
                            "scripts/test.sh repeats (PROVGATE_BLACKBOX_REPEAT=1)")


def pytest_collection_modifyitems(config, items):
    skips = []
    if os.environ.get("PROVGATE_SLOW_TESTS") != "1":
        skips.append(("slow", pytest.mark.skip(reason="slow: runs with PROVGATE_SLOW_TESTS=1 (scripts/test-slow.sh)")))
    if os.environ.get("PROVGATE_BLACKBOX_REPEAT") == "1":
        skips.append(("once", pytest.mark.skip(reason="once: runs in scripts/test.sh's Release pass, on SQLite")))
    for item in items:
        for marker, skip in skips:
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    s.stop()


# A second TLS listener where certificates are optional and every identity method is
# allowed, and a plain-HTTP listener for token/digest only.
MIXED_LISTENERS = """
[[listener]]
name = "mixed"
bind = "127.0.0.1"
port = {mixed_port}
cert = "tls/server.crt"
key = "tls/server.key"
client_cert = "optional"
trust_anchors = ["tls/ca.crt"]
methods = ["client-cert", "token", "digest", "ip"]

[[listener]]
name = "plain"
bind = "127.0.0.1"
port = {plain_port}
plain_http = true
methods = ["digest"]
"""


@pytest.fixture
def mixed(tmp_path):
    """The demo with the extra listeners, started."""
    s = Server(tmp_path, MIXED_LISTENERS + "\n[defense]\ndevice_burst = 1000\n")
    s.start()
    yield s
    s.stop()


@pytest.fixture
def demo(tmp_path):
    """A demo installation that is not running yet."""
    s = Server(tmp_path)
    yield s
    s.stop()


def get(path, host="localhost", extra_headers=b""):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n".encode()
            + extra_headers + b"\r\n")
