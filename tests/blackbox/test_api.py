"""The admin API against the real binary over real TLS: happy paths, problem+json naming
the field, secrets shown once and nowhere else, and what other products get wrong."""
import json
import re
import socket
import ssl
import time

import pytest

from api_client import Api, admin_key, make_key, new_mac
from conftest import YEALINK, Server


@pytest.fixture
def api(tmp_path):
    s = Server(tmp_path)
    s.cli("tenant", "add", "other")
    s.start()
    yield Api(s, admin_key(s))
    s.stop()


def problem(r, status, field=None):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def add_device(api, tenant="demo", mac=None):
    mac = mac or new_mac()
    r = api.post("/api/v1/devices", {"mac": mac, "vendor": "yealink", "model": "T54W", "tenant": tenant})
    assert r.status_code == 201, r.text
    return mac


def audit_query(api, query, until):
    """GET /api/v1/audit until `until(items)` holds: the store's copy of the audit file
    lags its commit by up to audit.store_copy_delay_ms."""
    deadline = time.time() + 5
    while True:
        r = api.get("/api/v1/audit?" + query)
        assert r.status_code == 200, r.text
        if until(r.json()["items"]) or time.time() > deadline:
            return r
        time.sleep(0.1)


def everything_logged(api):
    s = api.server
    return s.audit_bytes().decode() + s.log.read_text()


# --- Happy paths ---

def test_tenants_create_list_get_and_change_policy(api):
    r = api.post("/api/v1/tenants", {"name": "acme", "display_name": "Acme", "window_days": 7})
    assert r.status_code == 201 and r.json()["policy"]["window_days"] == 7
    assert "acme" in [t["name"] for t in api.get("/api/v1/tenants").json()["items"]]
    r = api.request("PATCH", "/api/v1/tenants/acme", json_body={"min_strength": "token", "window_days": 30})
    assert r.status_code == 200, r.text
    got = api.get("/api/v1/tenants/acme").json()
    assert got["policy"]["min_strength"] == "token" and got["policy"]["window_days"] == 30
    record = api.server.last_audit(reason="api PATCH /api/v1/tenants/{tenant}")
    assert record["detail"]["before"]["policy"]["window_days"] == 7
    assert record["detail"]["after"]["policy"]["window_days"] == 30
    assert record["detail"]["tenant"] == "acme" and record["actor"].startswith("api:")


def test_devices_list_filters_and_cursor_pagination(api):
    macs = sorted(add_device(api, "other") for _ in range(5))
    page = api.get("/api/v1/devices?tenant=other&limit=2").json()
    assert [d["mac"] for d in page["items"]] == macs[:2] and page["next_cursor"] == macs[1]
    page = api.get(f"/api/v1/devices?tenant=other&limit=2&cursor={page['next_cursor']}").json()
    assert [d["mac"] for d in page["items"]] == macs[2:4]
    assert api.get("/api/v1/devices?vendor=polycom&tenant=demo").json()["items"][0]["vendor"] == "polycom"
    assert api.get("/api/v1/devices?locked=true").json()["items"] == []
    assert len(api.get("/api/v1/devices?state=assigned&tenant=demo").json()["items"]) == 3
    assert api.get("/api/v1/devices?seen_since=2020-01-01T00:00:00Z").json()["items"] == []


def test_device_lifecycle_and_credentials_show_secrets_once(api):
    mac = add_device(api)
    r = api.request("PUT", f"/api/v1/devices/{mac}/lines/1",
                    json_body={"user": "2001", "registrar": "sip.example", "generate_password": True})
    assert r.status_code == 200, r.text
    sip_password = r.json()["secrets"]["sip_password"]
    token = api.post(f"/api/v1/devices/{mac}/credentials/url-token").json()["secrets"]["url-token"]
    react = api.post(f"/api/v1/devices/{mac}/reactivate").json()
    assert react["device"]["state"] == "assigned" and react["secrets"]["new_sip_passwords"] == 1
    new_token = react["secrets"]["url_token"]
    assert api.post(f"/api/v1/devices/{mac}/repin").status_code == 200
    problem(api.post(f"/api/v1/devices/{mac}/unlock"), 409)
    assert api.request("DELETE", f"/api/v1/devices/{mac}/credentials/url-token").status_code == 200
    assert api.post(f"/api/v1/devices/{mac}/retire").json()["device"]["state"] == "retired"
    # No GET, list or record ever shows a secret again.
    reads = [api.get(f"/api/v1/devices/{mac}").text, api.get(f"/api/v1/devices/{mac}/lines").text,
             api.get("/api/v1/devices").text, api.get(f"/api/v1/audit?device={mac}").text]
    lines = api.get(f"/api/v1/devices/{mac}/lines").json()["items"]
    assert lines[0]["has_password"] is True and "password" not in lines[0]
    logged = everything_logged(api)
    for secret in (sip_password, token, new_token):
        assert all(secret not in text for text in reads) and secret not in logged


