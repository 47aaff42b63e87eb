"""Hostile clients against the device listener: request smuggling shapes, invalid UTF-8 in
every field, pipelining floods, TLS renegotiation, malformed TLS records and thousands of idle
TLS connections. Each: the server stays responsive to a legitimate device, memory stays
bounded, and the attack is audited."""
import json
import re
import resource
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import YEALINK, YEALINK2, Server

# Thousands of client sockets in this process (and the server it starts inherits the limit).
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(_soft, min(_hard, 16384)), _hard))


def device_is_served(server, mac=YEALINK):
    code, status, body = server.curl(f"/{mac}.cfg", mac=mac)
    return code == 0 and status == 200 and b"account.1" in body


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def sanitized(pid):
    """True for a sanitizer build, whose shadow memory and quarantine make memory figures
    meaningless: the bounds are checked on the Release pass."""
    return "libasan" in Path(f"/proc/{pid}/maps").read_text()  # GCC links it dynamically


def tls_context(server, mac=None):
    ctx = ssl.create_default_context(cafile=str(server.ca))
    if mac:
        cert, key = server.cert(mac)
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


def exchange(server, data: bytes, mac=YEALINK, timeout=10) -> bytes:
    """Sends `data` over one TLS connection and returns everything until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as raw:
        with tls_context(server, mac).wrap_socket(raw, server_hostname="localhost") as conn:
            conn.sendall(data)
            chunks = []
            try:
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
            except (ConnectionResetError, ssl.SSLError):
                pass
    return b"".join(chunks)


def statuses(answer: bytes):
    return [int(m) for m in re.findall(rb"^HTTP/1\.[01] (\d{3}) ", answer, re.M)]


# Each is framed two ways by two parsers: the precondition of request smuggling. The second
# request, hidden in the first one's body, must never be answered.
SMUGGLING = {
    "content-length and transfer-encoding":
        b"POST /x.cfg HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /" + YEALINK.encode() + b".cfg HTTP/1.1\r\nHost: a\r\n\r\n",
    "two different content-lengths":
        b"PUT /x.cfg HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 45\r\n\r\n"
        b"GET /" + YEALINK.encode() + b".cfg HTTP/1.1\r\nHost: a\r\n\r\n",
    "content-length with a sign":
        b"PUT /x.cfg HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
    "obsolete line folding":
        b"GET /x.cfg HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n chunked\r\n\r\n0\r\n\r\n",
    "space before the colon":
        b"GET /x.cfg HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "bare line feeds":
        b"GET /x.cfg HTTP/1.1\nHost: a\nContent-Length: 0\n\nGET /" + YEALINK.encode() + b".cfg HTTP/1.1\n\n",
}


@pytest.mark.parametrize("shape", sorted(SMUGGLING))
def test_smuggling_shapes_are_refused_and_close_the_connection(server, shape):
    answer = exchange(server, SMUGGLING[shape])
    codes = statuses(answer)
    assert codes and codes[0] == 400, (shape, answer[:300])
    assert len(codes) == 1, f"{shape}: a second request was read from the first one's bytes: {codes}"
    assert b"account.1" not in answer
    record = server.last_audit(status=400)
    assert record["reason"].startswith("malformed request"), record
    assert device_is_served(server)


INVALID_UTF8 = b"\xff\xfe\xc3\x28\xed\xa0\x80\xf8\x88\x80\x80\x80"


@pytest.mark.parametrize("field", ["path", "query", "user-agent", "host", "authorization",
                                   "x-forwarded-for", "forwarded", "other header"])
def test_invalid_utf8_in_any_field_is_answered_and_audited_as_valid_json(server, field):
    path = b"/" + YEALINK.encode() + b".cfg"
    headers = {b"Host": b"localhost"}
    if field == "path":
        path = b"/" + INVALID_UTF8 + b".cfg"
    elif field == "query":
        path += b"?x=" + INVALID_UTF8
    elif field == "user-agent":
        headers[b"User-Agent"] = b"Yealink SIP-T54W " + INVALID_UTF8
    elif field == "host":
        headers[b"Host"] = INVALID_UTF8
    elif field == "authorization":
        headers[b"Authorization"] = b"Digest username=\"" + INVALID_UTF8 + b"\""
    elif field == "x-forwarded-for":
        headers[b"X-Forwarded-For"] = INVALID_UTF8
    elif field == "forwarded":
        headers[b"Forwarded"] = b"for=" + INVALID_UTF8
    else:
        headers[b"X-Phone-" + b"Note"] = INVALID_UTF8
    request = b"GET " + path + b" HTTP/1.1\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers.items())
    answer = exchange(server, request + b"Connection: close\r\n\r\n")
    codes = statuses(answer)
    assert codes and codes[0] in (200, 400, 404), (field, answer[:200])
    # Every line of the audit file is still valid JSON, the bytes escaped, not passed through.
    raw = server.audit_bytes()
    for line in raw.splitlines():
        json.loads(line.decode("utf-8"))
    assert INVALID_UTF8 not in raw
    assert device_is_served(server)


def test_a_pipelining_flood_is_answered_in_order_or_cut_off_without_hurting_others(server):
    """A device (its own certificate) sends 5 000 requests in one write: the server answers
    in order while the client reads, memory stays bounded, and another device is served
    meanwhile."""
    one = b"GET /" + YEALINK.encode() + b".cfg HTTP/1.1\r\nHost: localhost\r\n\r\n"
    before = rss_kib(server.proc.pid)
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as raw:
        with tls_context(server, YEALINK).wrap_socket(raw, server_hostname="localhost") as conn:
            started = time.monotonic()
            conn.sendall(one * 5000)
            assert device_is_served(server, YEALINK2)  # the flooder spends its own rate limit
            got = b""
            deadline = time.time() + 60
            try:
                while time.time() < deadline and got.count(b"HTTP/1.1 ") < 5000:
                    chunk = conn.recv(1 << 20)
                    if not chunk:
                        break
                    got += chunk
            except (ConnectionResetError, ssl.SSLError, socket.timeout):
                pass
            elapsed = time.monotonic() - started
    codes = statuses(got)
    assert codes, got[:200]
    # In order: the device's bucket (the default 20, refilled at 2 a second) answers its burst
    # with 200, then 429; a 200 after the first 429 is a token refilled while the flood was
    # answered (a sanitized build takes seconds), never more of them than that.
    assert set(codes) <= {200, 429}, sorted(set(codes))
    first_limited = codes.index(429) if 429 in codes else len(codes)
    assert 20 <= first_limited <= 20 + 2.0 * elapsed + 1, (first_limited, elapsed, codes[:50])
    refilled = codes[first_limited:].count(200)
    assert refilled <= 2.0 * elapsed + 1, (refilled, elapsed)
    if not sanitized(server.proc.pid):
        assert rss_kib(server.proc.pid) - before < 64 * 1024, "the flood grew the server by more than 64 MiB"
    assert device_is_served(server, YEALINK2)


def test_tls_renegotiation_is_refused_and_the_server_keeps_serving(server):
    """A TLS 1.2 client asks to renegotiate (s_client does on a line "R"): the server refuses
    with an alert, the connection ends without an answer, and the refusal is audited."""
    cert, key = server.cert(YEALINK)
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_2",
                          "-CAfile", str(server.ca), "-cert", str(cert), "-key", str(key),
                          "-servername", "localhost"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.5)  # the handshake, on loopback
        p.stdin.write(b"R\n")
        p.stdin.flush()
        time.sleep(1)
        try:
            p.stdin.write(b"GET /" + YEALINK.encode() + b".cfg HTTP/1.1\r\nHost: localhost\r\n\r\n")
            p.stdin.flush()
        except BrokenPipeError:
            pass  # s_client already ended: the server closed the connection
        p.wait(timeout=10)
        out, err = p.stdout.read(), p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert b"RENEGOTIATING" in err, err[-300:]
    assert b"no renegotiation" in err or b"alert" in err, err[-300:]
    assert b"HTTP/1.1 200" not in out
    record = server.last_audit(kind="request", status=400)
    assert "alert" in record["reason"] or "renegotiation" in record["reason"], record
    assert device_is_served(server)


def test_malformed_tls_records_are_refused_audited_and_survived(server):
    garbage = [
        b"\x16\x03\x01\xff\xff" + b"\x00" * 64,              # a handshake record claiming 65 535 bytes
        b"\x17\x03\x03\x00\x10" + b"A" * 16,                  # application data before any handshake
        b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",          # a ClientHello too short to parse
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",                 # plain HTTP on the TLS port
        bytes(range(256)) * 4,
    ]
    for data in garbage:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(data)
            try:
                while sock.recv(4096):
                    pass
            except (ConnectionResetError, socket.timeout):
                pass
    records = [r for r in server.audit() if r.get("kind") == "tls"]
    assert len(records) >= len(garbage) - 1, records[-5:]  # a bare close may not be a failure
    assert all(r["reason"].startswith("tls handshake failed") for r in records), records[-5:]
    assert device_is_served(server)


@pytest.fixture
def idle_server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    s.stop()


IDLE_CONNECTIONS = 3000
# docs/security.md, "Connections": what one idle connection costs the server at most.
IDLE_BYTES_PER_CONNECTION_BOUND = 64 * 1024


def test_thousands_of_idle_tls_connections_stay_within_their_memory_bound(idle_server):
    """Thousands of clients complete the TLS handshake and then say nothing: each costs
    bounded memory until its header deadline closes it, and a device is served meanwhile."""
    server = idle_server
    ctx = tls_context(server, YEALINK)
    before = rss_kib(server.proc.pid)
    conns = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            conns.append(ctx.wrap_socket(raw, server_hostname="localhost"))
        grown = rss_kib(server.proc.pid) - before
        per_connection = grown * 1024 / IDLE_CONNECTIONS
        print(f"{IDLE_CONNECTIONS} idle TLS connections: server grew {grown} KiB, "
              f"{per_connection:.0f} bytes each")
        if not sanitized(server.proc.pid):
            assert per_connection < IDLE_BYTES_PER_CONNECTION_BOUND, per_connection
        assert device_is_served(server)
    finally:
        for c in conns:
            c.close()
