"""The tamper-evident audit trail (docs/security.md, "Tamper-evident audit trail") against the
real binary: two server runs and a CLI command write one linked set of hash chains, signed by
checkpoints; `provgate audit verify` finds it clean, and names the line (file) or record id
(store) of each edit, deletion, reordering and forged checkpoint. Runs on both store backends
(PROVGATE_BLACKBOX_STORE)."""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess

import pytest

from conftest import BINARY, YEALINK, Server, read_all

DEVICE = f"/{YEALINK}.cfg"
COMMON = "/y000000000096.cfg"


def fetch(server, path):
    ctx = ssl.create_default_context(cafile=str(server.ca))
    ctx.load_cert_chain(*map(str, server.cert(YEALINK)))
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as conn:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            return read_all(conn)


def verify(server, *args):
    p = server.cli("audit", "verify", *args, check=False)
    return p.returncode, p.stdout + p.stderr


def lines_of(path):
    return path.read_text().split("\n")[:-1]


def write_lines(path, lines):
    path.write_text("".join(l + "\n" for l in lines))


def chained(lines):
    """(index, record) of each chained record."""
    return [(i, json.loads(l)) for i, l in enumerate(lines) if '"chain_id"' in l]


@pytest.fixture(scope="module")
def trail(tmp_path_factory):
    """A demo after two server runs (checkpoints every 4 records) with a CLI command between."""
    s = Server(tmp_path_factory.mktemp("chain"))
    text = s.config.read_text().replace("[audit]\n", "[audit]\ncheckpoint_records = 4\n", 1)
    s.config.write_text(text)
    for run in range(2):
        s.start()
        for _ in range(3):
            fetch(s, DEVICE)
            fetch(s, COMMON)
            fetch(s, "/nope.cfg")
        s.stop()
        if run == 0:
            s.cli("ban", "add", "192.0.2.7", "--minutes", "1", "--reason", "chain test")
    yield s
    s.stop()


def test_a_clean_trail_verifies_in_the_file_and_the_store(trail):
    code, out = verify(trail)
    assert code == 0, out
    m = re.search(r"audit\.log: (\d+) records in (\d+) chains, (\d+) valid checkpoints, 0 unsigned at the "
                  r"end: OK \(0 errors", out)
    assert m, out
    assert int(m.group(2)) >= 4 and int(m.group(3)) >= 4, out  # demo init, two runs, the CLI
    code, out = verify(trail, "--store")
    assert code == 0, out
    assert "store: " in out and "TAMPERED" not in out, out
    records = trail.audit(checkpoints=True)
    server_chains = {r["chain_id"] for r in records if "run" in r}
    assert len(server_chains) >= 2
    firsts = [r for r in records if r.get("chain_n") == 1]
    # Every writer after the first follows the head it found: the server runs and the CLI.
    assert all("chain_link" in r for r in firsts[1:]), firsts
    assert any(r["kind"] == "checkpoint" for r in records)


def test_pubkey_names_the_key_that_signs_and_another_key_is_refused(trail):
    key = trail.cli("audit", "pubkey").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key), key
    key_file = trail.dir / "audit-signing.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    code, out = verify(trail, "--public-key", key)
    assert code == 0, out
    code, out = verify(trail, "--public-key", "ab" * 32)
    assert code == 1 and "bad checkpoint: signed by key" in out, out


def tampered(trail, tmp_path, change):
    """Verifies a copy of the audit file after `change(lines)`; (exit code, output)."""
    copy = tmp_path / "copy.log"
    lines = lines_of(trail.dir / "audit.log")
    change(lines)
    write_lines(copy, lines)
    return verify(trail, "--file", copy)


def test_an_edited_line_is_named(trail, tmp_path):
    target = {}

    def edit(lines):
        i, _ = chained(lines)[5]
        target["line"] = i + 1
        lines[i] = lines[i].replace('"decision":"', '"decision":"x', 1)

    code, out = tampered(trail, tmp_path, edit)
    assert code == 1, out
    assert f"line {target['line']}: ERROR: record edited" in out, out
    assert "TAMPERED (1 errors" in out, out


def test_a_deleted_line_is_named(trail, tmp_path):
    target = {}

    def delete(lines):
        i, r = chained(lines)[4]
        assert r["chain_n"] > 1
        del lines[i]
        target["line"] = i + 1  # the record after the gap moved up into its place

    code, out = tampered(trail, tmp_path, delete)
    assert code == 1, out
    assert f"line {target['line']}: ERROR: record deleted" in out, out


def test_swapped_lines_are_named(trail, tmp_path):
    target = {}

    def swap(lines):
        records = chained(lines)
        (i, a), (j, b) = records[2], records[3]
        assert a["chain_id"] == b["chain_id"]
        lines[i], lines[j] = lines[j], lines[i]
        target["line"] = i + 1

    code, out = tampered(trail, tmp_path, swap)
    assert code == 1, out
    assert f"line {target['line']}: ERROR: records reordered" in out, out
    assert "deleted" not in out, out


