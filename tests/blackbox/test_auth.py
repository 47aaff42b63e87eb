"""Issue 4: every device authenticated, every scanner stopped. Real binary, real TLS and
plain HTTP, clients bound to different loopback source addresses."""
import concurrent.futures
import hashlib
import re
import socket
import ssl
import subprocess
import time

from conftest import POLYCOM, YEALINK, YEALINK2, get

PASSWORD = re.compile(rb"^account\.1\.password = (\S+)", re.M)


def request(server, raw: bytes, port=None, mac=None, source="127.0.0.1", tls=True, cert=None):
    """One request on a new connection from `source`, by default to the mixed listener."""
    return server.raw(raw, mac=mac, cert=cert[0] if cert else None, key=cert[1] if cert else None,
                      port=port or server.mixed_port, source=source, tls=tls)


def status(resp: bytes) -> int:
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1") else 0


def header(resp: bytes, name: str) -> list[str]:
    head = resp.split(b"\r\n\r\n")[0].decode(errors="replace").split("\r\n")[1:]
    return [l.split(":", 1)[1].strip() for l in head if l.lower().startswith(name.lower() + ":")]


def last(server, **match):
    return server.last_audit(**match)


def token_for(server, mac):
    out = server.cli("device", "token", mac).stdout
    return out.strip().split()[-1]


def test_url_token_right_wrong_and_other_device(mixed):
    mixed.cli("tenant", "set", "demo", "--min-strength", "token")
    token = token_for(mixed, YEALINK)
    ok = request(mixed, get(f"/p/{token}/{YEALINK}.cfg"))
    assert status(ok) == 200 and b"account.1.user_name" in ok
    assert last(mixed, kind="request", decision="allow")["identity_source"] == "token"
    wrong = request(mixed, get(f"/p/{'a' * 32}/{YEALINK}.cfg"))
    other = request(mixed, get(f"/p/{token}/{YEALINK2}.cfg"))
    assert status(wrong) == 404 and wrong == other
    assert last(mixed, reason="wrong token")
    assert last(mixed, reason="mac mismatch")["url_mac"] == YEALINK2
    # The token never reaches the audit log or the server log.
    assert token.encode() not in mixed.audit_bytes()
    assert token.encode() not in mixed.log.read_bytes()
    assert "/p/[redacted]/" in last(mixed, reason="device file")["file"]


def digest_auth(challenge: str, user: str, password: str, method: str, uri: str, nc="00000001"):
    realm = re.search(r'realm="([^"]+)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()
    cnonce = "0a4f113b"
    response = h(f"{h(f'{user}:{realm}:{password}')}:{nonce}:{nc}:{cnonce}:auth:{h(f'{method}:{uri}')}")
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'algorithm=SHA-256, qop=auth, nc={nc}, cnonce="{cnonce}", response="{response}"')


def test_digest_correct_wrong_and_replayed(mixed):
    mixed.cli("tenant", "set", "demo", "--min-strength", "digest")
    password = mixed.cli("device", "digest", YEALINK).stdout.strip().split()[-1]
    uri = f"/{YEALINK}.cfg"
    challenge_resp = request(mixed, get(uri))
    assert status(challenge_resp) == 401
    challenges = header(challenge_resp, "WWW-Authenticate")
    assert challenges[0].startswith("Digest ") and "SHA-256" in challenges[0] and "MD5" in challenges[1]
    # Unknown devices get the same form of challenge.
    unknown = header(request(mixed, get("/001565999999.cfg")), "WWW-Authenticate")
    strip = lambda c: re.sub(r'nonce="[^"]+"', "", c)
    assert [strip(c) for c in unknown] == [strip(c) for c in challenges]

    auth = digest_auth(challenges[0], YEALINK, password, "GET", uri)
    ok = request(mixed, get(uri, extra_headers=f"Authorization: {auth}\r\n".encode()))
    assert status(ok) == 200 and b"account.1.user_name" in ok
    replay = request(mixed, get(uri, extra_headers=f"Authorization: {auth}\r\n".encode()))
    assert status(replay) == 401 and last(mixed, reason="digest replay")
    bad = digest_auth(challenges[0], YEALINK, "not-the-password", "GET", uri, nc="00000002")
    assert status(request(mixed, get(uri, extra_headers=f"Authorization: {bad}\r\n".encode()))) == 401
    assert last(mixed, reason="digest failed")
    audit = mixed.audit_bytes()
    assert password.encode() not in audit and password.encode() not in mixed.log.read_bytes()


