"""Two nodes of one installation (one store, one master key, own ports and audit files):
a digest challenge one node issues is answered to the other. With a shared
[defense] nonce_key_file the answer is accepted; without it the other node refuses the
nonce as not its own and challenges again."""
import re
import time

import pytest

from conftest import MIXED_LISTENERS, YEALINK, Server, free_ports, get
from test_auth import digest_auth, header, request, status


class SecondNode(Server):
    """Node B: node A's installation under a config of its own (own ports, own audit file)."""

    def __init__(self, a: Server, root):
        self.dir = a.dir
        self.store_url = a.store_url
        self.ca = a.ca
        self.proc = None
        self.log = root / "server-b.log"
        self.port, self.mixed_port, self.plain_port, self.admin_port = free_ports(4)
        text = a.config.read_text()
        for old, new in ((a.port, self.port), (a.mixed_port, self.mixed_port),
                         (a.plain_port, self.plain_port), (a.admin_port, self.admin_port)):
            text = re.sub(rf"\b{old}\b", str(new), text)
        text = text.replace('file = "audit.log"', 'file = "audit-b.log"')
        self.config = a.dir / "provgate-b.toml"
        self.config.write_text(text)

    def audit_bytes(self):
        path = self.dir / "audit-b.log"
        time.sleep(0.2)  # secret-free records are written within audit.max_unsynced_ms
        return path.read_bytes()


def nodes(tmp_path, defense):
    a = Server(tmp_path, MIXED_LISTENERS + "\n[defense]\ndevice_burst = 1000\n" + defense)
    a.cli("tenant", "set", "demo", "--min-strength", "digest")
    password = a.cli("device", "digest", YEALINK).stdout.strip().split()[-1]
    b = SecondNode(a, tmp_path)
    return a, b, password


@pytest.fixture
def shared_key(tmp_path):
    a, b, password = nodes(tmp_path, 'nonce_key_file = "nonce.key"\n')
    yield a.start(), b.start(), password
    b.stop()
    a.stop()


@pytest.fixture
def own_keys(tmp_path):
    a, b, password = nodes(tmp_path, "")
    yield a.start(), b.start(), password
    b.stop()
    a.stop()


def answer_elsewhere(a, b, password, nc="00000001"):
    """A challenge from node A answered to node B; B's response."""
    uri = f"/{YEALINK}.cfg"
    challenge = header(request(a, get(uri)), "WWW-Authenticate")[0]
    auth = digest_auth(challenge, YEALINK, password, "GET", uri, nc=nc)
    return request(b, get(uri, extra_headers=f"Authorization: {auth}\r\n".encode())), auth


def test_shared_nonce_key_lets_another_node_verify_the_challenge(shared_key):
    a, b, password = shared_key
    key = a.dir / "nonce.key"
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_size == 32
    ok, auth = answer_elsewhere(a, b, password)
    assert status(ok) == 200 and b"account.1.user_name" in ok
    assert b.last_audit(kind="request", decision="allow")["identity_source"] == "digest"
    # Replay state is per node: B refuses the same nonce-count again.
    uri = f"/{YEALINK}.cfg"
    replay = request(b, get(uri, extra_headers=f"Authorization: {auth}\r\n".encode()))
    assert status(replay) == 401 and b.last_audit(reason="digest replay")


def test_without_a_shared_key_another_node_challenges_again(own_keys):
    a, b, password = own_keys
    refused, _ = answer_elsewhere(a, b, password)
    assert status(refused) == 401
    assert header(refused, "WWW-Authenticate")[0].startswith("Digest ")
    # The nonce B had never issued is not accepted as a valid credential.
    assert not any(r.get("decision") == "allow" for r in b.audit() if r.get("kind") == "request")
