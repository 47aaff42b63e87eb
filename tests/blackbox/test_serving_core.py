"""Issue 2: the serving core over real TLS, with curl, openssl s_client and Python's ssl."""
import json
import os
import socket
import ssl
import re
import stat
import subprocess
import time
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api_client import Api, admin_key
from conftest import BINARY, POLYCOM, YEALINK, YEALINK2, Server, get, run


def last_request(server, **match):
    return server.last_audit(**match)


def test_right_certificate_gets_its_rendered_yealink_config(server):
    code, status, body = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    assert code == 0 and status == 200
    text = body.decode()
    assert text.splitlines()[0] == "#!version:1.0.0.1"
    for line in text.splitlines()[1:]:
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.]+ = .*", line), line
    assert "account.1.user_name = " in text
    assert re.search(r"^account\.1\.password = \S+", text, re.M)
    rec = last_request(server, kind="request", file=f"/{YEALINK}.cfg")
    assert rec["decision"] == "allow" and rec["mac"] == YEALINK
    assert rec["identity_source"] == "client-cert" and "CN=" + YEALINK in rec["cert_subject"]
    for key in ("time", "listener", "peer", "user_agent", "bytes", "duration_ms", "status", "reason"):
        assert key in rec


def test_polycom_device_file_is_well_formed_xml(server):
    code, status, body = server.curl(f"/{POLYCOM}-user.cfg", mac=POLYCOM)
    assert status == 200, body
    root = ET.fromstring(body)
    attrs = {k: v for el in root.iter() for k, v in el.attrib.items()}
    assert attrs.get("reg.1.displayName") == "Board <Room>"  # escaped, then parsed back intact


def test_common_files_never_carry_device_secrets(server):
    _, _, yealink_file = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    password = re.search(rb"^account\.1\.password = (\S+)", yealink_file, re.M).group(1)
    for mac, path in ((YEALINK, "/y000000000096.cfg"), (POLYCOM, "/000000000000.cfg")):
        code, status, body = server.curl(path, mac=mac)
        assert status == 200, (path, body)
        assert password not in body
        assert mac.encode() not in body.lower()
        assert b"account.1." not in body and b"reg.1." not in body


def test_other_devices_file_is_uniform_404_with_mac_mismatch_audit(server):
    mismatch = server.raw(get(f"/{YEALINK2}.cfg"), mac=YEALINK)
    assert mismatch.startswith(b"HTTP/1.1 404")
    rec = last_request(server, file=f"/{YEALINK2}.cfg")
    assert rec["decision"] == "deny" and rec["reason"] == "mac mismatch"
    assert rec["mac"] == YEALINK and rec["url_mac"] == YEALINK2


def test_unknown_mac_is_byte_identical_to_mismatch(server, tmp_path):
    # A certificate from the trusted CA for a MAC the store does not know.
    server.cli("ca", "issue", "--ca-cert", server.ca, "--ca-key", server.dir / "tls" / "ca.key",
               "--mac", "00:15:65:99:99:99", "--out", tmp_path / "unknown")
    unknown_cert = (tmp_path / "unknown" / "001565999999.crt", tmp_path / "unknown" / "001565999999.key")
    unknown = server.raw(get("/001565999999.cfg"), cert=unknown_cert[0], key=unknown_cert[1])
    mismatch = server.raw(get(f"/{YEALINK2}.cfg"), mac=YEALINK)
    unknown_file = server.raw(get("/nothing-here.cfg"), mac=YEALINK)
    assert unknown == mismatch == unknown_file
    assert last_request(server, file="/001565999999.cfg")["reason"] == "unknown device"
    assert last_request(server, file="/nothing-here.cfg")["reason"] == "unknown file"


def test_no_client_certificate_on_required_listener_fails_handshake(server):
    code, status, _ = server.curl(f"/{YEALINK}.cfg")
    assert code != 0 and status == 0
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}",
                        "-CAfile", str(server.ca), "-servername", "localhost"],
                       input=f"GET /{YEALINK}.cfg HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
                       capture_output=True, timeout=30)
    assert b"HTTP/1.1" not in p.stdout
    rec = last_request(server, kind="tls")
    assert rec["decision"] == "deny" and "handshake failed" in rec["reason"]


