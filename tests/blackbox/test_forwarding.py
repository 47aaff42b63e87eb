"""The client address behind trusted proxies: every line of a forwarding header counts, in
order, so a client cannot put its own line first and choose its address. Tested with raw
requests and through a real HAProxy that appends its own X-Forwarded-For line."""
import shutil
import socket
import subprocess
import time

import pytest

from conftest import YEALINK, Server, free_ports, get
from test_auth import last, request, status

# A listener where the tenant's IP range is an identity, behind a trusted proxy on 127.0.0.1.
BEHIND_PROXY = """
[[listener]]
name = "behind-proxy"
bind = "127.0.0.1"
port = {mixed_port}
cert = "tls/server.crt"
key = "tls/server.key"
client_cert = "optional"
trust_anchors = ["tls/ca.crt"]
methods = ["client-cert", "token", "digest", "ip"]

[defense]
trusted_proxies = ["127.0.0.1/32"]
forwarded_header = "{header}"
device_burst = 1000
"""


def ip_identity_server(tmp_path, header="x-forwarded-for"):
    server = Server(tmp_path, BEHIND_PROXY.replace("{header}", header))
    server.start()
    server.cli("tenant", "set", "demo", "--min-strength", "ip", "--ip-ranges", "10.9.9.0/24",
               "--ip-as-identity", "true")
    return server


def fetch(server, *header_lines: str):
    extra = "".join(f"{h}\r\n" for h in header_lines).encode()
    return request(server, get(f"/{YEALINK}.cfg", extra_headers=extra))


@pytest.fixture
def xff_server(tmp_path):
    server = ip_identity_server(tmp_path)
    yield server
    server.stop()


def test_one_forwarded_line_inside_the_range_identifies_the_device(xff_server):
    # The control: the proxy's own line names an address inside the tenant's range.
    assert status(fetch(xff_server, "X-Forwarded-For: 10.9.9.5")) == 200
    assert last(xff_server, decision="allow")["identity_source"] == "ip"


@pytest.mark.parametrize("lines", [
    # The client's spoofed line first, the proxy's appended line second.
    ["X-Forwarded-For: 10.9.9.5", "X-Forwarded-For: 198.51.100.7"],
    # Three lines; the client's claim in the middle of the chain.
    ["X-Forwarded-For: 10.9.9.5", "X-Forwarded-For: 10.9.9.6, 198.51.100.7",
     "x-forwarded-for: 198.51.100.8"],
])
def test_a_client_line_before_the_proxys_line_cannot_choose_the_address(xff_server, lines):
    resp = fetch(xff_server, *lines)
    assert status(resp) != 200 and b"account.1" not in resp
    expected = lines[-1].split(":", 1)[1].split(",")[-1].strip()
    record = last(xff_server, file=f"/{YEALINK}.cfg", decision="deny")
    assert record["detail"]["client"] == expected


def test_a_junk_line_cannot_make_the_client_the_proxy(xff_server):
    # The range holds the proxy itself (127.0.0.1): if junk made the header unreadable and the
    # peer were taken instead, the client would borrow the proxy's address.
    xff_server.cli("tenant", "set", "demo", "--ip-ranges", "127.0.0.0/29")
    resp = fetch(xff_server, "X-Forwarded-For: junk", "X-Forwarded-For: 198.51.100.7")
    assert status(resp) != 200 and b"account.1" not in resp
    assert last(xff_server, file=f"/{YEALINK}.cfg", decision="deny")["detail"]["client"] == "198.51.100.7"
    # A hop that should name the client but is no address: refused, never the proxy.
    resp = fetch(xff_server, "X-Forwarded-For: 198.51.100.7, junk")
    assert status(resp) == 404
    assert last(xff_server, file=f"/{YEALINK}.cfg", reason="malformed forwarding header")


def test_a_forwarded_line_is_ignored_when_the_proxies_write_x_forwarded_for(xff_server):
    # Mixed headers: only the configured one is read, all of its lines.
    resp = fetch(xff_server, "Forwarded: for=10.9.9.5", "X-Forwarded-For: 10.9.9.7",
                 "Forwarded: for=10.9.9.6", "X-Forwarded-For: 198.51.100.7")
    assert status(resp) != 200
    assert last(xff_server, file=f"/{YEALINK}.cfg", decision="deny")["detail"]["client"] == "198.51.100.7"


def test_every_forwarded_line_counts_when_the_proxies_write_forwarded(tmp_path):
    server = ip_identity_server(tmp_path, header="forwarded")
    try:
        assert status(fetch(server, "Forwarded: for=10.9.9.5")) == 200
        resp = fetch(server, "Forwarded: for=10.9.9.5", "X-Forwarded-For: 10.9.9.5",
                     'Forwarded: for="198.51.100.7:4711";proto=https')
        assert status(resp) != 200
        assert last(server, file=f"/{YEALINK}.cfg", decision="deny")["detail"]["client"] == "198.51.100.7"
    finally:
        server.stop()


def test_a_repeated_authorization_field_is_a_malformed_request(xff_server):
    resp = fetch(xff_server, "X-Forwarded-For: 10.9.9.5", "Authorization: Basic Zm9vOmJhcg==",
                 "Authorization: Basic YmF6OnF1eA==")
    assert status(resp) == 400
    assert last(xff_server, reason="malformed request: repeated Authorization field")


HAPROXY_CONFIG = """
global
  maxconn 200

defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s

frontend devices
  bind 127.0.0.1:{front}
  option forwardfor
  default_backend provgate

backend provgate
  server node1 127.0.0.1:{back} ssl verify required ca-file {ca} verifyhost localhost sni str(localhost)
"""


def haproxy_fetch(port, source, extra_headers=b""):
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as s:
        s.sendall(get(f"/{YEALINK}.cfg", extra_headers=extra_headers))
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
        return b"".join(chunks)


def test_through_haproxy_option_forwardfor_the_client_cannot_spoof_its_address(xff_server, tmp_path):
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    (front,) = free_ports(1)
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(HAPROXY_CONFIG.format(front=front, back=xff_server.mixed_port, ca=xff_server.ca))
    proc = subprocess.Popen([haproxy, "-db", "-f", str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", front), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, "haproxy did not start"
                time.sleep(0.05)
        # HAProxy appends its own line naming the real client (127.0.0.5): the client's own
        # claim to be inside the tenant's range gets it nothing.
        spoofed = haproxy_fetch(front, "127.0.0.5", b"X-Forwarded-For: 10.9.9.5\r\n")
        assert status(spoofed) != 200 and b"account.1" not in spoofed
        record = last(xff_server, file=f"/{YEALINK}.cfg", decision="deny")
        assert record["detail"]["client"] == "127.0.0.5"
        # A phone inside the range is identified by the address HAProxy saw.
        xff_server.cli("tenant", "set", "demo", "--ip-ranges", "127.0.0.0/29")
        assert status(haproxy_fetch(front, "127.0.0.6")) == 200
        assert last(xff_server, decision="allow", identity_source="ip")["detail"]["client"] == "127.0.0.6"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