def test_assign_from_stock(api):
    mac = new_mac()
    assert api.post("/api/v1/devices", {"mac": mac, "vendor": "yealink", "model": "T54W"}).json()["state"] == "stock"
    r = api.post(f"/api/v1/devices/{mac}/assign", {"tenant": "other"})
    assert r.status_code == 200 and r.json()["device"]["tenant"] == "other"
    problem(api.post(f"/api/v1/devices/{mac}/assign", {"tenant": "other"}), 409)


def test_import_csv_all_or_nothing_with_per_row_errors(api):
    good, dup = new_mac(), YEALINK
    bad = f"mac,vendor,model,tenant\n{good},yealink,T54W,demo\nnot-a-mac,yealink,T54W,demo\n{dup},yealink,T54W,demo\n"
    r = api.request("POST", "/api/v1/devices/import", data=bad, headers={"Content-Type": "text/csv"})
    body = problem(r, 422)
    assert [row["line"] for row in body["rows"]] == [3, 4]
    problem(api.get(f"/api/v1/devices/{good}"), 404)
    ok = f"mac,vendor,model,tenant\n{good},yealink,T54W,demo\n"
    r = api.request("POST", "/api/v1/devices/import", data=ok, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["imported"] == 1
    # Kept by content hash, outside every served path.
    kept = api.server.dir / "imports" / (r.json()["upload_sha256"] + ".csv")
    assert kept.read_text() == ok and oct(kept.stat().st_mode & 0o777) == "0o600"
    problem(api.request("POST", "/api/v1/devices/import", data=ok, headers={"Content-Type": "application/json"}), 415)


def test_vars_change_is_linted_and_secret_values_masked(api):
    r = api.request("PATCH", f"/api/v1/devices/{YEALINK}/vars",
                    json_body={"set": {"ntp_server": "pool.ntp.org", "vpn_password": "hunter2-secret"}})
    assert r.status_code == 200, r.text
    got = api.get(f"/api/v1/devices/{YEALINK}/vars").json()["vars"]
    assert got["ntp_server"] == "pool.ntp.org" and got["vpn_password"] == "********"
    assert "hunter2-secret" not in everything_logged(api)
    problem(api.request("PATCH", f"/api/v1/devices/{YEALINK}/vars", json_body={"unset": ["nope"]}), 404)
    problem(api.request("PATCH", f"/api/v1/devices/{YEALINK}/vars", json_body={"set": {"device": "x"}}), 400)


def test_bans_add_list_remove(api):
    assert api.post("/api/v1/bans", {"source": "192.0.2.0/24", "minutes": 5, "reason": "test"}).status_code == 201
    assert "192.0.2.0/24" in [b["source"] for b in api.get("/api/v1/bans").json()["items"]]
    assert api.request("DELETE", "/api/v1/bans/192.0.2.0%2F24").status_code == 204
    problem(api.post("/api/v1/bans", {"source": "nonsense"}), 400, "source")


def test_audit_query_by_device_actor_decision_and_time(api):
    mac = add_device(api)
    actor = api.server.last_audit(reason="api POST /api/v1/devices")["actor"]
    items = audit_query(api, f"device={mac}&actor={actor}", lambda i: i).json()["items"]
    assert items and all(i["record"]["actor"] == actor for i in items)
    assert api.get("/api/v1/audit?decision=deny&since=2000-01-01T00:00:00Z&limit=1000").status_code == 200
    page = api.get("/api/v1/audit?limit=1").json()
    older = api.get(f"/api/v1/audit?limit=1&cursor={page['next_cursor']}").json()
    assert older["items"][0]["id"] < page["items"][0]["id"]
    problem(api.get("/api/v1/audit?since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z"), 400, "since")


def test_tenant_auditor_sees_only_own_tenant(api):
    theirs = add_device(api, "other")
    mine = add_device(api, "demo")
    auditor = api.with_key(make_key(api.server, "auditor", "demo"))
    text = audit_query(auditor, "limit=1000", lambda items: mine in json.dumps(items)).text
    assert mine in text and theirs not in text
    problem(auditor.get("/api/v1/devices"), 403)


# --- Bad input: problem+json naming the field ---

@pytest.mark.parametrize("method,path,body,field", [
    ("POST", "/api/v1/tenants", {"name": 5}, "name"),
    ("POST", "/api/v1/tenants", {}, "name"),
    ("POST", "/api/v1/tenants", {"name": "x", "colour": "red"}, "colour"),
    ("POST", "/api/v1/tenants", {"name": "Bad Name"}, "name"),
    ("PATCH", "/api/v1/tenants/demo", {"window_days": 0}, "window_days"),
    ("PATCH", "/api/v1/tenants/demo", {"password_length": 3}, "password_length"),
    ("POST", "/api/v1/devices", {"mac": "zz", "vendor": "yealink", "model": "T54W"}, "mac"),
    ("POST", "/api/v1/devices", {"mac": "001565ffff01", "vendor": "nokia", "model": "x"}, "vendor"),
    ("PUT", f"/api/v1/devices/{YEALINK}/lines/1", {"user": "1", "registrar": "r", "port": 70000}, "port"),
    ("PUT", f"/api/v1/devices/{YEALINK}/lines/x", {"user": "1", "registrar": "r"}, "index"),
    ("GET", "/api/v1/devices?limit=0", None, "limit"),
    ("GET", "/api/v1/devices?state=broken", None, "state"),
    ("GET", "/api/v1/devices?locked=maybe", None, "locked"),
    ("GET", "/api/v1/devices?bogus=1", None, "bogus"),
    ("GET", "/api/v1/audit?since=yesterday", None, "since"),
])
def test_bad_input_is_a_problem_naming_the_field(api, method, path, body, field):
    problem(api.request(method, path, json_body=body), 400, field)


def test_repeated_or_malformed_query_parameters_are_refused(api):
    problem(api.get("/api/v1/devices?limit=1&limit=2"), 400)
    problem(api.get("/api/v1/devices?state=%zz"), 400)


def test_malformed_bodies(api):
    problem(api.request("POST", "/api/v1/tenants", data="{", headers={"Content-Type": "application/json"}), 400)
    problem(api.request("POST", "/api/v1/tenants", data='{"name":"a","name":"b"}',
                        headers={"Content-Type": "application/json"}), 400)
    problem(api.request("POST", "/api/v1/tenants", data='{"name":"a"}', headers={"Content-Type": "text/plain"}), 415)
    problem(api.request("POST", "/api/v1/tenants", data="[" * 100 + "]" * 100,
                        headers={"Content-Type": "application/json"}), 400)
    problem(api.request("POST", "/api/v1/tenants", data='{"name":"' + "a" * (2 << 20) + '"}',
                        headers={"Content-Type": "application/json"}), 413)


def test_unknown_route_and_wrong_method(api):
    problem(api.get("/api/v1/nothing"), 404)
    r = api.get(f"/api/v1/devices/{YEALINK}/reactivate")
    problem(r, 405)
    assert r.headers["Allow"] == "POST"


# --- What other products get wrong ---

def test_no_authentication_no_answer(api):
    for path in ("/api/v1/devices", "/api/v1/tenants", "/api/v1/audit", "/metrics"):
        r = api.get(path, key=None)
        problem(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_key_in_query_string_is_refused_and_never_tried(api):
    key = api.key
    r = api.get(f"/api/v1/devices?api_key={key}", key=None)
    problem(r, 400, "api_key")
    r = api.get(f"/api/v1/devices?limit={key}", key=None)
    problem(r, 400, "limit")
    assert key not in everything_logged(api)


def test_repeated_authorization_field_is_refused(api):
    raw = (f"GET /api/v1/devices HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {api.key}\r\n"
           f"Authorization: Bearer pgk_aaaaaaaa_{'a' * 32}\r\nConnection: close\r\n\r\n").encode()
    ctx = ssl.create_default_context(cafile=str(api.server.ca))
    with socket.create_connection(("127.0.0.1", api.server.admin_port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as conn:
            conn.sendall(raw)
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
    assert data.startswith(b"HTTP/1.1 400 ")


def test_wrong_revoked_and_expired_keys_look_alike(api):
    s = api.server
    revoked = make_key(s, "admin")
    s.cli("apikey", "revoke", revoked[4:12])
    wrong = api.key[:-1] + ("a" if api.key[-1] != "a" else "b")
    bodies = {k: api.get("/api/v1/devices", key=k) for k in (revoked, wrong, "pgk_nonsense", "garbage")}
    assert {r.status_code for r in bodies.values()} == {401}
    assert len({r.text for r in bodies.values()}) == 1
    assert s.last_audit(reason="api authentication failed: revoked key")["decision"] == "deny"
    assert revoked[13:] not in everything_logged(api)
    listing = s.cli("apikey", "list").stdout
    assert revoked[4:12] in listing and revoked[13:] not in listing


def test_failed_authentication_is_throttled_per_source(api):
    for _ in range(10):
        assert api.get("/api/v1/devices", key="garbage").status_code == 401
    r = api.get("/api/v1/devices", key="garbage")
    problem(r, 429)
    assert int(r.headers["Retry-After"]) >= 1
    # The source is throttled whatever it presents, so guessing learns nothing more.
    problem(api.get("/api/v1/devices"), 429)


def test_duplicate_mac_error_does_not_name_the_other_tenant(api):
    theirs = add_device(api, "other")
    scoped = api.with_key(make_key(api.server, "tenant-admin", "demo"))
    r = scoped.post("/api/v1/devices", {"mac": theirs, "vendor": "yealink", "model": "T54W"})
    body = problem(r, 409)
    assert "other" not in json.dumps(body)


def test_no_cors_unless_configured_and_never_a_wildcard(api):
    r = api.get("/api/v1/devices", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    problem(api.request("OPTIONS", "/api/v1/devices", headers={"Origin": "https://evil.example"}), 403)


def test_cors_for_a_configured_origin_only(tmp_path):
    s = Server(tmp_path, 'cors_origins = ["https://portal.example"]\n')
    s.start()
    try:
        api = Api(s, admin_key(s))
        r = api.get("/api/v1/devices", headers={"Origin": "https://portal.example"})
        assert r.headers["Access-Control-Allow-Origin"] == "https://portal.example"
        assert "Access-Control-Allow-Origin" not in api.get("/api/v1/devices", headers={"Origin": "https://x"}).headers
    finally:
        s.stop()


def test_secure_headers_on_every_answer(api):
    for r in (api.get("/api/v1/devices"), api.get("/api/v1/devices", key=None), api.get("/healthz")):
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_gets_change_nothing(api):
    before = api.server.audit_bytes().decode().count('"kind":"admin"')
    for path in ("/api/v1/devices", f"/api/v1/devices/{YEALINK}", "/api/v1/tenants", "/api/v1/audit",
                 f"/api/v1/devices/{YEALINK}/lines", "/api/v1/bans"):
        assert api.get(path).status_code == 200
    after = api.server.audit_bytes().decode().count('"kind":"admin"')
    assert after == before


def test_admin_port_is_never_a_device_port(tmp_path):
    s = Server(tmp_path)
    text = s.config.read_text()
    s.config.write_text(re.sub(r"(\[\[admin\]\][^\[]*?port = )\d+", rf"\g<1>{s.port}", text))
    p = s.cli("serve", check=False)
    assert p.returncode != 0 and "never shares a port" in p.stderr


def test_unknown_admin_config_key_is_an_error(tmp_path):
    s = Server(tmp_path, "trust_upstream_auth_header = true\n")
    p = s.cli("serve", check=False)
    assert p.returncode != 0 and "trust_upstream_auth_header" in p.stderr


def test_health_and_readiness(api):
    assert api.get("/healthz", key=None).json() == {"status": "ok"}
    r = api.get("/readyz", key=None)
    assert r.status_code == 200 and r.json()["checks"] == {"store": "ok", "audit": "ok", "listeners": "ok"}


def raw_admin(api, head: bytes):
    """Sends a request head (no body) and returns the response: the server must answer
    without waiting for a body it did not admit."""
    ctx = ssl.create_default_context(cafile=str(api.server.ca))
    with socket.create_connection(("127.0.0.1", api.server.admin_port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as conn:
            conn.sendall(head)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data


def test_a_body_is_read_only_after_its_key_and_route_admit_it(api):
    # No key: 401 at once, the 16 MB body never read (the client has not even sent it).
    r = raw_admin(api, b"POST /api/v1/devices/import HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                       b"Content-Length: 16000000\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 401 ")
    # A valid key but a JSON route: its limit (1 MiB) applies, not the import's.
    r = raw_admin(api, b"POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Authorization: Bearer " + api.key.encode() + b"\r\nContent-Length: 2000000\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 413 ")
    # A valid key whose role may not import: 403, body unread.
    auditor = make_key(api.server, "auditor")
    r = raw_admin(api, b"POST /api/v1/devices/import HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                       b"Authorization: Bearer " + auditor.encode() + b"\r\nContent-Length: 1000\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 403 ")


def test_repeated_content_type_is_refused(api):
    r = raw_admin(api, b"GET /api/v1/devices HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n"
                       b"Authorization: Bearer " + api.key.encode() + b"\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 400 ")