def test_certificate_from_untrusted_ca_is_rejected(server, tmp_path):
    run("ca", "demo", "--out", tmp_path / "rogue", "--mac", YEALINK)
    cert, key = tmp_path / "rogue" / f"{YEALINK}.crt", tmp_path / "rogue" / f"{YEALINK}.key"
    code, status, _ = server.curl(f"/{YEALINK}.cfg", cert=cert, key=key)
    assert status == 0 and code != 0
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}",
                        "-CAfile", str(server.ca), "-cert", str(cert), "-key", str(key)],
                       input=b"GET / HTTP/1.1\r\n\r\n", capture_output=True, timeout=30)
    assert b"HTTP/1.1" not in p.stdout
    rec = last_request(server, kind="tls")
    assert "unable to get local issuer certificate" in rec["reason"] or "unknown ca" in rec["reason"]
    assert YEALINK in rec.get("cert_subject", "")


def test_expired_client_certificate_is_rejected(server, tmp_path):
    server.cli("ca", "issue", "--ca-cert", server.ca, "--ca-key", server.dir / "tls" / "ca.key",
               "--mac", YEALINK, "--out", tmp_path / "expired", "--expired")
    cert, key = tmp_path / "expired" / f"{YEALINK}.crt", tmp_path / "expired" / f"{YEALINK}.key"
    code, status, _ = server.curl(f"/{YEALINK}.cfg", cert=cert, key=key)
    assert status == 0 and code != 0
    assert "expired" in last_request(server, kind="tls")["reason"]


@pytest.mark.parametrize("path", [
    "/../001565a1b2c3.cfg", "/%2e%2e/001565a1b2c3.cfg", "/001565a1b2c3.cfg%00",
    "/001565a1b2c3.cfg%00.txt", "/..%5c001565a1b2c3.cfg", "/foo\\..\\001565a1b2c3.cfg",
    "/" + "a" * 4000 + ".cfg", "/", "/templates/", "/templates/yealink/mac.cfg.mustache",
    "/etc/passwd", "//001565a1b2c3.cfg", "/./001565a1b2c3.cfg",
])
def test_traversal_and_listing_attempts_get_the_uniform_404(server, path):
    reference = server.raw(get("/nothing-here.cfg"), mac=YEALINK)
    assert server.raw(get(path), mac=YEALINK) == reference
    # What the client wrote is recorded up to 512 bytes, with a marker for the rest.
    recorded = path if len(path) <= 512 else path[:512] + f"...[+{len(path) - 512} bytes]"
    assert last_request(server, file=recorded)["decision"] == "deny"


def test_identity_never_comes_from_query_host_or_user_agent(server):
    reference = server.raw(get(f"/{YEALINK2}.cfg"), mac=YEALINK)
    for req in (get(f"/{YEALINK2}.cfg?mac={YEALINK2}"),
                get(f"/{YEALINK2}.cfg?name={YEALINK2}", host=YEALINK2),
                get(f"/{YEALINK2}.cfg", extra_headers=b"User-Agent: Yealink SIP-T46U 108.86.0.1 80:5e:c0:d4:e5:f6\r\n")):
        assert server.raw(req, mac=YEALINK) == reference


def test_responses_are_not_cacheable_and_carry_security_headers(server):
    resp = server.raw(get(f"/{YEALINK}.cfg"), mac=YEALINK).decode(errors="replace")
    head = resp.split("\r\n\r\n")[0].lower()
    assert "cache-control: no-store" in head and "x-content-type-options: nosniff" in head
    assert "server:" not in head


