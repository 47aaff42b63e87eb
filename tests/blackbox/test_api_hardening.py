"""Regression tests of the admin plane's security review: secrets in variable views and
audit records, audit growth, tenant confinement of audit records, request framing and
connection exhaustion on the admin listener, refusals audited, reactivation rotating every
secret."""
import json
import socket
import time

import pytest

from api_client import Api, admin_key, make_key, new_mac
from conftest import YEALINK, Server
from test_api import api, audit_query  # noqa: F401 (api is a fixture)


def leaves(value):
    """Every scalar in a JSON value."""
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield value


def test_secret_variables_are_masked_whatever_their_type_or_case(api):
    secrets = {"admin_password": 123456, "WEB_PASSWORD": "Sup3rSecret", "dect_access_code": "4711"}
    r = api.request("PATCH", f"/api/v1/devices/{YEALINK}/vars", json_body={"set": secrets, "force": True})
    assert r.status_code == 200, r.text
    support = api.with_key(make_key(api.server, "support"))
    r = support.get(f"/api/v1/devices/{YEALINK}/vars")
    assert r.status_code == 200, r.text
    got = r.json()["vars"]
    assert all(got[k] == "********" for k in secrets), got
    api.server.last_audit(reason="api PATCH /api/v1/devices/{mac}/vars")
    recorded = [v for record in api.server.audit() for v in leaves(record.get("detail"))]
    for value in secrets.values():
        assert value not in recorded and str(value) not in r.text, value


def test_variable_layers_are_bounded_and_audited_by_changed_keys(api):
    path = api.server.dir / "audit.log"
    start = len(api.server.audit_bytes())
    statuses = []
    for round_ in range(10):
        values = {f"filler_{round_}_{i}": "x" * 1000 for i in range(256)}
        r = api.request("PATCH", f"/api/v1/devices/{YEALINK}/vars", json_body={"set": values, "force": True})
        statuses.append(r.status_code)
        if r.status_code != 200:
            assert 400 <= r.status_code < 500 and r.headers["Content-Type"] == "application/problem+json"
            assert "set" in [e["field"] for e in r.json().get("errors", [])], r.text
    grown = len(api.server.audit_bytes()) - start
    assert grown < 6_000_000, (grown, statuses)
    assert path.exists()


def test_a_vars_change_is_audited_with_the_changed_keys_only(api):
    many = {f"setting_{i}": f"value-{i}" for i in range(100)}
    mac = f"/api/v1/devices/{YEALINK}/vars"
    assert api.request("PATCH", mac, json_body={"set": many, "force": True}).status_code == 200
    assert api.request("PATCH", mac, json_body={"set": {"setting_7": "changed"}, "force": True}).status_code == 200
    record = api.server.last_audit(reason="api PATCH /api/v1/devices/{mac}/vars")
    detail = record["detail"]
    assert detail["before"] == {"vars": {"setting_7": "value-7"}}, detail
    assert detail["after"] == {"vars": {"setting_7": "changed"}}, detail


def audit_items(api, query, until):
    return audit_query(api, query, until).json()["items"]


def test_a_tenant_never_sees_the_previous_owners_history_of_a_mac(api):
    mac = new_mac()
    device = {"mac": mac, "vendor": "yealink", "model": "T54W"}
    assert api.post("/api/v1/devices", {**device, "tenant": "other"}).status_code == 201
    r = api.request("PUT", f"/api/v1/devices/{mac}/lines/1",
                    json_body={"user": "100", "registrar": "sip.other.example", "generate_password": True})
    assert r.status_code == 200, r.text
    api.server.cli("device", "remove", mac)
    tenant_admin = api.with_key(make_key(api.server, "tenant-admin", "demo"))
    assert tenant_admin.post("/api/v1/devices", device).status_code == 201
    auditor = api.with_key(make_key(api.server, "auditor", "demo"))
    items = audit_items(auditor, f"device={mac}&limit=1000",
                        lambda i: any(x["record"].get("actor", "").startswith("api:") for x in i))
    assert items
    text = json.dumps(items)
    assert "sip.other.example" not in text and '"other"' not in text, text
    reasons = [i["record"]["reason"] for i in items]
    assert "line set" not in reasons and "device removed" not in reasons, reasons