def test_ip_range_inside_and_outside(mixed):
    mixed.cli("tenant", "set", "demo", "--min-strength", "ip", "--ip-ranges", "127.0.0.0/30",
              "--ip-as-identity", "true")
    inside = request(mixed, get(f"/{YEALINK}.cfg"), source="127.0.0.1")
    assert status(inside) == 200 and last(mixed, decision="allow")["identity_source"] == "ip"
    outside = request(mixed, get(f"/{YEALINK}.cfg"), source="127.0.0.9")
    assert status(outside) == 401  # no identity from there: challenged like anyone
    # As an added requirement: a valid certificate from outside the range is refused.
    mixed.cli("tenant", "set", "demo", "--min-strength", "client-cert", "--ip-as-identity", "false")
    refused = request(mixed, get(f"/{YEALINK2}.cfg"), mac=YEALINK2, source="127.0.0.9")
    assert status(refused) == 404 and last(mixed, reason="outside ip range")


def test_plain_http_refused_unless_the_tenant_opts_in_and_the_file_is_encrypted(mixed):
    mixed.cli("tenant", "set", "demo", "--min-strength", "digest")
    password = mixed.cli("device", "digest", YEALINK).stdout.strip().split()[-1]
    uri = f"/{YEALINK}.cfg"

    def digest_get(port=None, tls=True):
        challenge = request(mixed, get(uri), port=port, tls=tls)
        assert status(challenge) == 401, challenge[:200]
        auth = digest_auth(header(challenge, "WWW-Authenticate")[0], YEALINK, password, "GET", uri)
        return request(mixed, get(uri, extra_headers=f"Authorization: {auth}\r\n".encode()), port=port, tls=tls)

    plain = lambda: digest_get(port=mixed.plain_port, tls=False)
    assert status(plain()) == 404 and last(mixed, reason="plain http not allowed")
    echoed = mixed.cli("tenant", "set", "demo", "--allow-plain-http", "true").stdout
    assert "weakest accepted digest" in echoed and "plain HTTP allowed" in echoed, echoed
    # The device file carries its SIP and web-UI passwords: never in clear on the wire.
    assert status(plain()) == 404 and last(mixed, reason="device file needs tls or encryption")
    mixed.cli("device", "config-key", YEALINK)
    # The phone gets its key with one plain copy over TLS, then encrypted files over plain HTTP.
    first = digest_get()
    assert status(first) == 200 and b"#!version" in first
    encrypted = plain()
    assert status(encrypted) == 200 and b"#!version" not in encrypted
    assert b"account.1." not in encrypted and last(mixed, decision="allow")["detail"]["encrypted"] is True
    # A URL token is refused there: it would cross the network in clear.
    token = token_for(mixed, YEALINK)
    by_token = request(mixed, get(f"/p/{token}/{YEALINK}.cfg"), port=mixed.plain_port, tls=False)
    assert status(by_token) in (401, 404)


