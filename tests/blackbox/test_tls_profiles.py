"""Phones that cannot speak the modern profile: one listener with an RSA and an ECDSA
certificate gives each client one it can verify, and the compatible profile adds
forward-secret AES-CBC suites for TLS 1.2 stacks without AEAD, while the modern profile
keeps refusing them. Real binary, openssl s_client as the phone (testssl.sh against each
profile: test_external_auditors.py)."""
import re
import subprocess
from pathlib import Path

import pytest

from conftest import Server

# One listener per profile, both with the demo's ECDSA certificate and an RSA one.
PROFILE_LISTENERS = """
[[listener]]
name = "modern"
bind = "127.0.0.1"
port = {mixed_port}
cert = "tls/server.crt"
key = "tls/server.key"
cert2 = "tls/server-rsa.crt"
key2 = "tls/server-rsa.key"
client_cert = "optional"
trust_anchors = ["tls/ca.crt"]

[[listener]]
name = "compatible"
bind = "127.0.0.1"
port = {plain_port}
cert = "tls/server.crt"
key = "tls/server.key"
cert2 = "tls/server-rsa.crt"
key2 = "tls/server-rsa.key"
tls_profile = "compatible"
client_cert = "optional"
trust_anchors = ["tls/ca.crt"]
"""


def issue_rsa_server_cert(tls_dir: Path):
    """An RSA-2048 server certificate for localhost from the demo CA."""
    key, csr, crt = tls_dir / "server-rsa.key", tls_dir / "server-rsa.csr", tls_dir / "server-rsa.crt"
    ext = tls_dir / "server-rsa.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-subj", "/CN=localhost/O=provgate demo", "-out", csr],
                   check=True, capture_output=True, timeout=60)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", tls_dir / "ca.crt",
                    "-CAkey", tls_dir / "ca.key", "-CAcreateserial", "-days", "365",
                    "-extfile", ext, "-out", crt], check=True, capture_output=True, timeout=60)
    key.chmod(0o600)


def start_profile_server(directory):
    """A started demo server with the modern and compatible listeners (PROFILE_LISTENERS),
    each with RSA and ECDSA certificates, beside the demo's own."""
    s = Server(directory)
    issue_rsa_server_cert(s.dir / "tls")
    with open(s.config, "a") as f:
        f.write(PROFILE_LISTENERS.format(mixed_port=s.mixed_port, plain_port=s.plain_port))
    return s.start()


@pytest.fixture
def profiles(tmp_path):
    s = start_profile_server(tmp_path)
    yield s
    s.stop()


def s_client(server, port, *args):
    """Runs openssl s_client (no client certificate) and returns (handshake ok, cipher,
    server key algorithm)."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                        "-servername", "localhost", "-CAfile", str(server.ca),
                        "-verify_return_error", "-showcerts", *args],
                       input=b"", capture_output=True, timeout=30)
    out = p.stdout.decode(errors="replace")
    cipher = re.search(r"Cipher is (\S+)", out)
    cipher = cipher.group(1) if cipher and cipher.group(1) != "(NONE)" else None
    pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    algorithm = None
    if pem:
        text = subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem.group(0).encode(),
                              capture_output=True, check=True).stdout.decode()
        algorithm = re.search(r"Public Key Algorithm: (\S+)", text).group(1)
    return p.returncode == 0 and cipher is not None, cipher, algorithm


RSA_ONLY = ["-sigalgs", "RSA-PSS+SHA256:RSA+SHA256"]


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_rsa_only_client_gets_the_rsa_certificate(profiles, version):
    ok, cipher, algorithm = s_client(profiles, profiles.mixed_port, version, *RSA_ONLY)
    assert ok, cipher
    assert algorithm == "rsaEncryption"


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_client_that_accepts_ecdsa_gets_the_ecdsa_certificate(profiles, version):
    ok, cipher, algorithm = s_client(profiles, profiles.mixed_port, version)
    assert ok, cipher
    assert algorithm == "id-ecPublicKey"


def test_rsa_only_tls12_client_offering_only_ecdhe_rsa_suites_gets_the_rsa_certificate(profiles):
    ok, cipher, algorithm = s_client(profiles, profiles.mixed_port, "-tls1_2",
                                     "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    assert ok and cipher == "ECDHE-RSA-AES128-GCM-SHA256"
    assert algorithm == "rsaEncryption"


def test_compatible_profile_accepts_cbc_only_tls12_client(profiles):
    ok, cipher, algorithm = s_client(profiles, profiles.plain_port, "-tls1_2",
                                     "-cipher", "ECDHE-RSA-AES128-SHA256")
    assert ok and cipher == "ECDHE-RSA-AES128-SHA256"
    assert algorithm == "rsaEncryption"
    ok, cipher, _ = s_client(profiles, profiles.plain_port, "-tls1_2",
                             "-cipher", "ECDHE-ECDSA-AES128-SHA")
    assert ok and cipher == "ECDHE-ECDSA-AES128-SHA"


def test_modern_profile_refuses_cbc_only_tls12_client(profiles):
    ok, cipher, _ = s_client(profiles, profiles.mixed_port, "-tls1_2",
                             "-cipher", "ECDHE-RSA-AES128-SHA256")
    assert not ok, cipher
    # What the operator sees of a phone that needs the compatible profile.
    record = profiles.last_audit(kind="tls", listener="modern")
    assert "no shared cipher" in record["reason"], record


def test_compatible_profile_still_gives_aead_to_clients_that_offer_it(profiles):
    ok, cipher, _ = s_client(profiles, profiles.plain_port, "-tls1_2",
                             "-cipher", "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
    assert ok and cipher == "ECDHE-RSA-AES128-GCM-SHA256"


# Every suite of each family the client's OpenSSL knows (a family this OpenSSL was built
# without is refused trivially).
@pytest.mark.parametrize("suites", ["kRSA", "kDHE", "3DES", "RC4", "aNULL:eNULL", "SHA1+kRSA"])
def test_compatible_profile_refuses_static_rsa_dhe_and_broken_suites(profiles, suites):
    ok, cipher, _ = s_client(profiles, profiles.plain_port, "-tls1_2",
                             "-cipher", suites + ":@SECLEVEL=0")
    assert not ok, cipher


def test_a_second_certificate_of_the_same_key_type_stops_start_up(demo):
    with open(demo.config, "a") as f:
        f.write(f"""
[[listener]]
name = "two-ecdsa"
bind = "127.0.0.1"
port = {demo.mixed_port}
cert = "tls/server.crt"
key = "tls/server.key"
cert2 = "tls/server.crt"
key2 = "tls/server.key"
client_cert = "optional"
trust_anchors = ["tls/ca.crt"]
""")
    with pytest.raises(AssertionError, match="one RSA and one ECDSA certificate at most"):
        demo.start()