def test_a_refused_action_is_recorded_for_the_actors_tenant_not_the_named_one(api):
    key = make_key(api.server, "tenant-admin", "demo")
    actor = "api:" + key[4:12]
    tenant_admin = api.with_key(key)
    r = tenant_admin.post("/api/v1/devices", {"mac": new_mac(), "vendor": "yealink", "model": "T54W",
                                              "tenant": "other"})
    assert r.status_code == 404, r.text
    r = tenant_admin.request("PATCH", "/api/v1/tenants/other/vars", json_body={"set": {"planted": "x"}})
    assert r.status_code == 404, r.text
    demo_auditor = api.with_key(make_key(api.server, "auditor", "demo"))
    mine = audit_items(demo_auditor, f"actor={actor}", lambda i: len(i) >= 2)
    assert sorted(i["record"]["detail"]["status"] for i in mine) == [404, 404], mine
    other_auditor = api.with_key(make_key(api.server, "auditor", "other"))
    assert audit_items(other_auditor, f"actor={actor}", lambda i: False) == []


def admin_raw(server, request, source="127.0.0.1"):
    return server.raw(request, port=server.admin_port, source=source)


@pytest.mark.parametrize("request_bytes", [
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
    b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"POST /healthz HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
])
def test_admin_listener_refuses_framings_that_smuggle(api, request_bytes):
    answer = admin_raw(api.server, request_bytes)
    assert answer.count(b"HTTP/1.") == 1, answer
    assert answer.startswith(b"HTTP/1.1 400 "), answer


def test_idle_connections_from_one_source_do_not_lock_operators_out(api):
    idle = []
    try:
        for _ in range(64):
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.connect(("127.0.0.1", api.server.admin_port))
            idle.append(s)
        time.sleep(0.5)  # every connection accepted (or refused) before the operator's
        assert api.get("/api/v1/tenants").status_code == 200
    finally:
        for s in idle:
            s.close()


def test_a_connection_that_sends_no_request_is_closed_at_the_header_deadline(tmp_path):
    s = Server(tmp_path, "header_timeout_ms = 300\n")
    s.start()
    try:
        started = time.monotonic()
        answer = s.raw(b"", port=s.admin_port)  # a handshake, then nothing
        assert time.monotonic() - started < 3
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer
    finally:
        s.stop()


def test_refused_reads_and_rate_limited_requests_are_audited(tmp_path):
    s = Server(tmp_path, "key_rate = 0.01\nkey_burst = 20\n")
    s.start()
    try:
        api = Api(s, admin_key(s))
        auditor = api.with_key(make_key(s, "auditor"))
        assert auditor.get("/api/v1/bans").status_code == 403
        assert s.last_audit(reason="api GET /api/v1/bans", decision="deny")["detail"]["status"] == 403
        statuses = [api.get("/api/v1/tenants").status_code for _ in range(22)]
        assert 429 in statuses, statuses
        assert s.last_audit(reason="api GET /api/v1/tenants", decision="deny")["detail"]["status"] == 429
    finally:
        s.stop()


def test_reactivation_replaces_a_web_password_set_as_a_device_variable(api):
    r = api.request("PATCH", f"/api/v1/devices/{YEALINK}/vars",
                    json_body={"set": {"admin_password": "Old-Web-Pass-1"}, "force": True})
    assert r.status_code == 200, r.text
    _, status, body = api.server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    assert status == 200 and b"Old-Web-Pass-1" in body
    r = api.post(f"/api/v1/devices/{YEALINK}/reactivate")
    assert r.status_code == 200, r.text
    _, status, body = api.server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    assert status == 200, body
    assert b"Old-Web-Pass-1" not in body
    assert b"static.security.user_password = admin:" in body
    record = api.server.last_audit(reason="reactivated", device=YEALINK)
    assert record["detail"]["new_admin_password"] is True
    assert record["detail"]["removed_vars"] == ["admin_password"]


def test_a_tenant_scoped_import_names_one_existing_mac_outside_the_tenant_per_attempt(api):
    theirs = [new_mac() for _ in range(3)]
    for mac in theirs:
        assert api.post("/api/v1/devices", {"mac": mac, "vendor": "yealink", "model": "T54W",
                                            "tenant": "other"}).status_code == 201
    csv = "mac,vendor,model,tenant\n" + "".join(f"{mac},yealink,T54W,demo\n" for mac in theirs)
    tenant_admin = api.with_key(make_key(api.server, "tenant-admin", "demo"))
    r = tenant_admin.request("POST", "/api/v1/devices/import", data=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    named = [mac for mac in theirs if mac in r.text]
    assert len(named) == 1, r.text
    # A platform operator sees every collision.
    r = api.request("POST", "/api/v1/devices/import", data=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and all(mac in r.text for mac in theirs), r.text