def test_refusals_are_byte_identical(mixed, tmp_path):
    mixed.cli("ca", "issue", "--ca-cert", mixed.ca, "--ca-key", mixed.dir / "tls" / "ca.key",
              "--mac", "001565999999", "--out", tmp_path / "unknown")
    unknown_cert = (tmp_path / "unknown" / "001565999999.crt", tmp_path / "unknown" / "001565999999.key")
    mixed.sql(f"update devices set window_expires = 1 where mac = '{YEALINK2}'")
    token = token_for(mixed, POLYCOM)  # a token is below the demo tenant's client-cert policy
    mixed.cli("ban", "add", "127.0.0.3", "--minutes", "5")
    import time
    deadline = time.time() + 15
    while time.time() < deadline:  # the server reloads bans every few seconds
        if status(request(mixed, get(f"/{YEALINK}.cfg"), mac=YEALINK, source="127.0.0.3")) == 404:
            break
        time.sleep(0.5)
    cases = {
        "unknown device": request(mixed, get("/001565999999.cfg"), cert=unknown_cert),
        "mac mismatch": request(mixed, get(f"/{YEALINK2}.cfg"), mac=YEALINK),
        "window expired": request(mixed, get(f"/{YEALINK2}.cfg"), mac=YEALINK2),
        "below policy": request(mixed, get(f"/p/{token}/{POLYCOM}-user.cfg")),
        "banned source": request(mixed, get(f"/{YEALINK}.cfg"), mac=YEALINK, source="127.0.0.3"),
        "wrong token": request(mixed, get(f"/p/{'b' * 32}/{YEALINK}.cfg")),
    }
    reference = cases["unknown device"]
    assert status(reference) == 404
    for reason, resp in cases.items():
        assert resp == reference, reason
        assert any(r.get("reason", "").startswith(reason) for r in mixed.audit()), reason
    assert "127.0.0.3/32" in mixed.cli("ban", "list").stdout
    mixed.cli("ban", "remove", "127.0.0.3")
    assert "127.0.0.3/32" not in mixed.cli("ban", "list").stdout


def pipelined(server, paths, source, mac=None, extra=b""):
    """GETs over keep-alive TLS connections from `source`; returns (status, body) per path."""
    out = []
    ctx = ssl.create_default_context(cafile=str(server.ca))
    if mac:
        ctx.load_cert_chain(*map(str, server.cert(mac)))
    for start in range(0, len(paths), 500):
        batch = paths[start:start + 500]
        with socket.create_connection(("127.0.0.1", server.mixed_port), timeout=60,
                                      source_address=(source, 0)) as sock:
            with ctx.wrap_socket(sock, server_hostname="localhost") as conn:
                conn.sendall(b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n".encode() + extra + b"\r\n"
                                      for p in batch))
                f = conn.makefile("rb")
                for _ in batch:
                    line = f.readline()
                    code = int(line.split()[1])
                    length = 0
                    while (h := f.readline()) not in (b"\r\n", b""):
                        if h.lower().startswith(b"content-length:"):
                            length = int(h.split(b":")[1])
                    out.append((code, f.read(length)))
    return out


def test_scanner_is_banned_and_leaks_nothing_while_devices_keep_provisioning(mixed):
    real = [YEALINK, YEALINK2]
    macs = [f"0015{i:08x}" for i in range(10_000)]
    macs[17], macs[4242] = real  # a few real devices among the guesses
    # 1. no credentials at all
    answers = pipelined(mixed, [f"/{m}.cfg" for m in macs], "127.0.0.2")
    # 2. wrong tokens, from a second scanner address
    answers += pipelined(mixed, [f"/p/{'c' * 31}{i % 10}/{m}.cfg" for i, m in enumerate(macs[:2000])], "127.0.0.4")
    # 3. a valid certificate of another device, from a third address
    answers += pipelined(mixed, [f"/{m}.cfg" for m in macs[:2000]], "127.0.0.5", mac=POLYCOM)
    assert not any(code == 200 for code, _ in answers)
    assert not any(b"account.1" in body or b"reg.1." in body for _, body in answers)
    bans = {r["detail"]["source"]: r for r in mixed.audit() if r.get("reason") == "source banned"}
    assert {"127.0.0.2/32", "127.0.0.4/32", "127.0.0.5/32"} <= set(bans)
    # Banned within the threshold (20 distinct MACs / failed auths by default).
    first_ban = next(i for i, r in enumerate(mixed.audit()) if r.get("reason") == "source banned")
    scanner_before = [r for r in mixed.audit()[:first_ban] if r.get("peer", "").startswith("127.0.0.2:")]
    assert len(scanner_before) <= 25
    # A legitimate device behind another address provisions during and after the attack.
    assert status(request(mixed, get(f"/{YEALINK}.cfg"), mac=YEALINK, source="127.0.0.1")) == 200
    assert "127.0.0.2/32" in mixed.cli("ban", "list").stdout
    # Nothing was created for the unknown MACs.
    assert mixed.sql("select count(*) from devices") == "3"


