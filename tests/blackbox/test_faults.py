"""System faults against the real binary (docs/security.md, "Faults"): a full or read-only
audit volume, a locked database, an exhausted descriptor table and a wall clock that jumps.
In each, a response that releases a secret never leaves without its audit record, the
operator is told why, and the server recovers when the fault ends."""
import os
import re
import resource
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from api_client import Api, admin_key
from conftest import BINARY, MIXED_LISTENERS, STORE, YEALINK, YEALINK2, Server, get, sanitizer_build
from test_auth import digest_auth, header, request
from test_auth import status as status_of
from test_crash_safety import device_fetch
from test_audit_durability import COMMON, DEVICE, fetch, in_background

FAULTS = Path(__file__).resolve().parent / "faults"
PASSWORD = re.compile(rb"^account\.1\.password = (\S+)", re.M)


def shim(tmp_path_factory, name):
    out = tmp_path_factory.mktemp("faults") / f"{name}.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(out), str(FAULTS / f"{name}.c"), "-ldl"], check=True)
    return out


def preload(so, **env):
    # A sanitizer build wants its runtime first in the library list; the shims wrap libc
    # calls the sanitizers do not need.
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
    return {"LD_PRELOAD": str(so), "ASAN_OPTIONS": asan, **env}


def wait_for_log(server, text, seconds=10):
    deadline = time.time() + seconds
    while text not in server.log.read_text():
        assert time.time() < deadline, f"no {text!r} in the log: {server.log.read_text()[-2000:]}"
        time.sleep(0.05)