def test_a_deleted_server_run_is_detected_by_the_next_writers_link(trail, tmp_path):
    def drop_first_run(lines):
        first = chained(lines)[0][1]["chain_id"]
        lines[:] = [l for l in lines if f'"chain_id":"{first}"' not in l]

    code, out = tampered(trail, tmp_path, drop_first_run)
    assert code == 1, out
    assert "records deleted: chain" in out and "is not in the trail" in out, out


def test_a_forged_checkpoint_signature_is_named(trail, tmp_path):
    target = {}

    def forge(lines):
        i = next(i for i, r in chained(lines) if r["kind"] == "checkpoint")
        sig = json.loads(lines[i])["detail"]["signature"]
        lines[i] = lines[i].replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
        target["line"] = i + 1

    code, out = tampered(trail, tmp_path, forge)
    assert code == 1, out
    # The edit breaks the record's chain value as well: an attacker without the key cannot
    # reseal it into a valid checkpoint either way.
    assert f"line {target['line']}: ERROR: bad checkpoint signature" in out, out
    assert f"line {target['line']}: ERROR: record edited" in out, out


def test_the_unsigned_tail_is_a_warning(trail, tmp_path):
    def cut_after_last_checkpoint(lines):
        last = max(i for i, r in chained(lines) if r["kind"] == "checkpoint" and "run" in r)
        del lines[last]

    code, out = tampered(trail, tmp_path, cut_after_last_checkpoint)
    assert code == 0, out
    assert "WARNING" in out and "unsigned tail" in out, out


def store_rows(trail):
    rows = trail.sql("SELECT id, json FROM audit ORDER BY id").split("\n")
    return [(int(r.split("|", 1)[0]), json.loads(r.split("|", 1)[1])) for r in rows]


def allow_tampering(trail):
    """What an attacker with the database's owner rights does first: the append-only triggers go."""
    if trail.store_url:
        trail.sql("ALTER TABLE audit DISABLE TRIGGER audit_no_update")
        trail.sql("ALTER TABLE audit DISABLE TRIGGER audit_no_delete")
    else:
        trail.sql("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete")


def test_edits_and_deletions_in_the_store_copy_are_named_by_record_id(trail):
    # Last in this module: the module's store stays tampered with.
    rows = [(i, r) for i, r in store_rows(trail) if "chain_id" in r]
    edited = rows[3][0]
    by_chain = {}
    for i, r in rows:
        by_chain.setdefault(r["chain_id"], []).append((i, r))
    chain = max(by_chain.values(), key=len)
    deleted, after = chain[-3][0], chain[-2][0]
    assert edited not in (deleted, after)
    allow_tampering(trail)
    trail.sql(f"UPDATE audit SET json = replace(json, '\"decision\":\"', '\"decision\":\"x') WHERE id = {edited}")
    trail.sql(f"DELETE FROM audit WHERE id = {deleted}")
    code, out = verify(trail, "--store")
    assert code == 1, out
    assert f"store record {edited}: ERROR: record edited" in out, out
    assert f"store record {after}: ERROR: record deleted" in out, out
    # The file is untouched and still verifies.
    code, out = verify(trail)
    assert code == 0, out


def test_an_oversized_line_is_malformed_and_verification_goes_on(trail, tmp_path):
    """A line far longer than any record (5 MiB) is read only up to 4 MiB: it is named as
    malformed, and every record after it is still checked."""
    target = {}

    def insert(lines):
        i, _ = chained(lines)[3]
        lines.insert(i, '{"detail":"' + "x" * (5 << 20) + '"}')
        target["line"] = i + 1

    code, out = tampered(trail, tmp_path, insert)
    assert code == 1, out
    assert f"line {target['line']}: ERROR: " in out and "not a well-formed" in out, out
    assert "record edited" not in out and "record deleted" not in out, out


@pytest.mark.once
def test_a_server_whose_openssl_offers_no_sha256_refuses_to_start(tmp_path):
    """The chain hashes with OpenSSL's SHA-256: where an OpenSSL configuration asks for a
    provider that is not there, the server stops at start-up and says why, rather than failing
    its first audit record mid-request."""
    s = Server(tmp_path)
    conf = tmp_path / "openssl.cnf"
    conf.write_text("openssl_conf = openssl_init\n[openssl_init]\nalg_section = evp_properties\n"
                    "[evp_properties]\ndefault_properties = fips=yes\n")
    p = subprocess.run([str(BINARY), "-c", str(s.config), "serve"], capture_output=True, text=True,
                       env={**os.environ, "OPENSSL_CONF": str(conf)}, timeout=60)
    assert p.returncode != 0
    assert "OpenSSL offers no SHA-256" in p.stdout + p.stderr, p.stdout + p.stderr