def test_boot_storm_of_500_devices_behind_one_address(mixed, tmp_path):
    macs = [f"00156520{i:04x}" for i in range(500)]
    mixed.cli("ca", "issue", "--ca-cert", mixed.ca, "--ca-key", mixed.dir / "tls" / "ca.key",
              "--out", tmp_path / "storm", *[a for m in macs for a in ("--mac", m)])
    csv = tmp_path / "storm.csv"
    csv.write_text("mac,vendor,model,tenant,line1_user,line1_registrar\n" +
                   "".join(f"{m},yealink,T54W,demo,{5000 + i},sip.demo.example\n" for i, m in enumerate(macs)))
    mixed.cli("device", "import", csv)

    def boot(m):
        cert = (tmp_path / "storm" / f"{m}.crt", tmp_path / "storm" / f"{m}.key")
        common = request(mixed, get("/y000000000096.cfg"), port=mixed.port, cert=cert, source="127.0.0.7")
        own = request(mixed, get(f"/{m}.cfg"), port=mixed.port, cert=cert, source="127.0.0.7")
        return status(common), status(own), bool(PASSWORD.search(own))

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(boot, macs))
    assert all(r == (200, 200, True) for r in results), [r for r in results if r != (200, 200, True)][:5]
    assert not any(r.get("reason") == "source banned" for r in mixed.audit())
    assert not any(r.get("reason") == "rate limited" for r in mixed.audit())


def test_second_certificate_for_the_same_mac_locks_the_device(server, tmp_path):
    assert status(request(server, get(f"/{YEALINK}.cfg"), port=server.port, mac=YEALINK)) == 200
    # Another certificate for the same MAC, validly signed by the same CA: a leaked CA key.
    server.cli("ca", "issue", "--ca-cert", server.ca, "--ca-key", server.dir / "tls" / "ca.key",
               "--mac", YEALINK, "--out", tmp_path / "forged")
    forged = (tmp_path / "forged" / f"{YEALINK}.crt", tmp_path / "forged" / f"{YEALINK}.key")
    assert status(request(server, get(f"/{YEALINK}.cfg"), port=server.port, cert=forged)) == 404
    assert last(server, kind="lifecycle", reason="locked")["detail"]["cause"] == "certificate key changed"
    assert "ALERT device" in server.log.read_text()
    # Locked: even the genuine certificate gets nothing until an operator acts.
    assert status(request(server, get(f"/{YEALINK}.cfg"), port=server.port, mac=YEALINK)) == 404
    assert last(server, kind="request")["reason"].startswith("device locked")
    # The store's last-seen columns lag the audit log by up to [audit] store_copy_delay_ms (100).
    deadline = time.time() + 5
    while "last seen:      " not in (shown := server.cli("device", "show", YEALINK).stdout):
        assert time.time() < deadline, shown
        time.sleep(0.05)
    assert "locked:         certificate key changed" in shown, shown
    assert "from 127.0.0.1" in shown, shown
    server.cli("device", "unlock", YEALINK)
    assert "locked:" not in server.cli("device", "show", YEALINK).stdout
    assert status(request(server, get(f"/{YEALINK}.cfg"), port=server.port, mac=YEALINK)) == 200
    # After a re-pin the replacement certificate is accepted and pinned.
    server.cli("device", "repin", YEALINK)
    assert status(request(server, get(f"/{YEALINK}.cfg"), port=server.port, cert=forged)) == 200