def cpu_seconds(pid):
    """User plus system CPU time of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def readyz(server):
    return Api(server).get("/readyz")


# ---------------------------------------------------------------------------------------------
# Descriptors


# Release builds only: a sanitizer's own probes need descriptors (UBSan's vptr check reads
# memory through a pipe(2)), so with the table full they report valid objects as invalid.
@pytest.mark.skipif(sanitizer_build(), reason="a sanitizer's probes fail without free descriptors")
def test_descriptor_exhaustion_backs_off_and_recovers(tmp_path):
    """With RLIMIT_NOFILE at 64 and connections held open on the device port until accept
    fails, a pending connection on each listener must not make its accept loop spin: the
    process uses well under a busy loop's CPU (measured over 1 s). Closing the connections
    brings both planes back."""
    s = Server(tmp_path, "[defense]\ndevice_burst = 1000\nrefusal_burst = 1000\n")

    def low_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    s.logf = open(s.log, "w")
    s.proc = subprocess.Popen([str(BINARY), "-c", str(s.config), "serve"], stdout=s.logf,
                              stderr=subprocess.STDOUT, preexec_fn=low_nofile)
    held = []
    try:
        wait_for_log(s, " info admin listener ")
        for _ in range(200):
            held.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
        wait_for_log(s, "accept failed")
        # One more connection waits on each listener while the table stays full.
        held.append(socket.create_connection(("127.0.0.1", s.admin_port), timeout=5))
        held.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
        time.sleep(0.3)
        before, started = cpu_seconds(s.proc.pid), time.monotonic()
        time.sleep(1.0)
        used = (cpu_seconds(s.proc.pid) - before) / (time.monotonic() - started)
        print(f"\nCPU while out of descriptors: {used:.1%} of one core")
        assert used < 0.2, f"the accept loop spins: {used:.0%} of a core while out of descriptors"
        warnings = s.log.read_text().count("accept failed")
        assert warnings < 100, f"{warnings} accept warnings in about 1.5 s: the log floods"
        for c in held:
            c.close()
        held.clear()
        deadline = time.time() + 10
        while True:
            try:
                status, body, _ = fetch(s, DEVICE, timeout=5)
                if readyz(s).status_code == 200:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "no recovery after the connections closed"
            time.sleep(0.1)
        assert status == 200 and PASSWORD.search(body)
    finally:
        for c in held:
            c.close()
        s.stop()


# ---------------------------------------------------------------------------------------------
# The audit volume


@pytest.fixture
def audit_volume(tmp_path):
    """A 1 MiB tmpfs for the audit file (root in a container may mount one); skipped where
    mounting is not permitted."""
    mnt = tmp_path / "auditfs"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(volume):
    """Fills the volume to its last byte; the file that did it."""
    filler = volume / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def test_full_audit_volume_holds_secrets_tells_the_operator_and_recovers(audit_volume, tmp_path):
    """The audit file's volume fills up: the device file (a SIP password) gets 503 and no
    secret, the log says why and /readyz answers 503 (a balancer sends phones elsewhere); once
    space returns /readyz is 200 again and the next fetch gets the password with intact
    records (the line a short write cut off does not swallow the next one)."""
    s = Server(tmp_path)
    s.config.write_text(s.config.read_text().replace('file = "audit.log"', f'file = "{audit_volume}/audit.log"', 1))
    s.start()
    try:
        assert fetch(s, COMMON)[0] == 200
        filler = fill(audit_volume)
        # Secret-free answers leave at once; their records fill what is left of the audit
        # file's last page, until a write fails.
        for _ in range(500):
            assert fetch(s, COMMON)[0] == 200
            if "No space left on device" in s.log.read_text():
                break
        status, body, _ = fetch(s, DEVICE)
        assert status == 503 and not PASSWORD.search(body), body
        wait_for_log(s, "No space left on device")
        assert fetch(s, DEVICE)[0] == 503   # still full: still held
        ready = readyz(s)
        assert ready.status_code == 503 and ready.json()["checks"]["audit"] == "failing", ready.text
        wait_for_log(s, "readiness check audit failing: audit log volume full")
        filler.unlink()
        assert readyz(s).status_code == 200
        deadline = time.time() + 10
        while True:
            status, body, port = fetch(s, DEVICE)
            if status == 200 or time.time() > deadline:
                break
            time.sleep(0.1)
        assert status == 200 and PASSWORD.search(body), body
        records = [r for r in audit_records(audit_volume / "audit.log") if r.get("peer") == f"127.0.0.1:{port}"]
        assert records and records[-1]["status"] == 200, "the delivering response's record is not a whole line"
        delivered = [r for r in audit_records(audit_volume / "audit.log")
                     if r.get("reason") == "password delivered" and r.get("device") == YEALINK]
        torn = [line for line in (audit_volume / "audit.log").read_bytes().split(b"\n")
                if b"password delivered" in line]
        assert delivered, f"no 'password delivered' record that parses: {torn}"
    finally:
        s.stop()


def audit_records(path):
    """The parseable records of an audit file (a line a fault cut short is skipped)."""
    import json
    out = []
    for line in path.read_bytes().split(b"\n"):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


@pytest.fixture(scope="module")
def write_gate(tmp_path_factory):
    return shim(tmp_path_factory, "write_gate")


def test_read_only_audit_volume_holds_secrets_fails_readyz_and_recovers(write_gate, tmp_path):
    """The audit volume turns read-only under the running server (EROFS on every write, as a
    remount after an I/O error does; a preloaded shim, since a volume with a file open for
    writing cannot be remounted read-only): the device file gets 503 and no secret, /readyz
    answers 503 naming the audit check, the log says why; when the volume is writable again
    the password is delivered with its record."""
    s = Server(tmp_path)
    gate = tmp_path / "read-only"
    s.start(env=preload(write_gate, PROVGATE_FAULT_PATH="audit.log", PROVGATE_FAULT_WRITE=str(gate)))
    try:
        assert fetch(s, COMMON)[0] == 200 and readyz(s).status_code == 200
        gate.write_text("30")   # EROFS
        status, body, _ = fetch(s, DEVICE)
        assert status == 503 and not PASSWORD.search(body), body
        wait_for_log(s, "Read-only file system")
        ready = readyz(s)
        assert ready.status_code == 503 and ready.json()["checks"]["audit"] == "failing", ready.text
        gate.unlink()
        status, body, port = fetch(s, DEVICE)
        assert status == 200 and PASSWORD.search(body)
        assert s.last_audit(reason="device file", peer=f"127.0.0.1:{port}")["status"] == 200
        assert s.last_audit(reason="password delivered", device=YEALINK)
        assert readyz(s).status_code == 200
    finally:
        gate.unlink(missing_ok=True)
        s.stop()


# ---------------------------------------------------------------------------------------------
# The database


class Locked:
    """Another client holding the store's write lock (SQLite: an exclusive transaction) or
    the lines table (PostgreSQL: ACCESS EXCLUSIVE) until released."""

    def __init__(self, server):
        self.server = server
        if server.store_url:
            self.proc = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", server.store_url],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.proc.stdin.write("BEGIN;\nLOCK TABLE lines IN ACCESS EXCLUSIVE MODE;\n\\echo locked\n")
            self.proc.stdin.flush()
            assert self.proc.stdout.readline().strip() == "locked"
        else:
            import sqlite3
            self.db = sqlite3.connect(str(server.dir / "provgate.db"), isolation_level=None, timeout=10)
            self.db.execute("BEGIN EXCLUSIVE")

    def release(self):
        if self.server.store_url:
            self.proc.stdin.write("ROLLBACK;\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        else:
            self.db.execute("ROLLBACK")
            self.db.close()


def test_a_locked_database_holds_the_secret_and_recovers(tmp_path):
    """While another client holds the lock a first fetch needs (the password's claim), that
    fetch waits: on SQLite for the busy timeout (5 s), then 500 without the secret; on
    PostgreSQL for as long as the lock is held. Either way the serving thread waits with it,
    so a secret-free file that lands on that thread waits too. Once the lock is released the
    password is delivered, once, with its record."""
    s = Server(tmp_path)
    s.start()
    lock = None
    try:
        assert fetch(s, COMMON)[0] == 200
        lock = Locked(s)
        started = time.monotonic()
        t, answer = in_background(lambda: fetch(s, DEVICE, timeout=60))
        t.join(timeout=1.0)
        assert t.is_alive(), f"the first fetch did not wait for the lock: {answer}"
        # A secret-free file meanwhile: served at once by the other serving thread, or after
        # the wait when it lands on the thread the waiting fetch holds (docs/security.md).
        def timed_common():
            begun = time.monotonic()
            return fetch(s, COMMON, timeout=60)[0], time.monotonic() - begun
        common, common_answer = in_background(timed_common)
        if STORE == "postgres":
            time.sleep(6)
            assert t.is_alive(), f"PostgreSQL: the first fetch stopped waiting: {answer}"
            lock.release()
            lock = None
            t.join(timeout=30)
            status, body, port = answer["value"]
            waited = time.monotonic() - started
            assert status == 200 and PASSWORD.search(body)
        else:
            t.join(timeout=30)
            waited = time.monotonic() - started
            status, body, port = answer["value"]
            assert status in (500, 503) and not PASSWORD.search(body), body
            print(f"\nsqlite: {status} while locked")
            assert 4.0 < waited < 15, waited
            wait_for_log(s, "database is locked")
            lock.release()
            lock = None
            status, body, port = fetch(s, DEVICE)
            assert status == 200 and PASSWORD.search(body)
        common.join(timeout=60)
        common_status, common_latency = common_answer["value"]
        assert common_status == 200
        assert s.last_audit(reason="device file", peer=f"127.0.0.1:{port}")["status"] == 200
        delivered = [r for r in s.audit() if r.get("reason") == "password delivered" and r.get("device") == YEALINK]
        assert len(delivered) == 1
        print(f"\n{STORE}: first fetch answered after {waited:.1f} s, a common file meanwhile in {common_latency * 1000:.0f} ms")
    finally:
        if lock:
            lock.release()
        s.stop()


# ---------------------------------------------------------------------------------------------
# The wall clock


@pytest.fixture(scope="module")
def clock_shift(tmp_path_factory):
    return shim(tmp_path_factory, "clock_shift")


DAY = 86400


def shifted(path, seconds):
    path.write_text(str(seconds))
    time.sleep(0.05)   # the shim re-reads the file every 10 ms


def test_clock_jumps_and_the_provisioning_window(clock_shift, tmp_path):
    """The window is judged by the wall clock at each request. Half an hour back (before the
    window opened, after the device certificate's notBefore): the device is still served. Two
    days back (before the certificate's notBefore): the handshake is refused, as for any
    certificate not yet valid. Fifteen days forward (past the window's end): the uniform 404,
    and the device is expired for good: a jump back does not revive it (re-activation does)."""
    s = Server(tmp_path)
    shift = tmp_path / "shift"
    s.start(env=preload(clock_shift, PROVGATE_CLOCK_SHIFT=str(shift)))
    try:
        shifted(shift, -1800)
        back = device_fetch(s, YEALINK, f"/{YEALINK}.cfg")[0]
        shifted(shift, -2 * DAY)
        with pytest.raises(OSError):   # ssl.SSLError or no response: the handshake failed
            device_fetch(s, YEALINK, f"/{YEALINK}.cfg")
        handshake = s.last_audit(kind="tls")["reason"] if any(r.get("kind") == "tls" for r in s.audit()) else None
        shifted(shift, 15 * DAY)
        forward = device_fetch(s, YEALINK2, f"/{YEALINK2}.cfg")[0]
        reason = s.last_audit(device=YEALINK2, kind="request")["reason"]
        shifted(shift, 0)
        after = device_fetch(s, YEALINK2, f"/{YEALINK2}.cfg")[0]
        state = s.sql(f"SELECT state FROM devices WHERE mac = '{YEALINK2}'")
        print(f"\nclock -30 min: {back}; -2 d: handshake refused ({handshake}); +15 d: {forward} ({reason}); "
              f"back to now: {after}, state {state}")
        assert back == 200
        assert forward == 404 and reason == "window expired"
        assert after == 404 and state == "expired"
    finally:
        s.stop()


def test_clock_jumps_and_digest_nonces(clock_shift, tmp_path):
    """A nonce carries its issue time. Forward past nonce_lifetime (300 s): the right
    password with that nonce gets a stale challenge, and a fresh nonce works. Back by more than
    the lifetime: a nonce issued before the jump is from the future and refused alike; a fresh
    one works. A replay is refused whatever the clock says (the count is per nonce, not per
    time)."""
    s = Server(tmp_path, MIXED_LISTENERS + "\n[defense]\ndevice_burst = 1000\n")
    shift = tmp_path / "shift"
    s.start(env=preload(clock_shift, PROVGATE_CLOCK_SHIFT=str(shift)))
    try:
        s.cli("tenant", "set", "demo", "--min-strength", "digest")
        password = s.cli("device", "digest", YEALINK).stdout.strip().split()[-1]
        uri = f"/{YEALINK}.cfg"

        def challenge():
            return header(request(s, get(uri)), "WWW-Authenticate")[0]

        def answer(ch, nc="00000001"):
            resp = request(s, get(uri, extra_headers=f"Authorization: {digest_auth(ch, YEALINK, password, 'GET', uri, nc)}\r\n".encode()))
            return status_of(resp), " ".join(header(resp, "WWW-Authenticate"))

        outcomes = {}
        for name, jump in (("forward", 400), ("back", -400)):
            shifted(shift, 0)
            before = challenge()
            shifted(shift, jump)
            code, again = answer(before)
            outcomes[name] = (code, "stale=true" in again)
            fresh = challenge()
            assert answer(fresh)[0] == 200, name
            shifted(shift, 0)
            assert answer(fresh, nc="00000001")[0] == 401, f"{name}: a replayed nonce count was accepted"
        print(f"\nold nonce after a jump: {outcomes}")
        assert outcomes["forward"] == (401, True)
        assert outcomes["back"][0] == 401
    finally:
        s.stop()


def test_clock_jumps_and_bans(clock_shift, tmp_path):
    """A ban ends at a wall-clock time: a jump forward past it lifts it at once, a jump back
    to before it ended brings it back (the ban is kept until it is replaced or removed)."""
    s = Server(tmp_path, MIXED_LISTENERS)
    shift = tmp_path / "shift"
    s.start(env=preload(clock_shift, PROVGATE_CLOCK_SHIFT=str(shift)))
    api = Api(s, admin_key(s))
    try:
        assert api.post("/api/v1/bans", {"source": "127.0.0.2", "minutes": 10}).status_code == 201

        def banned():
            """The reason of a request from the banned address (its answer is the uniform 404
            either way)."""
            request(s, get("/001565999999.cfg"), source="127.0.0.2")
            return [r for r in s.audit() if r.get("peer", "").startswith("127.0.0.2:")][-1]["reason"]

        deadline = time.time() + 15   # the server reloads bans every 5 s
        while banned() != "banned source":
            assert time.time() < deadline, "the ban never took effect"
            time.sleep(0.5)
        shifted(shift, 11 * 60)
        forward = banned()
        shifted(shift, 0)
        back = banned()
        print(f"\nban of 10 min: +11 min -> {forward!r}, back -> {back!r}")
        assert forward != "banned source"
        assert back == "banned source"
    finally:
        s.stop()
