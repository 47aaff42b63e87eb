"""The operator's store tools through the real binary: `provgate key rotate` on the demo's
store (either backend), and `provgate db copy` from the demo's SQLite file into a new
PostgreSQL database that then serves the same configs (docs/database.md, docs/security.md)."""
import re
import stat

import pytest

from conftest import PG_URL, STORE, YEALINK, YEALINK2, fresh_pg_database, run


def sip_password(body):
    m = re.search(rb"^account\.1\.password = (\S+)", body, re.M)
    assert m, body
    return m.group(1)


def set_store_url(server, url):
    """Points the demo's [store] at `url`, or back at its SQLite file for ""."""
    text = re.sub(r'^url = ".*"\n', "", server.config.read_text(), flags=re.M)
    if url:
        text = text.replace("[store]\n", f'[store]\nurl = "{url}"\n', 1)
    server.config.write_text(text)


def test_key_rotate_needs_stopped_servers_and_every_secret_stays_readable(demo):
    key = demo.dir / "master.key"
    old = key.read_bytes()
    p = demo.cli("key", "rotate", check=False)
    assert p.returncode == 1 and "--servers-stopped" in p.stderr
    assert key.read_bytes() == old

    out = demo.cli("key", "rotate", "--servers-stopped").stdout
    assert re.search(r"^lines\.password_enc: [1-9]\d* secrets re-sealed$", out, re.M), out
    assert key.read_bytes() != old and len(key.read_bytes()) == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not (demo.dir / "master.key.new").exists()
    assert old not in b"".join(p.read_bytes() for p in demo.dir.rglob("*") if p.is_file())

    demo.start()
    code, status, body = demo.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    assert code == 0 and status == 200
    assert sip_password(body)
    demo.stop()

    # A node left with the old key file refuses to open the store, naming the file.
    key.write_bytes(old)
    p = demo.cli("db", "check", check=False)
    assert p.returncode == 1 and "does not open the secrets" in p.stderr and str(key) in p.stderr


@pytest.mark.skipif(not PG_URL or STORE != "sqlite",
                    reason="needs PROVGATE_TEST_PG_URL and the demo on SQLite (the copy's source)")
def test_db_copy_into_postgres_serves_the_same_configs(demo):
    demo.cli("ban", "add", "192.0.2.9", "--reason", "test")
    url = fresh_pg_database()
    src = f"sqlite:{demo.dir / 'provgate.db'}"

    p = run("db", "copy", "--from", src, "--to", url, check=False)
    assert p.returncode == 1 and "schema version 0" in p.stderr and "--migrate-target" in p.stderr

    out = run("db", "copy", "--from", src, "--to", url, "--migrate-target").stdout
    assert "counts and checksums match" in out, out
    for table in ("tenants", "devices", "lines", "bans", "audit"):
        m = re.search(rf"^{table}\s+(\d+)\s+(\d+)\s+([0-9a-f]{{64}})\s+ok$", out, re.M)
        assert m and m.group(1) == m.group(2) and int(m.group(1)) > 0, (table, out)
    assert url.split("@")[-1] in out

    p = run("db", "copy", "--from", src, "--to", url, check=False)
    assert p.returncode == 1 and "not empty" in p.stderr

    set_store_url(demo, url)
    assert "ok: all" in demo.cli("db", "check").stdout
    assert "192.0.2.9" in demo.cli("ban", "list").stdout
    demo.start()
    on_pg = {mac: demo.curl(f"/{mac}.cfg", mac=mac) for mac in (YEALINK, YEALINK2)}
    demo.stop()

    set_store_url(demo, "")
    demo.start()
    on_sqlite = {mac: demo.curl(f"/{mac}.cfg", mac=mac) for mac in (YEALINK, YEALINK2)}
    for mac in (YEALINK, YEALINK2):
        assert on_pg[mac][1] == on_sqlite[mac][1] == 200
        assert sip_password(on_pg[mac][2]) == sip_password(on_sqlite[mac][2])
        assert on_pg[mac][2] == on_sqlite[mac][2]