def test_provisioned_device_moving_network_is_locked(server):
    assert status(request(server, get(f"/{YEALINK}.cfg"), port=server.port, mac=YEALINK)) == 200
    assert status(request(server, get(f"/{YEALINK}.cfg"), port=server.port, mac=YEALINK,
                          source="127.0.0.200")) == 200  # same /24
    assert status(request(server, get(f"/{YEALINK}.cfg"), port=server.port, mac=YEALINK,
                          source="127.0.9.1")) == 404
    assert last(server, kind="lifecycle", reason="locked")["detail"]["cause"] == "network changed"
    server.cli("device", "unlock", YEALINK)
    server.cli("tenant", "set", "demo", "--anomaly-lock", "false")
    assert status(request(server, get(f"/{YEALINK}.cfg"), port=server.port, mac=YEALINK,
                          source="127.0.9.1")) == 200


PROXIED = """
[[listener]]
name = "behind-proxy"
bind = "127.0.0.1"
port = {mixed_port}
cert = "tls/server.crt"
key = "tls/server.key"
client_cert = "required"
trust_anchors = ["tls/ca.crt"]
proxy_protocol_from = ["127.0.0.1/32"]

[defense]
trusted_proxies = ["127.0.0.1/32"]
forwarded_header = "x-forwarded-for"
"""


def test_proxy_protocol_and_forwarded_headers_only_from_trusted_proxies(tmp_path):
    from conftest import Server
    server = Server(tmp_path, PROXIED)
    server.start()
    try:
        ctx = ssl.create_default_context(cafile=str(server.ca))
        ctx.load_cert_chain(*map(str, server.cert(YEALINK)))
        for source in ("127.0.0.1", "127.0.0.2"):
            sock = socket.create_connection(("127.0.0.1", server.mixed_port), timeout=10,
                                            source_address=(source, 0))
            sock.sendall(b"PROXY TCP4 198.51.100.7 127.0.0.1 5555 443\r\n")
            try:
                with ctx.wrap_socket(sock, server_hostname="localhost") as conn:
                    conn.sendall(get(f"/{YEALINK}.cfg"))
                    data = conn.recv(65536)
            except (ssl.SSLError, ConnectionResetError, OSError):
                data = b""
            if source == "127.0.0.1":
                assert data.startswith(b"HTTP/1.1 200")
                assert last(server, kind="request", listener="behind-proxy")["peer"] == "198.51.100.7:5555"
            else:
                assert not data.startswith(b"HTTP/1.1")
                assert last(server, reason="proxy protocol from an untrusted peer")
        # X-Forwarded-For: honoured from the trusted proxy, ignored (not even recorded) from others.
        xff = b"X-Forwarded-For: 203.0.113.9\r\n"
        request(server, get("/nothing.cfg", extra_headers=xff), port=server.port, mac=YEALINK)
        assert last(server, file="/nothing.cfg")["detail"]["client"] == "203.0.113.9"
        request(server, get("/other.cfg", extra_headers=xff), port=server.port, mac=YEALINK, source="127.0.0.2")
        assert "client" not in last(server, file="/other.cfg").get("detail", {})
    finally:
        server.stop()


def openssl_decrypt(data: bytes, key: bytes) -> bytes:
    p = subprocess.run(["openssl", "enc", "-d", "-aes-128-ecb", "-nopad", "-K", key.hex()],
                       input=data, capture_output=True, check=True)
    return p.stdout