def test_keep_alive_serves_several_requests_on_one_connection(server):
    two = (f"GET /{YEALINK}.cfg HTTP/1.1\r\nHost: x\r\n\r\n"
           f"GET /y000000000096.cfg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
    resp = server.raw(two, mac=YEALINK)
    assert resp.count(b"HTTP/1.1 200") == 2


def test_oversized_headers_are_refused(server):
    resp = server.raw(get(f"/{YEALINK}.cfg", extra_headers=b"X-Big: " + b"a" * 20000 + b"\r\n"), mac=YEALINK)
    assert resp.startswith(b"HTTP/1.1 431")
    assert "malformed request" in last_request(server, kind="request", status=431)["reason"]


def stored_audit(server):
    """The json column of the store's audit table, in id order."""
    return server.sql("select json from audit order by id").splitlines()


def test_every_request_leaves_an_audit_record_also_in_the_store(server):
    for path in (f"/{YEALINK}.cfg", f"/{YEALINK2}.cfg", "/x"):
        server.curl(path, mac=YEALINK)
    assert len([r for r in server.audit() if r["kind"] == "request"]) == 3
    # The store's copy follows the file within audit.store_copy_delay_ms (100 ms).
    deadline = time.time() + 10
    while len([j for j in stored_audit(server) if json.loads(j)["kind"] == "request"]) < 3:
        assert time.time() < deadline, stored_audit(server)
        time.sleep(0.05)


def test_store_copy_of_the_audit_trail_is_caught_up_after_kill_9(demo):
    text = demo.config.read_text()
    demo.config.write_text(text.replace('file = "audit.log"', 'file = "audit.log"\nstore_copy_delay_ms = 60000', 1))
    demo.start()
    assert demo.curl(f"/{YEALINK}.cfg", mac=YEALINK)[1] == 200
    assert demo.curl(f"/{YEALINK2}.cfg", mac=YEALINK2)[1] == 200
    assert demo.curl(f"/{YEALINK}.cfg", mac=YEALINK2)[1] == 404
    served = [r for r in demo.audit() if r["kind"] == "request"]
    assert [r["status"] for r in served] == [200, 200, 404]   # durable before each answer
    assert not [j for j in stored_audit(demo) if '"kind":"request"' in j]  # copy not yet due

    # One server per installation: a second one is refused before it binds anything.
    second = subprocess.run([str(BINARY), "-c", str(demo.config), "serve"],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode != 0
    assert "in use by another provgate server" in second.stdout + second.stderr

    demo.proc.kill()
    demo.proc.wait()
    demo.logf.close()
    demo.start()   # catches the store up from the file
    assert "left out" in demo.log.read_text()
    assert demo.curl(f"/{POLYCOM}-user.cfg", mac=POLYCOM)[1] == 200
    demo.stop()    # a clean stop copies what is pending
    file_lines = demo.audit_bytes().decode().splitlines()
    assert Counter(stored_audit(demo)) == Counter(file_lines)
    assert len([l for l in file_lines if '"kind":"request"' in l]) == 4


def test_passwords_are_encrypted_at_rest_and_never_logged(server):
    code, status, body = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    password = re.search(rb"^account\.1\.password = (\S+)", body, re.M).group(1)
    assert password not in server.stored_bytes()
    assert password not in server.audit_bytes()
    assert password not in server.log.read_bytes()


def test_master_key_is_private_and_a_readable_one_is_refused(demo):
    key = demo.dir / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    os.chmod(key, 0o644)
    p = demo.cli("device", "list", check=False)
    assert p.returncode != 0 and "chmod 600" in p.stderr


def test_cli_reports_clear_errors(demo):
    bad = demo.cli("device", "add", "00:15:65:zz:00:01", "--vendor", "yealink", "--model", "T54W", check=False)
    assert bad.returncode == 1 and "not a MAC address" in bad.stderr
    dup = demo.cli("device", "add", YEALINK, "--vendor", "yealink", "--model", "T54W", check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    nt = demo.cli("device", "add", "001565000001", "--vendor", "yealink", "--model", "T54W",
                  "--tenant", "nobody", check=False)
    assert nt.returncode == 1 and "unknown tenant 'nobody'" in nt.stderr
    nv = demo.cli("device", "add", "001565000001", "--vendor", "acme", "--model", "X", check=False)
    assert nv.returncode == 1 and "unknown vendor 'acme'" in nv.stderr
    # nothing was half-created by the failed commands
    assert "001565000001" not in demo.cli("device", "list").stdout


def test_cli_manages_tenants_devices_and_lines(demo):
    demo.cli("tenant", "add", "acme", "--display-name", "ACME Corp", "--window-days", "7")
    assert "acme" in demo.cli("tenant", "list").stdout
    demo.cli("device", "add", "00-15-65-12-34-56", "--vendor", "yealink", "--model", "T46U", "--tenant", "acme")
    out = demo.cli("line", "set", "001565123456", "1", "--user", "2001", "--registrar", "sip.acme.example",
                   "--generate-password").stdout
    assert "shown once" in out
    show = demo.cli("device", "show", "001565123456").stdout
    assert "assigned" in show and "acme" in show and "stored (encrypted)" in show
    generated = out.strip().split()[-1]
    assert generated not in show
    assert "001565123456" in demo.cli("device", "list", "--tenant", "acme").stdout
    demo.cli("device", "remove", "001565123456")
    assert "001565123456" not in demo.cli("device", "list").stdout
    actions = [r["reason"] for r in demo.audit() if r["kind"] == "admin"]
    assert {"tenant added", "device added", "line set", "device removed"} <= set(actions)


def test_help_is_available_everywhere():
    for args in ([], ["serve"], ["tenant"], ["tenant", "add"], ["device"], ["device", "add"],
                 ["device", "list"], ["device", "show"], ["device", "remove"], ["line", "set"],
                 ["ca", "demo"], ["ca", "issue"], ["demo", "init"]):
        p = run(*args, "--help", check=False)
        assert p.returncode == 0 and "Usage" in p.stdout, args
    # A newcomer adding a device learns the vendor names without reading the source.
    vendors = run("device", "add", "--help").stdout
    for name in ("cisco", "fanvil", "gigaset", "grandstream", "htek", "polycom", "snom", "yealink"):
        assert name in vendors, name


def _task_runtimes(pid):
    """{thread name: [ns on CPU, ...]} of a process's threads, from /proc."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        ns = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        out.setdefault(name, []).append(ns)
    return out


def test_every_serving_thread_takes_connections_and_a_second_server_cannot_share_the_port(tmp_path):
    s = Server(tmp_path, "[defense]\ndevice_burst = 1000\n")
    text = s.config.read_text()
    s.config.write_text(text.replace("[server]\n", "[server]\nthreads = 3\n", 1))
    s.start()
    try:
        def fetch(_):
            return s.curl(f"/{YEALINK}.cfg", mac=YEALINK)[1]
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(fetch, range(90)))
        assert statuses == [200] * 90
        threads = _task_runtimes(s.proc.pid)
        serving = [ns for name, times in threads.items() if name.startswith("pg-serve-") for ns in times]
        assert len(serving) == 2, threads            # threads 1 and 2; the main thread is the third
        assert "pg-audit" in threads, threads
        # SO_REUSEPORT spreads connections: the extra threads did TLS work (~30 handshakes,
        # 10-20 ms on our machines), not just start-up (~0.1 ms); a faster CPU keeps the margin.
        assert max(serving) > 1_000_000, threads

        # A second provgate on the same port must fail, not silently share the port (with
        # its own audit file: a second server on the same one is refused before it listens).
        other = s.dir / "other.toml"
        other.write_text(s.config.read_text().replace('file = "audit.log"', 'file = "other.log"', 1))
        second = subprocess.run([str(BINARY), "-c", str(other), "serve"],
                                capture_output=True, text=True, timeout=30)
        assert second.returncode != 0
        assert "cannot listen" in second.stdout + second.stderr
        assert s.curl(f"/{YEALINK}.cfg", mac=YEALINK)[1] == 200
    finally:
        s.stop()


def fetch_once(ctx, port, request, session=None):
    """One TLS connection; returns (response bytes, session, reused). A close without
    close_notify raises ssl.SSLEOFError (suppress_ragged_eofs=False)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost", session=session,
                             suppress_ragged_eofs=False) as conn:
            conn.sendall(request)
            chunks = []
            while data := conn.recv(65536):
                chunks.append(data)
            return b"".join(chunks), conn.session, conn.session_reused


# The last response of a connection leaves together with the close_notify, and the TLS 1.3
# ticket with the first response (src/http/listener.cpp); a response larger than one TLS
# record takes the ordinary write. Either way the phone gets all of it, a clean close and a
# session it can resume.
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
@pytest.mark.parametrize("lines", [1, 16])
def test_last_response_arrives_whole_with_close_notify_and_a_resumable_session(server, version, lines):
    for i in range(1, lines + 1):
        server.cli("line", "set", YEALINK, i, "--user", f"{i:03d}" + "u" * 125, "--auth-user", "a" * 128,
                   "--registrar", "sip" + "x" * 238 + ".example.net", "--display-name", "d" * 128)
    ctx = ssl.create_default_context(cafile=str(server.ca))
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(*map(str, server.cert(YEALINK)))
    sizes = []
    session = None
    for attempt in range(2):
        resp, session, reused = fetch_once(ctx, server.port, get(f"/{YEALINK}.cfg"), session)
        head, _, body = resp.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert len(body) == int(re.search(rb"Content-Length: (\d+)", head).group(1))
        assert body.count(b"account.") >= 9 * lines
        assert reused == (attempt == 1)
        sizes.append(len(resp))
    assert (max(sizes) > 16384) == (lines == 16)


# Deadlines (src/http/device_socket.hpp): a connection that stalls in the handshake, in its
# request headers or between keep-alive requests is closed by the listener's sweep, and the
# first two are audited. Without them one slow client per socket would pin memory forever.
SHORT_DEADLINES = """
[[listener]]
name = "short-deadlines"
bind = "127.0.0.1"
port = {mixed_port}
cert = "tls/server.crt"
key = "tls/server.key"
trust_anchors = ["tls/ca.crt"]
handshake_timeout_ms = 1500
header_timeout_ms = 300
idle_timeout_ms = 300
"""


def closed_within(sock, seconds):
    """True when the peer closes the connection (EOF or reset) within `seconds`."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionResetError, ssl.SSLError, ssl.SSLEOFError):
        return True
    except socket.timeout:
        return False


def test_stalled_connections_are_closed_at_their_deadline_and_audited(tmp_path):
    s = Server(tmp_path, SHORT_DEADLINES)
    s.start()
    try:
        # Silent after connecting: no ClientHello.
        with socket.create_connection(("127.0.0.1", s.mixed_port), timeout=10) as sock:
            assert closed_within(sock, 5)
        rec = s.last_audit(kind="tls", listener="short-deadlines")
        assert rec["decision"] == "deny" and "timeout" in rec["reason"], rec

        ctx = ssl.create_default_context(cafile=str(s.ca))
        ctx.load_cert_chain(*map(str, s.cert(YEALINK)))
        # Half a request after the handshake.
        with socket.create_connection(("127.0.0.1", s.mixed_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as conn:
                conn.sendall(b"GET /" + YEALINK.encode() + b".cfg HTTP/1.1\r\nHost: x\r\n")
                assert closed_within(conn, 5)
        rec = s.last_audit(kind="request", listener="short-deadlines")
        assert rec["status"] == 408 and "timeout" in rec["reason"], rec

        # Idle after a served keep-alive request: closed, and nothing refused is recorded.
        before = len(s.audit())
        with socket.create_connection(("127.0.0.1", s.mixed_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as conn:
                conn.sendall(b"GET /" + YEALINK.encode() + b".cfg HTTP/1.1\r\nHost: x\r\n\r\n")
                conn.settimeout(5)
                assert conn.recv(65536).startswith(b"HTTP/1.1 200")
                assert closed_within(conn, 5)
        time.sleep(0.3)
        after = s.audit()[before:]
        assert [r["decision"] for r in after if r["kind"] in ("request", "tls")] == ["allow"], after
    finally:
        s.stop()


# Every TLS record is handed to the HTTP parser as it is decrypted; a client writing one
# byte per record makes each parse step see one more byte. Beast's chunked-body parser
# asserted on that (src/http/request_buffer.hpp) and would abort a debug build.
def test_chunked_upload_written_one_byte_per_tls_record_is_answered(server):
    ctx = ssl.create_default_context(cafile=str(server.ca))
    ctx.load_cert_chain(*map(str, server.cert(YEALINK)))
    request = (f"PUT /{YEALINK}-local.cfg HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
               "Connection: close\r\n\r\n0\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with ctx.wrap_socket(raw, server_hostname="localhost") as conn:
            for i in range(len(request)):
                conn.sendall(request[i:i + 1])
            answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 "), answer
    assert server.last_audit(kind="request", method="PUT")["decision"] in ("allow", "deny")
    code, status, _ = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    assert (code, status) == (0, 200)


# A body over max_body_bytes is refused while the phone is still sending it. Closing with
# its bytes unread would make the kernel send a reset, and the phone's upload would fail
# with "connection reset" instead of reading the 413: the listener half-closes and reads
# on for a moment (DeviceSocket::Linger).
def test_oversized_upload_gets_its_413_not_a_reset(server):
    ctx = ssl.create_default_context(cafile=str(server.ca))
    ctx.load_cert_chain(*map(str, server.cert(YEALINK)))
    body = b"x" * 8_000_000  # more than the socket buffers hold
    head = (f"PUT /{YEALINK}-local.cfg HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as conn:
            conn.sendall(head + body)
            chunks = []
            while data := conn.recv(65536):
                chunks.append(data)
    answer = b"".join(chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    rec = server.last_audit(kind="request", status=413)
    assert "body limit" in rec["reason"], rec


@pytest.mark.parametrize("coding", [b"gzip", b"chunked, gzip", b"identity"])
def test_transfer_encoding_without_final_chunked_is_refused(server, coding):
    """Read as a bodiless request, such a message is framed differently by a lenient proxy in
    front: the precondition of request smuggling."""
    resp = server.raw(b"GET /" + YEALINK.encode() + b".cfg HTTP/1.1\r\nHost: localhost\r\n"
                      b"Transfer-Encoding: " + coding + b"\r\nConnection: close\r\n\r\n", mac=YEALINK)
    assert resp.startswith(b"HTTP/1.1 400")
    assert last_request(server, reason="malformed request: Transfer-Encoding without final chunked")


def test_transfer_encoding_in_http_1_0_is_refused(server):
    resp = server.raw(b"GET /" + YEALINK.encode() + b".cfg HTTP/1.0\r\nHost: localhost\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n", mac=YEALINK)
    assert resp.startswith(b"HTTP/1.1 400") or resp.startswith(b"HTTP/1.0 400")
    assert last_request(server, reason="malformed request: Transfer-Encoding in HTTP/1.0")


DUAL_STACK_LISTENER = """
[[listener]]
name = "dual"
bind = "::"
port = {plain_port}
plain_http = true
methods = ["digest"]
"""


def test_audit_spells_a_dual_stack_peer_one_way_whatever_the_record(tmp_path):
    """A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d. Request records and
    records of connections that never reached the pipeline both say a.b.c.d:port, and an
    IPv6 client is [v6]:port, so an operator's grep for one client finds all of its records."""
    server = Server(tmp_path, DUAL_STACK_LISTENER)
    server.start()
    try:
        def send(family, host, data):
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(10)
                sock.connect((host, server.plain_port))
                port = sock.getsockname()[1]
                sock.sendall(data)
                while sock.recv(4096):
                    pass
            return port

        ok_port = send(socket.AF_INET, "127.0.0.1", get("/nothing-here.cfg"))
        bad_port = send(socket.AF_INET, "127.0.0.1", b"NOT HTTP AT ALL\r\n\r\n")
        v6_port = send(socket.AF_INET6, "::1", get("/nothing-here.cfg"))
        assert server.last_audit(kind="request", listener="dual", peer=f"127.0.0.1:{ok_port}")
        malformed = server.last_audit(listener="dual", peer=f"127.0.0.1:{bad_port}")
        assert malformed["reason"].startswith("malformed request"), malformed
        assert server.last_audit(kind="request", listener="dual", peer=f"[::1]:{v6_port}")
        assert "::ffff:" not in server.audit_bytes().decode()
    finally:
        server.stop()


def test_ban_and_admin_records_spell_the_peer_with_its_port(tmp_path):
    """A ban raised by a failed certificate handshake and an admin API record name the peer
    like every request record does (a.b.c.d:port), not as a bare address."""
    server = Server(tmp_path, "[defense]\nscan_failed_auths = 1\n")
    server.start()
    try:
        key, cert = tmp_path / "stranger.key", tmp_path / "stranger.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
                        "-subj", "/CN=001565000001"], check=True, capture_output=True)
        code, _, _ = server.curl(f"/{YEALINK}.cfg", cert=cert, key=key)
        assert code != 0  # the handshake is refused
        ban = server.last_audit(reason="source banned")
        assert re.fullmatch(r"127\.0\.0\.1:\d+", ban["peer"]), ban
        failed = server.last_audit(kind="tls", peer=ban["peer"])
        assert failed["reason"].startswith("tls handshake failed"), failed

        api = Api(server, admin_key(server))
        assert api.post("/api/v1/bans", {"source": "198.51.100.9", "minutes": 5}).status_code == 201
        added = [r for r in server.audit() if r.get("kind") == "admin" and "198.51.100.9" in json.dumps(r)]
        assert added and re.fullmatch(r"127\.0\.0\.1:\d+", added[-1]["peer"]), added
    finally:
        server.stop()