def test_encrypted_yealink_config_decrypts_with_the_openssl_cli(server):
    key = server.cli("device", "config-key", YEALINK).stdout.strip().split()[-1]
    # The phone reads aes_key_in_file from the common file it applies after this session's
    # downloads: its first copy is plain (over TLS), encrypted from the next session on.
    first = server.raw(get(f"/{YEALINK}.cfg"), mac=YEALINK).partition(b"\r\n\r\n")[2]
    assert first.startswith(b"#!version")
    assert last(server, kind="lifecycle", reason="first copy sent plain")
    encrypted = server.raw(get(f"/{YEALINK}.cfg"), mac=YEALINK)
    head, _, body = encrypted.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and not body.startswith(b"#!version")
    key_file = server.raw(get(f"/{YEALINK}_Security.enc"), mac=YEALINK).partition(b"\r\n\r\n")[2]
    # The key file is wrapped with Yealink's published built-in key: obfuscation, not secrecy.
    unwrapped = openssl_decrypt(key_file, b"EKs35XacP6eybA25").rstrip(b"\0")
    assert unwrapped == key.encode()
    plain = openssl_decrypt(body, unwrapped).rstrip(b"\0")
    assert plain.startswith(b"#!version:1.0.0.1") and b"account.1.user_name" in plain
    # Another device cannot fetch this device's key file.
    assert status(server.raw(get(f"/{YEALINK}_Security.enc"), mac=YEALINK2)) == 404


def test_reactivation_replaces_the_digest_password_config_key_and_pin(mixed):
    """Whoever holds a leaked digest password must not claim the fresh SIP passwords a
    reactivation issues: every device secret is replaced at once."""
    mixed.cli("tenant", "set", "demo", "--min-strength", "digest")
    old_password = mixed.cli("device", "digest", YEALINK).stdout.strip().split()[-1]
    old_key = mixed.cli("device", "config-key", YEALINK).stdout.strip().split()[-1]
    assert status(request(mixed, get(f"/{YEALINK}.cfg"), mac=YEALINK)) == 200  # pins
    out = mixed.cli("device", "reactivate", YEALINK).stdout
    new_password = re.search(r"new digest password \(shown once\): (\S+)", out).group(1)
    new_key = re.search(r"new config key \(shown once\): (\S+)", out).group(1)
    assert new_password != old_password and new_key != old_key
    assert "certificate pin cleared" in out
    uri = f"/{YEALINK}.cfg"
    challenge = header(request(mixed, get(uri)), "WWW-Authenticate")[0]
    stale = request(mixed, get(uri, extra_headers=f"Authorization: {digest_auth(challenge, YEALINK, old_password, 'GET', uri)}\r\n".encode()))
    assert status(stale) == 401 and last(mixed, reason="digest failed")
    challenge = header(request(mixed, get(uri)), "WWW-Authenticate")[0]
    fresh = request(mixed, get(uri, extra_headers=f"Authorization: {digest_auth(challenge, YEALINK, new_password, 'GET', uri)}\r\n".encode()))
    assert status(fresh) == 200
    record = last(mixed, kind="lifecycle", reason="reactivated")["detail"]
    assert record["new_digest_password"] and record["new_config_key"] and record["pin_cleared"]
    audit = mixed.audit_bytes()
    for secret in (old_password, new_password, old_key, new_key):
        assert secret.encode() not in audit and secret.encode() not in mixed.log.read_bytes()


def test_bare_connections_are_no_failed_authentications(mixed):
    """Connecting and closing without a handshake proves nothing: anyone sharing an address
    (a NAT, a load balancer's TCP check) must not get it banned that way. A certificate that
    fails verification does count."""
    for _ in range(25):
        s = socket.create_connection(("127.0.0.1", mixed.mixed_port), source_address=("127.0.0.6", 0))
        s.close()
    time.sleep(0.3)
    assert "127.0.0.6" not in mixed.cli("ban", "list").stdout
    assert status(request(mixed, get(f"/{YEALINK}.cfg"), mac=YEALINK, source="127.0.0.6")) == 200
